"""Import: valid study → typed canonical frames; every kind of bad input → located error, DB unchanged."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from conftest import FILES, STUDY_YAML, write_study
from typer.testing import CliRunner

from radiotrial.cli.main import app
from radiotrial.errors import InputError, RadiotrialError
from radiotrial.store.service import StudyStore
from radiotrial.study.importer import PAUSE_ENV, import_study
from radiotrial.study.load import load_study

RADIOTRIAL = str(Path(sys.executable).with_name("radiotrial"))


def _counts(db: str) -> tuple[int, int]:
    con = sqlite3.connect(db)
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        recs = sum(con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables
                   if t not in ("alembic_version",))
        audit = con.execute("select count(*) from audit_log").fetchone()[0]
        return recs, audit
    finally:
        con.close()


def test_load_gives_typed_canonical_frames(study_db):
    s = load_study(study_db)
    assert s.study_id == "LANREO-TEST" and s.config.response.criteria == "WHO"
    adm = s.frames["administration"]
    assert adm.schema["admin_instant"] == pl.Datetime("us", "UTC")
    assert adm.schema["embolisation"] == pl.Boolean
    assert adm.get_column("calibrated_activity").to_list() == [1.5, 1.5, 1.2]  # 1500 MBq → 1.5
    assert set(adm.get_column("activity_unit")) == {"GBq"}
    assert str(adm.get_column("admin_instant")[0]) == "2004-01-15 09:30:00+00:00"  # +01:00 → UTC
    meas = s.frames["measurement"]
    assert meas.filter(pl.col("assessment_date") == pl.date(2004, 4, 10))["longest_diameter"][0] == 31.0
    assert set(meas["unit"]) == {"mm"}
    lab = s.frames["lab"]
    hgb = lab.filter(pl.col("analyte") == "HGB").row(0, named=True)
    assert (hgb["value"], hgb["unit"], hgb["lln"], hgb["uln"]) == (13.0, "g/dL", 12.0, 16.0)
    bili = lab.filter(pl.col("analyte") == "BILI").row(0, named=True)
    assert bili["value"] == pytest.approx(17.104) and bili["unit"] == "umol/L"
    assert s.frames["subject"].schema["enrolment_date"] == pl.Date
    assert len(s.data_hash) == 64


def _mutate(name: str, old: str, new: str) -> dict[str, str]:
    files = dict(FILES)
    assert old in files[name], (name, old)
    files[name] = files[name].replace(old, new, 1)
    return files


# (case, files, expected file, row, column, value)
BAD = [
    ("wrong type", _mutate("subject", ",63,", ",sixty,"), "subject.csv", 2, "age", "sixty"),
    ("negative value", _mutate("measurement", "2004-01-08,42,", "2004-01-08,-42,"),
     "measurement.csv", 2, "longest_diameter", "-42"),
    ("unknown unit", _mutate("lab", "130,g/L", "130,g/dl/x"), "lab.csv", 2, "unit", "g/dl/x"),
    ("unknown activity unit", _mutate("administration", ",GBq,intra-arterial hepatic,no",
                                      ",kBq,intra-arterial hepatic,no"),
     "administration.csv", 2, "activity_unit", "kBq"),
    ("unknown lesion", _mutate("measurement", "P002,T01,", "P002,T09,"), "measurement.csv", 4,
     "lesion_id", "T09"),
    ("death before last administration", _mutate("follow_up", "P002,2004-09-01,2004-10-01",
                                                 "P002,2004-01-01,2004-01-02"),
     "follow_up.csv", 3, "death_date", "2004-01-02"),
    ("measurement before enrolment", _mutate("measurement", "P001,T01,2004-01-08",
                                             "P001,T01,2003-01-08"),
     "measurement.csv", 2, "assessment_date", "2003-01-08"),
    ("cycles out of order", _mutate("administration", "P001,2,2004-03-11T10:00:00Z",
                                    "P001,2,2004-01-11T10:00:00Z"),
     "administration.csv", 3, "admin_instant", "2004-01-11T10:00:00+00:00"),
    ("duplicate subject", _mutate("subject", "P003,S1,F,71", "P001,S1,F,71"), "subject.csv", 4,
     "subject_id", "P001"),
    ("missing required column", {**FILES, "lesion": FILES["lesion"].replace("role,", "", 1)
                                 .replace("target,", "")}, "lesion.csv", 1, "role", None),
    ("naive instant", _mutate("lab", "2004-02-04T08:00:00Z", "2004-02-04T08:00:00"), "lab.csv",
     5, "instant", "2004-02-04T08:00:00"),
    ("unknown subject", _mutate("lab", "P002,2004-02-04", "P009,2004-02-04"), "lab.csv", 5,
     "subject_id", "P009"),
]


@pytest.mark.parametrize("case,files,file,row,column,value", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_located_and_writes_nothing(tmp_path, case, files, file, row, column, value):
    folder = write_study(tmp_path / "s", files)
    db = str(tmp_path / "x.db")
    StudyStore(db).close()  # an existing, empty database
    before = _counts(db)
    with pytest.raises(InputError) as err:
        import_study(folder, db, user="t")
    hits = [p for p in err.value.problems if (p.file, p.row, p.field) == (file, row, column)]
    assert hits, f"{case}: {err.value}"
    assert hits[0].value == value
    msg = str(err.value)
    assert file in msg and f"row {row}" in msg and column in msg
    assert _counts(db) == before == (0, 0)


def test_malformed_yaml_names_line(tmp_path):
    folder = write_study(tmp_path / "s", config="study_id: X\ntitle: [unclosed\n")
    with pytest.raises(InputError) as err:
        import_study(folder, str(tmp_path / "x.db"), user="t")
    assert err.value.problems[0].file == "study.yaml" and err.value.problems[0].row is not None
    folder = write_study(tmp_path / "t", config=STUDY_YAML.replace("WHO", "WHOO"))
    with pytest.raises(InputError) as err:
        import_study(folder, str(tmp_path / "y.db"), user="t")
    p = err.value.problems[0]
    assert (p.file, p.row, p.field, p.value) == ("study.yaml", 6, "response.criteria", "WHOO")


def test_all_errors_of_all_files_reported_together(tmp_path):
    files = _mutate("lab", "130,g/L", "-130,g/L")
    files["lab"] = files["lab"].replace("250,10^9/L", "250,furlongs")
    files["subject"] = files["subject"].replace(",63,", ",-5,")
    folder = write_study(tmp_path / "s", files, config="study_id: bad id!\ntitle: t\n")
    with pytest.raises(InputError) as err:
        import_study(folder, str(tmp_path / "x.db"), user="t")
    where = {(p.file, p.row, p.field) for p in err.value.problems}
    assert {("lab.csv", 2, "value"), ("lab.csv", 3, "unit"), ("subject.csv", 2, "age"),
            ("study.yaml", 1, "study_id")} <= where


def test_cli_bad_input_exits_nonzero_without_traceback(tmp_path):
    folder = write_study(tmp_path / "s", _mutate("subject", ",63,", ",sixty,"))
    db = tmp_path / "x.db"
    out = subprocess.run([RADIOTRIAL, "import", str(folder), "--db", str(db)],
                         capture_output=True, text=True, check=False)
    assert out.returncode != 0
    assert "subject.csv, row 2, column 'age' (value 'sixty')" in out.stderr.replace("\n", " ")
    assert "Traceback" not in out.stderr


def test_reimport_same_data_is_idempotent_different_refused(tmp_path, study_dir, study_db):
    before = _counts(study_db)
    again = import_study(study_dir, study_db, user="t")
    assert again.status == "unchanged" and _counts(study_db) == before
    changed = write_study(tmp_path / "c", _mutate("lab", "130,g/L", "131,g/L"))
    with pytest.raises(RadiotrialError, match="already holds study LANREO-TEST"):
        import_study(changed, study_db, user="t")
    assert _counts(study_db) == before


def test_cli_import_json_summary(tmp_path, study_dir):
    res = CliRunner().invoke(app, ["import", str(study_dir), "--db", str(tmp_path / "j.db"),
                                   "--json", "--user", "alice"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["status"] == "imported" and data["records"]["lab"] == 4
    assert data["audit_rows"] == 1 + sum(data["records"].values())


def test_xlsx_import_matches_csv(tmp_path, study_dir, study_db):
    from radiotrial.study.exporter import export_study

    export_study(study_db, tmp_path / "x", fmt="xlsx")
    s = import_study(tmp_path / "x", str(tmp_path / "x.db"), user="t")
    assert s.data_hash == load_study(study_db).data_hash


def test_sigkill_during_import_leaves_database_as_before(tmp_path, study_dir):
    db = tmp_path / "k.db"
    StudyStore(str(db)).close()
    before = _counts(str(db))
    env = {**os.environ, PAUSE_ENV: "60"}
    proc = subprocess.Popen([RADIOTRIAL, "import", str(study_dir), "--db", str(db)], env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        line = proc.stderr.readline()
        assert "paused inside its transaction" in line
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert _counts(str(db)) == before == (0, 0)
    summary = import_study(study_dir, str(db), user="t")  # and the database still works
    assert summary.status == "imported"
    with StudyStore(str(db)) as store:
        assert store.verify_audit().ok


def test_lab_file_of_100k_rows_imports(tmp_path):
    n = 100_000
    subj = FILES["subject"]
    instants = pl.datetime_range(pl.datetime(2004, 1, 10, time_zone="UTC"),
                                 pl.datetime(2004, 1, 10, time_zone="UTC") + pl.duration(minutes=n - 1),
                                 "1m", eager=True)
    lab = pl.DataFrame({
        "subject_id": ["P001"] * n, "instant": instants.dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "analyte": ["HGB"] * n, "value": [str(100 + i % 50) for i in range(n)],
        "unit": ["g/L"] * n, "lln": ["120"] * n, "uln": ["160"] * n,
    })
    folder = write_study(tmp_path / "big", {"subject": subj, "site": FILES["site"],
                                            "follow_up": "subject_id,last_known_alive_date\n"})
    lab.write_csv(folder / "lab.csv")
    t0 = time.perf_counter()
    s = import_study(folder, str(tmp_path / "big.db"), user="t")
    elapsed = time.perf_counter() - t0
    print(f"100k lab rows imported in {elapsed:.1f} s")
    assert s.records["lab"] == n and s.audit_rows == n + 1 + 2 + 3  # study.yaml, sites, subjects


def test_validate_checks_like_import_and_writes_nothing(tmp_path, study_dir):
    from radiotrial.study.importer import validate_study

    before = sorted(p.name for p in tmp_path.rglob("*"))
    summary = validate_study(study_dir)
    assert summary.status == "valid" and summary.records["subject"] > 0
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no database, no file
    db = str(tmp_path / "after.db")
    import_study(study_dir, db, user="test")
    assert load_study(db).data_hash == summary.data_hash


def test_validate_reports_the_same_problems_as_import(tmp_path):
    from radiotrial.study.importer import validate_study

    folder = write_study(tmp_path / "bad",
                         _mutate("measurement", "2004-01-08,42,", "2004-01-08,-42,"))
    with pytest.raises(InputError) as by_validate:
        validate_study(folder)
    with pytest.raises(InputError) as by_import:
        import_study(folder, str(tmp_path / "x.db"), user="test")
    assert by_validate.value.problems == by_import.value.problems
    assert [(p.file, p.field, p.value) for p in by_validate.value.problems] == [
        ("measurement.csv", "longest_diameter", "-42")]


def test_cli_validate_exit_codes(tmp_path, study_dir):
    ok = subprocess.run([sys.executable, "-m", "radiotrial", "validate", str(study_dir)],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "is valid" in ok.stdout
    folder = write_study(tmp_path / "bad",
                         _mutate("measurement", "2004-01-08,42,", "2004-01-08,-42,"))
    bad = subprocess.run([sys.executable, "-m", "radiotrial", "validate", str(folder)],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "longest_diameter" in bad.stderr
    assert "Traceback" not in bad.stderr
