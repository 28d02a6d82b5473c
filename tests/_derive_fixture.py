"""A small hand-made study (frames plus engine outputs) for the derivation and report tests."""

from __future__ import annotations

import datetime as dt

import polars as pl

from radiotrial.study.config import StudyConfig
from radiotrial.study.engines import EngineOutputs

D = dt.date
UTC = dt.UTC


def T(y, m, d, h=10):
    return dt.datetime(y, m, d, h, tzinfo=UTC)


def frames() -> dict[str, pl.DataFrame]:
    subject = pl.DataFrame({
        "subject_id": ["S01", "S02", "S03", "S04"],
        "site_id": ["A"] * 4,
        "sex": ["M", "F", "M", "F"],
        "age": [57, 21, 69, 60],
        "enrolment_date": [D(2004, 1, 2), D(2004, 1, 15), D(2004, 1, 20), D(2004, 1, 5)],
        "histology": ["neuroendocrine carcinoma"] * 4,
        "primary_site": ["small intestine", "pancreas", "unknown", "small intestine"],
        "liver_metastases": [True] * 4,
        "performance_status": [0, 1, 1, 0],
    })
    administration = pl.DataFrame({
        "subject_id": ["S01", "S01", "S02", "S04"],
        "cycle": [1, 2, 1, 1],
        # S01 cycle 1 at 23:00 UTC on 9 Jan (10 Jan in Paris): the UTC date, 9 Jan, counts.
        "admin_instant": [T(2004, 1, 9, 23), T(2004, 3, 5), T(2004, 2, 1), T(2004, 1, 15)],
        "radiopharmaceutical": ["Y-90-DOTA-lanreotide"] * 4,
        "nuclide": ["Y-90"] * 4,
        "calibrated_activity": [1.1, 1.0, 0.9, 1.2],
        "residual_activity": [0.05, 0.04, None, 0.1],
        "route": ["intra-arterial hepatic"] * 4,
        "embolisation": [False, True, False, False],
    }).with_columns(pl.col("admin_instant").cast(pl.Datetime("us", "UTC")))
    follow_up = pl.DataFrame({
        "subject_id": ["S01", "S02", "S03", "S04"],
        "last_known_alive_date": [D(2004, 8, 30), D(2004, 3, 10), D(2004, 2, 1), D(2005, 1, 15)],
        "death_date": [D(2004, 9, 1), D(2004, 3, 15), None, None],
    })
    eligibility = pl.DataFrame({
        "subject_id": ["S01", "S02", "S03", "S03", "S04"],
        "criterion": ["uptake", "uptake", "uptake", "progression", "uptake"],
        "met": [True, True, False, True, True],
    })
    return {"subject": subject, "administration": administration, "follow_up": follow_up,
            "eligibility": eligibility}


def outputs() -> EngineOutputs:
    tp = pl.DataFrame({
        "subject_id": ["S01", "S01", "S01", "S02", "S04", "S04"],
        "assessment_date": [D(2004, 1, 5), D(2004, 4, 1), D(2004, 6, 1), D(2004, 1, 20),
                            D(2004, 1, 10), D(2004, 4, 10)],
        "sum": [1000.0, 400.0, 600.0, 500.0, 800.0, 700.0],
        "response": [None, "PR", "PD", None, None, "SD"],
    })
    subj = pl.DataFrame({"subject_id": ["S01", "S02", "S04"], "bor": ["PR", "NE", "SD"]})
    mk = pl.DataFrame({"subject_id": ["S01", "S02", "S04"], "evaluable": [True, False, True],
                       "responder": [True, None, False]})
    cl = pl.DataFrame({"subject_id": ["S01", "S02", "S04"], "evaluable": [True, True, True],
                       "improved": [True, False, True]})
    labs = pl.DataFrame({
        "subject_id": ["S01"] * 3 + ["S04"],
        "instant": [T(2004, 1, 8), T(2004, 2, 10), T(2004, 3, 1), T(2004, 2, 1)],
        "analyte": ["PLAT"] * 4,
        "value": [250.0, 40.0, 200.0, 180.0],
        "unit": ["10^9/L"] * 4, "lln": [150.0] * 4, "uln": [400.0] * 4,
        "term": ["Platelets"] * 4,
        "grade": [0, -3, 0, 0],
    }).with_columns(pl.col("instant").cast(pl.Datetime("us", "UTC")))
    worst = pl.DataFrame({"subject_id": ["S01", "S04"], "analyte": ["PLAT", "PLAT"],
                          "term": ["Platelets", "Platelets"], "worst_grade": [3, 0],
                          "reversible": [True, None], "haematological": [True, True]})
    dose = pl.DataFrame({"subject_id": ["S01", "S01", "S02", "S04"], "cycle": [1, 2, 1, 1],
                         "administered_gbq": [1.0, 0.9, 0.9, 1.1],
                         "liver_dose_gy": [10.0, 9.0, 9.0, 11.0]})
    # the protocol engine's eligibility_summary shape: S03 fails "uptake" (see frames()).
    eligibility = pl.DataFrame({
        "subject_id": ["S01", "S02", "S03", "S04"],
        "status": ["eligible", "eligible", "not eligible", "eligible"],
        "eligible": [True, True, False, True],
        "reason": [None, None, "uptake", None],
    })
    return EngineOutputs(response_tp=tp, response_subj=subj, marker_subj=mk, clinical_subj=cl,
                         tox_labs=labs, tox_worst=worst, dose_admin=dose, eligibility=eligibility)


def config() -> StudyConfig:
    return StudyConfig.model_validate({"study_id": "LANREO-2005", "title": "test study",
                                       "toxicity": {"criteria": "ctc-v2"}})
