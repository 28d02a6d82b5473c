"""QA findings on import / export / data commands: exact XLSX round trip, administration before
enrolment, malformed CSV and empty rows located, decimal-comma hint, edit/audit messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FILES, write_study
from typer.testing import CliRunner

from radiotrial.cli.main import app
from radiotrial.errors import InputError, RadiotrialError
from radiotrial.study.edit import edit_record
from radiotrial.study.exporter import export_study
from radiotrial.study.importer import import_study, validate_study
from radiotrial.study.load import load_study

#: Non-round doubles that need all 17 significant digits (openpyxl's '%.16g' loses them).
HGB = ["11.279407025459232", "0.30000000000000004", "1.2345678901234567e-7"]


def _problems(folder: Path) -> list:
    with pytest.raises(InputError) as exc:
        validate_study(folder)
    return exc.value.problems


# ----------------------------------------------------------------------------------------------
# 1. XLSX export round trip is exact


def test_csv_and_xlsx_exports_reimport_to_the_same_hash(tmp_path):
    lab = FILES["lab"] + "".join(
        f"P002,2004-02-0{i + 1}T09:00:00Z,HGB,{v},g/dL,,\n" for i, v in enumerate(HGB))
    folder = write_study(tmp_path / "s", {**FILES, "lab": lab})
    db = str(tmp_path / "s.db")
    original = import_study(folder, db, user="t").data_hash
    csv = export_study(db, tmp_path / "csv", fmt="csv", user="t")
    xlsx = export_study(db, tmp_path / "xlsx", fmt="xlsx", user="t")
    assert csv.data_hash == xlsx.data_hash == original
    hashes = {fmt: import_study(tmp_path / fmt, str(tmp_path / f"{fmt}.db"), user="t").data_hash
              for fmt in ("csv", "xlsx")}
    assert hashes == {"csv": original, "xlsx": original}
    values = load_study(str(tmp_path / "xlsx.db")).frames["lab"].get_column("value").to_list()
    for v in HGB:
        assert float(v) in values  # bit-exact double, not a 15/16-digit neighbour


# ----------------------------------------------------------------------------------------------
# 2. administration before enrolment


def _with_admin(tmp_path: Path, instant: str) -> Path:
    adm = FILES["administration"].replace("2004-02-05T09:00:00Z", instant, 1)
    return write_study(tmp_path / "s", {**FILES, "administration": adm})


def test_administration_before_enrolment_is_an_error(tmp_path):
    problems = _problems(_with_admin(tmp_path, "2004-01-31T09:00:00Z"))  # enrolment 2004-02-01
    [p] = [p for p in problems if p.field == "admin_instant"]
    assert (p.file, p.row, p.value) == ("administration.csv", 4, "2004-01-31")
    assert "before enrolment_date 2004-02-01" in p.reason
    assert "treatment cannot precede enrolment" in p.reason


def test_administration_on_the_enrolment_day_is_allowed(tmp_path):
    assert validate_study(_with_admin(tmp_path, "2004-02-01T00:00:00Z")).records["administration"] == 3


def test_screening_records_keep_the_screening_window(tmp_path):
    # a lab 60 days before enrolment (screening) is still accepted
    lab = FILES["lab"].replace("P002,2004-02-04T08:00:00Z", "P002,2003-12-03T08:00:00Z")
    validate_study(write_study(tmp_path / "s", {**FILES, "lab": lab}))


# ----------------------------------------------------------------------------------------------
# 3. malformed CSV, 4. empty rows, 6. decimal comma


def test_unquoted_comma_names_file_and_row(tmp_path):
    clinical = FILES["clinical"] + "P001,2004-05-10,improved,0,fewer flushes, less diarrhoea\n"
    folder = write_study(tmp_path / "s", {**FILES, "clinical": clinical})
    [p] = _problems(folder)
    assert (p.file, p.row) == ("clinical.csv", 4)
    assert 'quote text that contains commas ("...")' in p.reason
    # quoted, the same text is fine
    fixed = clinical.replace("fewer flushes, less diarrhoea", '"fewer flushes, less diarrhoea"')
    validate_study(write_study(tmp_path / "t", {**FILES, "clinical": fixed}))


def test_empty_rows_are_skipped_and_row_numbers_kept(tmp_path):
    lines = FILES["lab"].splitlines()
    # header, row 2, blank row 3, ',,,' row 4, row 5, ' , ' row 6, bad value at row 7
    lab = "\n".join([lines[0], lines[1], "", ",,,,,,", lines[2], " , ,,,,,", lines[3],
                     lines[4].replace(",80,", ",x,"), "", ""]) + "\n"
    folder = write_study(tmp_path / "s", {**FILES, "lab": lab})
    [p] = _problems(folder)
    assert (p.file, p.row, p.field, p.value) == ("lab.csv", 8, "value", "x")
    ok = lab.replace(",x,", ",80,")
    assert validate_study(write_study(tmp_path / "t", {**FILES, "lab": ok})).records["lab"] == 4


def test_decimal_comma_gets_a_hint(tmp_path):
    meas = FILES["measurement"].replace("P002,T01,2004-01-20,25.5", 'P002,T01,2004-01-20,"25,5"')
    folder = write_study(tmp_path / "s", {**FILES, "measurement": meas})
    [p] = [p for p in _problems(folder) if p.field == "longest_diameter" and p.value is not None]
    assert p.row == 4 and p.value == "25,5"
    assert p.reason == "not a valid number; use a dot as decimal separator"
    lab = FILES["lab"].replace(",250,", ",abc,")
    [q] = _problems(write_study(tmp_path / "t", {**FILES, "lab": lab}))
    assert q.reason == "not a valid number"


# ----------------------------------------------------------------------------------------------
# 5. data commands


runner = CliRunner()


def test_edit_prints_the_key_as_column_value(study_db):
    res = runner.invoke(app, ["edit", "administration", "--db", study_db, "--key", "subject_id=P001",
                              "--key", "cycle=1", "--set", "calibrated_activity=1.45",
                              "--reason", "typo"])
    assert res.exit_code == 0, res.output
    assert "administration subject_id=P001, cycle=1: calibrated_activity 1.5 → 1.45" in res.output
    assert "{" not in res.output


def test_audit_show_without_rows_says_so(study_db):
    res = runner.invoke(app, ["audit", "show", "--db", study_db, "--subject", "NOPE"])
    assert res.exit_code == 0, res.output
    assert "no audit rows for NOPE" in res.output


def test_help_texts_do_not_promise_to_create_the_database():
    for cmd in (["edit"], ["add"], ["export"], ["audit", "show"], ["audit", "verify"]):
        res = runner.invoke(app, [*cmd, "--help"], terminal_width=200)
        assert res.exit_code == 0
        assert "created if missing" not in res.output, cmd
    assert "LAN-01-003" in runner.invoke(app, ["edit", "--help"], terminal_width=200).output


@pytest.mark.parametrize("name, key, change", [
    ("subject", {"subject_id": "P001"}, {"subject_id": "P009"}),
    ("lesion", {"subject_id": "P001", "lesion_id": "T01"}, {"lesion_id": "T09"}),
    ("site", {"site_id": "S1"}, {"site_id": "S9"}),
])
def test_renaming_a_referenced_key_is_refused_clearly(study_db, name, key, change):
    before = load_study(study_db).data_hash
    with pytest.raises(RadiotrialError) as exc:
        edit_record(study_db, name, key, change, reason="rename")
    msg = str(exc.value)
    assert "other records refer to it" in msg and "FOREIGN KEY" not in msg
    assert load_study(study_db).data_hash == before


def test_deleting_a_referenced_record_is_refused_clearly(study_db):
    with pytest.raises(RadiotrialError, match=r"cannot delete lesion .*other records refer to it \(2 measurement"):
        edit_record(study_db, "lesion", {"subject_id": "P001", "lesion_id": "T01"}, reason="x",
                    delete=True)


def test_unreferenced_key_can_still_be_renamed(study_db):
    # a lesion without measurements is referenced by nothing
    s = edit_record(study_db, "lesion", {"subject_id": "P001", "lesion_id": "NT01"},
                    {"lesion_id": "NT02"}, reason="renumbered")
    assert s.changes == {"lesion_id": ("NT01", "NT02")}
