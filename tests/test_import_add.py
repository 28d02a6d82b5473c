"""`radiotrial add`: new records after the import pass exactly the import checks, are stored in one
audited transaction, and a refusal (file, row, column, value) leaves the database unchanged."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import FILES, write_study
from typer.testing import CliRunner

from radiotrial.cli.main import app
from radiotrial.errors import InputError, RadiotrialError
from radiotrial.store.service import StudyStore
from radiotrial.study.edit import add_records
from radiotrial.study.importer import import_study
from radiotrial.study.load import load_study
from radiotrial.study.reader import read_csv_table

LAB_HEAD = "subject_id,instant,analyte,value,unit,lln,uln\n"
ADM_HEAD = ("subject_id,cycle,admin_instant,radiopharmaceutical,nuclide,calibrated_activity,"
            "calibration_instant,activity_unit,route,embolisation\n")


def _dump(db: str) -> str:
    """Every table's content, audit trail and anchor included (SQL text)."""
    con = sqlite3.connect(db)
    try:
        return "\n".join(con.iterdump())
    finally:
        con.close()


def _add(db: str, *args: str):
    return CliRunner().invoke(app, ["add", *args, "--db", db, "--user", "dm1"])


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_add_one_record_with_set(study_db):
    n0 = len(StudyStore(study_db, create=False).history())
    res = _add(study_db, "lab", "--set", "subject_id=P001", "--set", "instant=2004-03-01T09:00+01:00",
               "--set", "analyte=HGB", "--set", "value=121", "--set", "unit=g/L",
               "--reason", "cycle 2 results", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["added"] == 1 and out["audit_rows"] == 1
    assert out["keys"] == [{"subject_id": "P001", "instant": "2004-03-01T08:00:00Z",
                            "analyte": "HGB"}]
    lab = load_study(study_db).frames["lab"]
    row = lab.filter(lab["instant"].dt.month() == 3).row(0, named=True)
    assert (row["value"], row["unit"]) == (12.1, "g/dL")  # converted to canonical like an import
    with StudyStore(study_db, create=False) as store:
        rows = store.history()
        assert store.verify_audit().ok
    assert len(rows) == n0 + 1
    last = rows[-1]
    assert (last["action"], last["record_type"], last["user_name"], last["reason"],
            last["old_value"], last["source"]) == ("CREATE", "lab", "dm1", "cycle 2 results",
                                                   None, "cli")
    assert json.loads(last["new_value"])["value"] == "12.1"
    assert CliRunner().invoke(app, ["audit", "verify", "--db", study_db]).exit_code == 0


def test_add_from_csv_is_one_transaction_with_one_create_row_each(tmp_path, study_db):
    csv = _write(tmp_path, "new-adm.csv", ADM_HEAD
                 + "P001,3,2004-05-06T09:00:00Z,Y-90-DOTA-lanreotide,Y-90,1400,"
                   "2004-05-06T08:00:00Z,MBq,intravenous,no\n"
                 + "P003,1,2004-03-10T09:00:00Z,Y-90-DOTA-lanreotide,Y-90,1.3,"
                   "2004-03-10T08:00:00Z,GBq,intravenous,yes\n")
    n0 = len(StudyStore(study_db, create=False).history())
    res = _add(study_db, "administration", "--from-csv", csv)
    assert res.exit_code == 0, res.output
    adm = load_study(study_db).frames["administration"]
    assert adm.height == 5
    assert adm.filter(adm["cycle"] == 3)["calibrated_activity"].to_list() == [1.4]
    with StudyStore(study_db, create=False) as store:
        new = store.history()[n0:]
        assert store.verify_audit().ok
    assert [(r["action"], r["subject_id"], r["reason"]) for r in new] == [
        ("CREATE", "P001", None), ("CREATE", "P003", None)]
    assert all(r["source"] == f"cli:{Path(csv).resolve()}" for r in new)


BAD = {
    # what, record type, CSV text, expected (file, row, column, value) and reason fragment
    "type": ("lab", LAB_HEAD + "P001,2004-03-01T08:00:00Z,HGB,lots,g/dL,,\n",
             ("bad.csv", 2, "value", "lots"), "not a valid number"),
    "range": ("lab", LAB_HEAD + "P001,2004-03-01T08:00:00Z,HGB,-3,g/dL,,\n",
              ("bad.csv", 2, "value", "-3"), "out of range"),
    "unit": ("lab", LAB_HEAD + "P001,2004-03-01T08:00:00Z,HGB,12,g/dl?,,\n",
             ("bad.csv", 2, "unit", "g/dl?"), "unknown unit"),
    "naive instant": ("lab", LAB_HEAD + "P001,2004-03-01T08:00:00,HGB,12,g/dL,,\n",
                      ("bad.csv", 2, "instant", "2004-03-01T08:00:00"), "UTC offset"),
    "unknown subject": ("lab", LAB_HEAD + "P404,2004-03-01T08:00:00Z,HGB,12,g/dL,,\n",
                        ("bad.csv", 2, "subject_id", "P404"), "unknown subject"),
    "unknown lesion": ("measurement", "subject_id,lesion_id,assessment_date,longest_diameter,"
                       "unit,state\nP001,T09,2004-04-10,3,cm,present\n",
                       ("bad.csv", 2, "lesion_id", "T09"), "unknown lesion"),
    "key already stored": ("lab", LAB_HEAD + "P001,2004-01-14T09:00:00+01:00,HGB,12,g/dL,,\n",
                           ("bad.csv", 2, "analyte", "HGB"), "already stored"),
    "duplicate in file": ("lab", LAB_HEAD + "P001,2004-03-01T08:00:00Z,HGB,12,g/dL,,\n"
                          "P001,2004-03-01T08:00:00Z,HGB,12,g/dL,,\n",
                          ("bad.csv", 3, "analyte", "HGB"), "duplicate record"),
    "before screening window": ("lab", LAB_HEAD + "P002,2003-06-01T08:00:00Z,HGB,12,g/dL,,\n",
                                ("bad.csv", 2, "instant", "2003-06-01"), "before enrolment"),
    "cycle order": ("administration", ADM_HEAD + "P001,3,2004-02-01T09:00:00Z,Y,Y-90,1,"
                    "2004-02-01T08:00:00Z,GBq,intravenous,no\n",
                    ("bad.csv", 2, "admin_instant", "2004-02-01T09:00:00+00:00"),
                    "not after the administration of cycle 2"),
    # P002 died 2004-10-01 (stored follow_up): the stored record is named by database id
    "after stored death": ("administration", ADM_HEAD + "P002,2,2004-11-01T09:00:00Z,Y,Y-90,1,"
                           "2004-11-01T08:00:00Z,GBq,intravenous,no\n",
                           ("follow_up (database id)", 2, "death_date", "2004-10-01"),
                           "before the last administration (2004-11-01)"),
    "unknown column": ("lab", "subject_id,instant,analyte,value,unit,colour\n"
                       "P001,2004-03-01T08:00:00Z,HGB,12,g/dL,blue\n",
                       ("bad.csv", 1, "colour", None), "unknown column"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_records_are_refused_and_change_nothing(tmp_path, study_db, case):
    name, text, where, why = BAD[case]
    csv = _write(tmp_path, "bad.csv", text)
    before = _dump(study_db)
    res = _add(study_db, name, "--from-csv", csv)
    assert res.exit_code != 0
    assert isinstance(res.exception, InputError), res.output
    located = [(q.file, q.row, q.field, q.value) for q in res.exception.problems
               if why in q.reason]
    assert where in located, res.exception.problems
    assert "nothing was added" in str(res.exception)
    assert _dump(study_db) == before


def test_one_bad_row_refuses_the_good_ones_too(tmp_path, study_db):
    csv = _write(tmp_path, "labs.csv", LAB_HEAD + "P001,2004-03-01T08:00:00Z,HGB,12,g/dL,,\n"
                 "P001,2004-03-01T08:00:00Z,PLAT,-5,10^9/L,,\n")
    before = _dump(study_db)
    with pytest.raises(InputError, match=r"labs\.csv, row 3, column 'value' \(value '-5'\)"):
        add_records(study_db, "lab", read_csv_table(Path(csv))[0], file="labs.csv", user="u")
    assert _dump(study_db) == before


def test_set_errors_name_the_option_and_value(study_db):
    before = _dump(study_db)
    res = _add(study_db, "subject", "--set", "subject_id=P004", "--set", "sex=X",
               "--set", "age=30", "--set", "enrolment_date=2004-13-01", "--set", "histology=x",
               "--set", "site_id=S9")
    assert res.exit_code != 0
    msg = str(res.exception)
    assert "--set, column 'sex' (value 'X'): not allowed" in msg
    assert "--set, column 'enrolment_date' (value '2004-13-01'): not a valid date" in msg
    assert "--set, column 'site_id' (value 'S9'): unknown site" in msg
    assert _dump(study_db) == before


def test_usage_errors(tmp_path, study_db):
    def err(*args: str) -> str:
        res = _add(study_db, *args)
        assert res.exit_code != 0 and isinstance(res.exception, RadiotrialError)
        return str(res.exception)

    before = _dump(study_db)
    assert "either --set" in err("lab")
    csv = _write(tmp_path, "lab.csv", LAB_HEAD)
    assert "either --set" in err("lab", "--set", "a=b", "--from-csv", csv)
    assert "no data rows" in err("lab", "--from-csv", csv)
    assert "unknown record type" in err("labs", "--set", "a=b")
    assert "write column=value" in err("lab", "--set", "subject_id")
    assert _dump(study_db) == before
    with pytest.raises(RadiotrialError, match="database not found"):
        add_records(str(tmp_path / "none.db"), "lab", {"subject_id": "P001"}, user="u")
    StudyStore(str(tmp_path / "empty.db")).close()
    with pytest.raises(RadiotrialError, match="holds no study yet"):
        add_records(str(tmp_path / "empty.db"), "site", {"site_id": "S1"}, user="u")


def test_add_equals_import(tmp_path):
    """Adding a record type's file to a study imported without it gives exactly the import's data;
    a bad file gives the import's problems (same row, column, value and reason)."""
    full = import_study(write_study(tmp_path / "full"), str(tmp_path / "full.db"), user="u")
    rest = {k: v for k, v in FILES.items() if k != "lab"}
    import_study(write_study(tmp_path / "part", rest), str(tmp_path / "part.db"), user="u")
    lab = _write(tmp_path, "lab.csv", FILES["lab"])
    add_records(str(tmp_path / "part.db"), "lab", read_csv_table(Path(lab))[0], file="lab.csv",
                user="u")
    assert load_study(str(tmp_path / "part.db")).data_hash == full.data_hash

    bad_lab = (FILES["lab"] + "P001,2004-01-14,ALT,x,U/L,,\nP404,2004-01-14T08:00:00Z,ALT,1,U/L,2,1\n"
               "P002,2003-01-01T08:00:00Z,HGB,1,mmol/L,,\n")
    with pytest.raises(InputError) as imp:
        import_study(write_study(tmp_path / "bad", {**rest, "lab": bad_lab}),
                     str(tmp_path / "bad.db"), user="u")
    import_study(write_study(tmp_path / "part2", rest), str(tmp_path / "part2.db"), user="u")
    with pytest.raises(InputError) as add:
        add_records(str(tmp_path / "part2.db"), "lab",
                    read_csv_table(Path(_write(tmp_path, "lab.csv", bad_lab)))[0],
                    file="lab.csv", user="u")

    def norm(exc):
        return sorted((q.row, q.field, str(q.value), q.reason.replace(
            "(no such subject record is stored)", "(not in subject.csv)"))
            for q in exc.value.problems)

    assert norm(add) == norm(imp) and len(norm(add)) >= 4


def test_add_sites_and_subjects(study_db):
    add_records(study_db, "site", {"site_id": "S3", "name": "Centre three"}, user="u")
    add_records(study_db, "subject", {"subject_id": "P004", "site_id": "S3", "sex": "F",
                                      "age": "55", "enrolment_date": "2005-01-03",
                                      "histology": "carcinoid"}, user="u")
    with pytest.raises(InputError, match="already stored"):
        add_records(study_db, "site", {"site_id": "S1"}, user="u")
    with pytest.raises(InputError, match="already stored"):
        add_records(study_db, "subject", {"subject_id": "P004", "sex": "F", "age": "55",
                                          "enrolment_date": "2005-01-03", "histology": "x"},
                    user="u")
    s = load_study(study_db)
    assert s.frames["subject"].filter(s.frames["subject"]["subject_id"] == "P004")["site_id"][0] \
        == "S3"
    with StudyStore(study_db, create=False) as store:
        assert store.verify_audit().ok
