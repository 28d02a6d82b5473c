"""Shared fixtures: a small valid study folder covering every record type."""

from __future__ import annotations

from pathlib import Path

import pytest

STUDY_YAML = """\
study_id: LANREO-TEST
title: Hepatic intra-arterial Y-90-DOTA-lanreotide (test study)
protocol:
  cycle_interval_days: 56
response:
  criteria: WHO
"""

FILES = {
    "site": "site_id,name\nS1,Centre one\nS2,Centre two\n",
    "subject": (
        "subject_id,site_id,sex,age,birth_year,enrolment_date,histology,primary_site,"
        "liver_metastases,progression_date,performance_status\n"
        "P001,S1,M,63,,2004-01-10,neuroendocrine carcinoma,small intestine,yes,2003-11-01,1\n"
        "P002,S2,F,,1950,2004-02-01,neuroendocrine carcinoma,pancreas,true,,0\n"
        "P003,S1,F,71,,2004-03-05,carcinoid,unknown,false,,2\n"
    ),
    "eligibility": "subject_id,criterion,met,assessed_date,note\nP001,UPTAKE,true,2004-01-05,\n",
    "scintigraphy": (
        "subject_id,tracer,scan_date,uptake_grade,tumour_counts,normal_liver_counts,"
        "lung_shunt_fraction\nP001,In-111 pentetreotide,2003-12-20,3,1200,400,\n"
    ),
    "administration": (
        "subject_id,cycle,admin_instant,radiopharmaceutical,nuclide,calibrated_activity,"
        "calibration_instant,residual_activity,residual_instant,activity_unit,route,embolisation,"
        "embolisation_agent,liver_mass_kg,tumour_mass_kg\n"
        "P001,1,2004-01-15T10:30:00+01:00,Y-90-DOTA-lanreotide,Y-90,1.5,2004-01-15T08:00:00Z,"
        "0.05,2004-01-15T12:00:00Z,GBq,intra-arterial hepatic,no,,1.8,0.4\n"
        "P001,2,2004-03-11T10:00:00Z,Y-90-DOTA-lanreotide,Y-90,1500,2004-03-11T08:00:00Z,,,MBq,"
        "intra-arterial hepatic,false,,,\n"
        "P002,1,2004-02-05T09:00:00Z,Y-90-DOTA-lanreotide,Y-90,1.2,2004-02-05T08:00:00Z,,,GBq,"
        "intra-arterial hepatic,yes,lipiodol,,\n"
    ),
    "lesion": (
        "subject_id,lesion_id,organ,role,nodal,method\nP001,T01,liver,target,no,CT\n"
        "P001,NT01,liver,non-target,false,CT\nP002,T01,liver,target,no,MRI\n"
    ),
    "measurement": (
        "subject_id,lesion_id,assessment_date,longest_diameter,perpendicular_diameter,short_axis,"
        "unit,state\nP001,T01,2004-01-08,42,30,,mm,present\nP001,T01,2004-04-10,3.1,2.2,,cm,"
        "present\nP002,T01,2004-01-20,25.5,20,,mm,present\n"
    ),
    "tumour_assessment": (
        "subject_id,assessment_date,modality,non_target_status,new_lesions,reader\n"
        "P001,2004-04-10,CT,non-CR/non-PD,false,R1\n"
    ),
    "lab": (
        "subject_id,instant,analyte,value,unit,lln,uln\n"
        "P001,2004-01-14T08:00:00Z,HGB,130,g/L,120,160\n"
        "P001,2004-01-14T08:00:00Z,PLAT,250,10^9/L,150,400\n"
        "P001,2004-01-14T08:00:00Z,BILI,1.0,mg/dL,,1.2\n"
        "P002,2004-02-04T08:00:00Z,CREAT,80,umol/L,45,90\n"
    ),
    "marker": "subject_id,marker,sample_date,value,unit,uln\nP001,CgA,2004-01-12,450,ng/mL,100\n",
    "clinical": (
        "subject_id,assessment_date,symptom_status,performance_status,notes\n"
        "P001,2004-01-12,,1,flushing\nP001,2004-04-10,improved,0,\n"
    ),
    "adverse_event": (
        "subject_id,term,grade,start_date,end_date,serious,attribution\n"
        "P001,Nausea,1,2004-01-16,2004-01-18,no,probable\n"
    ),
    "follow_up": (
        "subject_id,last_known_alive_date,death_date,death_cause,new_therapy_date\n"
        "P001,2005-06-01,,,\nP002,2004-09-01,2004-10-01,progression,\nP003,2004-06-01,,,\n"
    ),
}


def write_study(folder: Path, files: dict[str, str] | None = None,
                config: str = STUDY_YAML) -> Path:
    """Write a study folder (``files``: record type → CSV text) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.yaml").write_text(config, encoding="utf-8")
    for name, text in (FILES if files is None else files).items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def study_dir(tmp_path: Path) -> Path:
    """A valid study folder (all record types, mixed units)."""
    return write_study(tmp_path / "study")


@pytest.fixture
def study_db(tmp_path: Path, study_dir: Path) -> str:
    """A database holding the study of ``study_dir``."""
    from radiotrial.study.importer import import_study

    db = str(tmp_path / "study.db")
    import_study(study_dir, db, user="tester")
    return db
