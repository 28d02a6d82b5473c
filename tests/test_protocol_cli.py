"""`radiotrial eligibility | schedule | ready` on a monkeypatched study and on the example study."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest
from test_protocol_data import admins, at, day, eligible_frames, labs, subject, subjects
from typer.testing import CliRunner

from radiotrial.cli.main import app
from radiotrial.cli.protocol_cmds import parse_activity, parse_date
from radiotrial.errors import RadiotrialError
from radiotrial.study.config import StudyConfig

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "lanreotide-2005"


@pytest.fixture
def fake_db(tmp_path, monkeypatch):
    """A study database path whose loader returns two small subjects (S01 eligible, S02 not)."""
    f = eligible_frames()
    f["subject"] = subjects(subject(), subject(subject_id="S02", histology="adenocarcinoma"))
    f["administration"] = admins([("S01", 1, day(0)), ("S02", 1, day(0))])
    f["lab"] = pl.concat([f["lab"], labs([("S01", at(day(54)), "PLAT", 150.0),
                                          ("S01", at(day(54)), "NEUT", 2.0),
                                          ("S02", at(day(54)), "PLAT", 50.0),
                                          ("S02", at(day(54)), "NEUT", 2.0)])])
    study = SimpleNamespace(study_id="T-1", config=StudyConfig(study_id="T-1", title="test"),
                            frames=f)
    import radiotrial.study.load as load_mod

    seen = []
    monkeypatch.setattr(load_mod, "load_study", lambda db: seen.append(db) or study)
    db = tmp_path / "study.db"
    db.write_bytes(b"")
    return str(db)


def invoke(*args):
    return CliRunner(env={"COLUMNS": "250"}).invoke(app, list(args))


def test_eligibility_table_and_json(fake_db):
    r = invoke("eligibility", "--db", fake_db)
    assert r.exit_code == 0, r.output
    assert "1 eligible, 1 not eligible" in r.output and "adenocarcinoma" in r.output
    r = invoke("eligibility", "--db", fake_db, "--json")
    data = json.loads(r.output)
    status = {s["subject_id"]: s["status"] for s in data["subjects"]}
    assert status == {"S01": "eligible", "S02": "not eligible"}
    assert {c["criterion"] for c in data["criteria"]} >= {"histology", "PLAT >= 100 10^9/L"}
    r = invoke("eligibility", "--db", fake_db, "--details")
    assert r.exit_code == 0 and "subject.histology" in r.output


def test_schedule_table_and_json(fake_db):
    r = invoke("schedule", "--db", fake_db, "--as-of", str(day(60)))
    assert r.exit_code == 0, r.output
    assert f"Worklist as of {day(60)}" in r.output and "cycle 2" in r.output
    r = invoke("schedule", "--db", fake_db, "--as-of", str(day(60)), "--json")
    data = json.loads(r.output)
    assert data["as_of"] == str(day(60))
    assert {w["status"] for w in data["worklist"]} == {"due"}
    assert set(data) == {"study_id", "as_of", "worklist", "deviations", "subjects", "timeline"}
    r = invoke("schedule", "--db", fake_db)
    assert "(data cut-off)" in r.output


def test_ready_exit_codes_and_json(fake_db):
    r = invoke("ready", "S01", "--db", fake_db, "--on", str(day(56)))
    assert r.exit_code == 0, r.output
    assert "READY" in r.output
    r = invoke("ready", "S02", "--db", fake_db, "--on", str(day(56)), "--json")
    assert r.exit_code == 1
    data = json.loads(r.output)
    # platelets 50 x10^9/L: below the retreatment threshold and a CTCAE v5 grade 2 toxicity
    assert data["ready"] is False
    assert [x["check"] for x in data["reasons"]] == ["lab PLAT", "toxicity"]
    assert "grade 2" in data["reasons"][1]["detail"]
    r = invoke("ready", "S02", "--db", fake_db, "--on", str(day(56)))
    assert "HOLD" in r.output and "lab PLAT" in r.output


def test_user_errors(fake_db, tmp_path):
    r = invoke("schedule", "--db", fake_db, "--as-of", "2004-13-01")
    assert isinstance(r.exception, RadiotrialError) and "--as-of" in str(r.exception)
    r = invoke("ready", "S01", "--db", fake_db, "--activity", "lots")
    assert isinstance(r.exception, RadiotrialError) and "'lots'" in str(r.exception)
    r = invoke("ready", "NOPE", "--db", fake_db, "--on", str(day(56)))
    assert isinstance(r.exception, RadiotrialError) and "NOPE" in str(r.exception)
    r = invoke("eligibility", "--db", str(tmp_path / "missing.db"))
    assert isinstance(r.exception, RadiotrialError) and "not found" in str(r.exception)


def test_parse_helpers():
    assert parse_activity("1.0GBq") == 1.0
    assert parse_activity("950 MBq") == pytest.approx(0.95)
    assert parse_activity(None) is None
    # a bare number was taken as GBq ("1000" = 1000 GBq); the unit is now required (QA fix)
    for bad in ("0GBq", "-1", "1 Ci", "1.2", "1000"):
        with pytest.raises(RadiotrialError):
            parse_activity(bad)
    assert str(parse_date("2004-05-12", "--on")) == "2004-05-12"
    assert parse_date(None, "--on") is None


def test_help_teaches_with_examples():
    for cmd in ("eligibility", "schedule", "ready"):
        r = invoke(cmd, "--help")
        assert r.exit_code == 0 and f"radiotrial {cmd}" in r.output and "--json" in r.output


@pytest.fixture(scope="module")
def example_db(tmp_path_factory):
    from radiotrial.study.importer import import_study

    db = tmp_path_factory.mktemp("example") / "study.db"
    import_study(EXAMPLE, str(db), user="test")
    return str(db)


def test_example_study_all_eligible_and_deviations_listed(example_db):
    data = json.loads(invoke("eligibility", "--db", example_db, "--json").output)
    assert len(data["subjects"]) == 23
    assert {s["status"] for s in data["subjects"]} == {"eligible"}
    data = json.loads(invoke("schedule", "--db", example_db, "--json").output)
    kinds = {d["kind"] for d in data["deviations"]}
    assert {"cycle late", "assessment outside window"} <= kinds
