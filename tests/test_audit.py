"""Audit trail: append-only, hash-chained; tampering in SQLite is detected and named; reasons required."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from radiotrial.cli.main import app
from radiotrial.errors import RadiotrialError
from radiotrial.store.audit import AuditError
from radiotrial.store.service import StudyStore
from radiotrial.study.edit import edit_record
from radiotrial.study.load import load_study


def _sql(db: str, *statements: str) -> None:
    con = sqlite3.connect(db)
    try:
        for s in statements:
            con.executescript(s) if ";" in s else con.execute(s)
        con.commit()
    finally:
        con.close()


def _verify(db: str):
    return CliRunner().invoke(app, ["audit", "verify", "--db", db])


def test_untouched_database_verifies(study_db):
    res = _verify(study_db)
    assert res.exit_code == 0 and "audit trail intact: 29 rows" in res.output


def test_triggers_refuse_update_and_delete(study_db):
    for stmt in ("update audit_log set reason='x' where seq=3", "delete from audit_log where seq=3"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            _sql(study_db, stmt)


DROP = ("drop trigger audit_log_no_update", "drop trigger audit_log_no_delete")
TAMPER = {
    "edited": ("update audit_log set new_value=replace(new_value, '63', '64') where seq=4",
               "seq=4"),
    "deleted": ("delete from audit_log where seq=7", "seq=7"),
    "newest deleted": ("delete from audit_log where seq=29", "anchor records 29 rows"),
    "reordered": ("update audit_log set seq=-1 where seq=10; update audit_log set seq=10 where "
                  "seq=11; update audit_log set seq=11 where seq=-1", "seq=10"),
}


@pytest.mark.parametrize("how", list(TAMPER))
def test_tampering_is_detected_and_named(study_db, how):
    stmt, where = TAMPER[how]
    _sql(study_db, *DROP, stmt)
    res = _verify(study_db)
    assert res.exit_code != 0
    assert isinstance(res.exception, AuditError)
    assert where in str(res.exception)
    with StudyStore(study_db, create=False) as store:
        assert not store.verify_audit().ok


def test_update_without_reason_is_refused(study_db):
    for reason in (None, "", "   "):
        with pytest.raises(RadiotrialError, match="reason"):
            edit_record(study_db, "lab", {"subject_id": "P001", "instant": "2004-01-14T08:00:00Z",
                                          "analyte": "HGB"}, {"value": "14"}, reason=reason)
    res = CliRunner().invoke(app, ["edit", "lab", "--db", study_db, "--key", "subject_id=P001",
                                   "--set", "value=1"])
    assert res.exit_code != 0 and "--reason" in res.output
    with StudyStore(study_db, create=False) as store:
        assert len(store.history()) == 29


def test_update_keeps_old_value_and_is_validated(study_db):
    key = {"subject_id": "P001", "instant": "2004-01-14T08:00:00+00:00", "analyte": "HGB"}
    with pytest.raises(RadiotrialError, match="lln"):  # a unit change must restate its values
        edit_record(study_db, "lab", key, {"value": "140", "unit": "g/L"}, reason="t", user="dm")
    s = edit_record(study_db, "lab", key, {"value": "140", "unit": "g/L", "lln": "120",
                                           "uln": "160"}, reason="typo", user="dm")
    assert s.changes == {"value": ("13.0", "14.0")}
    with pytest.raises(RadiotrialError, match="value"):
        edit_record(study_db, "lab", key, {"value": "-1"}, reason="x", user="dm")
    with StudyStore(study_db, create=False) as store:
        rows = store.history(subject="P001", record_type="lab")
        assert store.verify_audit().ok
    last = rows[-1]
    assert (last["action"], last["field"], last["old_value"], last["new_value"], last["reason"],
            last["user_name"]) == ("UPDATE", "value", "13.0", "14.0", "typo", "dm")
    lab = load_study(study_db).frames["lab"]
    assert 14.0 in lab["value"].to_list()


def test_delete_keeps_the_record_in_the_trail(study_db):
    res = CliRunner().invoke(app, ["edit", "adverse_event", "--db", study_db, "--key",
                                   "subject_id=P001", "--key", "term=Nausea", "--key",
                                   "start_date=2004-01-16", "--delete", "--reason", "entered twice"])
    assert res.exit_code == 0, res.output
    assert load_study(study_db).frames["adverse_event"].height == 0
    res = CliRunner().invoke(app, ["audit", "show", "--db", study_db, "--record-type",
                                   "adverse_event", "--json"])
    rows = json.loads(res.output)
    assert rows[-1]["action"] == "DELETE" and json.loads(rows[-1]["old_value"])["grade"] == "1"
    assert _verify(study_db).exit_code == 0


def test_cross_record_violation_rolls_back_edit(study_db):
    before = load_study(study_db).data_hash
    with pytest.raises(RadiotrialError, match="death_date"):
        edit_record(study_db, "administration", {"subject_id": "P002", "cycle": "1"},
                    {"admin_instant": "2004-12-01T10:00:00Z"}, reason="x", user="u")
    assert load_study(study_db).data_hash == before
    with pytest.raises(RadiotrialError, match="other records refer"):
        edit_record(study_db, "subject", {"subject_id": "P001"}, delete=True, reason="x", user="u")
