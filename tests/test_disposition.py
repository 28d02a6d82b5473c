"""Disposition (CDISC SDTM DS: end of treatment / end of study): import checks, migration of an
existing database, schedule and ADSL (EOTSTT/EOTDT/DCTREAS, EOSSTT/EOSDT/DCSREAS)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import polars as pl
import pytest
from conftest import FILES, write_study
from test_protocol_data import FIRST, admins, assessments, day

from radiotrial.errors import InputError
from radiotrial.protocol import ProtocolConfig, build_schedule
from radiotrial.store.engine import alembic_config, current_revision, head_revision, make_engine
from radiotrial.store.service import StudyStore
from radiotrial.study.exporter import export_study
from radiotrial.study.importer import import_study
from radiotrial.study.load import load_study

HEADER = "subject_id,event,date,reason,note\n"
#: P001 treated 2004-01-15 and 2004-03-11 (alive); P002 treated 2004-02-05, died 2004-10-01;
#: P003 enrolled 2004-03-05, never treated (conftest.FILES).
GOOD = HEADER + (
    "P001,end of treatment,2004-04-10,completed,\n"
    "P002,end of treatment,2004-02-05,adverse event,grade 3 thrombocytopenia\n"
    "P002,end of study,2004-10-01,death,\n"
    "P003,end of study,2004-06-01,withdrawal by subject,\n"
)


def _files(disposition: str) -> dict[str, str]:
    return dict(FILES, disposition=disposition)


def _counts(db: str) -> int:
    con = sqlite3.connect(db)
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        return sum(con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables
                   if t != "alembic_version")
    finally:
        con.close()


def test_good_disposition_imports_and_round_trips(tmp_path):
    folder = write_study(tmp_path / "s", _files(GOOD))
    db = str(tmp_path / "a.db")
    import_study(folder, db, user="t")
    d = load_study(db).frames["disposition"]
    assert d.schema["date"] == pl.Date
    assert d.select("subject_id", "event", "reason").rows() == [
        ("P001", "end of treatment", "completed"), ("P002", "end of study", "death"),
        ("P002", "end of treatment", "adverse event"),
        ("P003", "end of study", "withdrawal by subject")]
    export_study(db, tmp_path / "out")
    assert (tmp_path / "out" / "disposition.csv").read_text(encoding="utf-8") == HEADER + (
        "P001,end of treatment,2004-04-10,completed,\n"
        "P002,end of study,2004-10-01,death,\n"
        "P002,end of treatment,2004-02-05,adverse event,grade 3 thrombocytopenia\n"
        "P003,end of study,2004-06-01,withdrawal by subject,\n")
    import_study(tmp_path / "out", str(tmp_path / "b.db"), user="t")
    assert load_study(str(tmp_path / "b.db")).data_hash == load_study(db).data_hash


def _d(*rows: str) -> dict[str, str]:
    return _files(HEADER + "".join(r + "\n" for r in rows))


# (case, files, file, row, column, value)
BAD = [
    ("unknown reason", _d("P001,end of treatment,2004-04-10,bored,"), "disposition.csv", 2,
     "reason", "bored"),
    ("unknown event", _d("P001,end of cycles,2004-04-10,completed,"), "disposition.csv", 2,
     "event", "end of cycles"),
    ("date missing", _d("P001,end of treatment,,completed,"), "disposition.csv", 2, "date", None),
    ("two ends of treatment", _d("P001,end of treatment,2004-04-10,completed,",
                                 "P001,end of treatment,2004-04-11,other,"),
     "disposition.csv", 3, "event", "end of treatment"),
    ("unknown subject", _d("P009,end of study,2004-04-10,other,"), "disposition.csv", 2,
     "subject_id", "P009"),
    ("before enrolment", _d("P003,end of study,2004-03-04,other,"), "disposition.csv", 2, "date",
     "2004-03-04"),
    ("end of treatment before the last administration",
     _d("P001,end of treatment,2004-03-10,completed,"), "disposition.csv", 2, "date",
     "2004-03-10"),
    ("end of study before end of treatment", _d("P002,end of treatment,2004-03-01,other,",
                                                "P002,end of study,2004-02-28,other,"),
     "disposition.csv", 3, "date", "2004-02-28"),
    ("end of study after death", _d("P002,end of study,2004-10-02,death,"), "disposition.csv", 2,
     "date", "2004-10-02"),
    ("measurement after end of study", _d("P001,end of study,2004-04-01,lost to follow-up,"),
     "measurement.csv", 3, "assessment_date", "2004-04-10"),
    ("clinical visit after end of study", _d("P001,end of study,2004-04-01,lost to follow-up,"),
     "clinical.csv", 3, "assessment_date", "2004-04-10"),
]


@pytest.mark.parametrize("case,files,file,row,column,value", BAD, ids=[b[0] for b in BAD])
def test_bad_disposition_is_located_and_writes_nothing(tmp_path, case, files, file, row, column,
                                                       value):
    folder = write_study(tmp_path / "s", files)
    db = str(tmp_path / "x.db")
    StudyStore(db).close()
    with pytest.raises(InputError) as err:
        import_study(folder, db, user="t")
    hits = [p for p in err.value.problems if (p.file, p.row, p.field) == (file, row, column)]
    assert hits, f"{case}: {err.value}"
    assert hits[0].value == value
    msg = str(err.value)
    assert file in msg and f"row {row}" in msg and column in msg
    assert _counts(db) == 0


def test_equal_dates_are_allowed(tmp_path):
    # end of treatment on the day of the last administration, end of study on that day too and
    # on the day of death; a survival status and an adverse event may follow the end of study
    files = _d("P002,end of treatment,2004-02-05,other,", "P002,end of study,2004-02-05,other,")
    import_study(write_study(tmp_path / "s", files), str(tmp_path / "a.db"), user="t")


def test_adding_a_cycle_after_end_of_treatment_is_refused(tmp_path):
    from typer.testing import CliRunner

    from radiotrial.cli.main import app

    db = str(tmp_path / "a.db")
    import_study(write_study(tmp_path / "s", _files(GOOD)), db, user="t")
    before = _counts(db)
    res = CliRunner().invoke(app, [
        "add", "administration", "--db", db, "--user", "dm1",
        "--set", "subject_id=P001", "--set", "cycle=3",
        "--set", "admin_instant=2004-05-06T09:00:00Z", "--set", "radiopharmaceutical=Y-90-DOTA-lanreotide",
        "--set", "nuclide=Y-90", "--set", "calibrated_activity=1.0",
        "--set", "calibration_instant=2004-05-06T08:00:00Z", "--set", "activity_unit=GBq",
        "--set", "route=intra-arterial hepatic", "--set", "embolisation=no"])
    assert res.exit_code != 0
    assert "end of treatment before the last administration 2004-05-06" in str(res.exception)
    assert _counts(db) == before


def test_database_at_revision_0001_upgrades_and_keeps_its_data(tmp_path):
    """A database written by a radiotrial without disposition (revision 0001) upgrades in place."""
    from alembic import command

    db = str(tmp_path / "old.db")
    import_study(write_study(tmp_path / "s"), db, user="t")
    want = load_study(db)
    engine = make_engine(db)
    with engine.begin() as conn:  # back to the 0001 schema: exactly the tables 0001 creates
        command.downgrade(alembic_config(conn), "0001")
    assert current_revision(engine) == "0001"
    con = sqlite3.connect(db)
    assert "disposition" not in {r[0] for r in con.execute(
        "select name from sqlite_master where type='table'")}
    con.close()
    engine.dispose()

    with StudyStore(db, create=False) as store:  # opening upgrades
        assert current_revision(store.engine) == head_revision() == "0002"
        assert store.verify_audit().ok
    got = load_study(db)
    assert got.data_hash == want.data_hash
    for name, f in want.frames.items():
        assert got.frames[name].equals(f), name
    assert got.frames["disposition"].height == 0
    # the new table works in the upgraded database
    from typer.testing import CliRunner

    from radiotrial.cli.main import app

    res = CliRunner().invoke(app, ["add", "disposition", "--db", db, "--user", "dm1",
                                   "--set", "subject_id=P003", "--set", "event=end of study",
                                   "--set", "date=2004-06-01", "--set", "reason=lost to follow-up"])
    assert res.exit_code == 0, res.output
    assert load_study(db).frames["disposition"]["reason"].to_list() == ["lost to follow-up"]


def test_fresh_database_at_0001_then_head(tmp_path):
    """Alembic walks 0001 -> 0002 on a database created at 0001 with a row in it."""
    from alembic import command

    db = str(tmp_path / "m.db")
    engine = make_engine(db)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.exec_driver_sql("insert into site (site_id, name) values ('S1', 'one')")
    engine.dispose()
    with StudyStore(db) as store, store.reading() as conn:
        assert current_revision(store.engine) == head_revision()
        assert conn.exec_driver_sql("select site_id from site").fetchall() == [("S1",)]
        assert conn.exec_driver_sql("select count(*) from disposition").scalar() == 0


# --------------------------------------------------------------------------- schedule


def disp(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"subject_id": pl.String, "event": pl.String,
                                      "date": pl.Date, "reason": pl.String}, orient="row")


ONE_CYCLE = {"administration": admins([("S01", 1, FIRST)])}


@pytest.mark.parametrize("as_of_day,ended", [(29, False), (30, True)])
def test_end_of_treatment_from_its_date(as_of_day, ended):
    f = ONE_CYCLE | {"disposition": disp([("S01", "end of treatment", day(30),
                                           "physician decision")])}
    s = build_schedule(f, as_of=day(as_of_day))
    status = s.subjects["treatment_status"][0]
    kinds = sorted(s.worklist["kind"].to_list())
    if ended:
        # off treatment, no next cycle; the assessment of cycle 1 stays expected; follow-up
        assert status == "off: physician decision"
        assert kinds == ["assessment", "follow-up"]
    else:
        assert status == "on treatment" and kinds == ["assessment", "cycle"]


def test_end_of_treatment_reason_labels_and_death_first():
    rows = [("S01", "end of treatment", day(60), "progressive disease")]
    s = build_schedule(ONE_CYCLE | {"disposition": disp(rows)}, as_of=day(70))
    assert s.subjects["treatment_status"][0] == "off: progression"
    from test_protocol_data import follow_up

    f = ONE_CYCLE | {"disposition": disp(rows),
                     "follow_up": follow_up([("S01", day(65), day(65), None)])}
    s = build_schedule(f, as_of=day(70))
    assert s.subjects["treatment_status"][0] == "off: died" and s.worklist.height == 0


@pytest.mark.parametrize("as_of_day,listed", [(84, True), (85, False)])
def test_after_end_of_treatment_a_closed_window_leaves_the_worklist(as_of_day, listed):
    # without a disposition the stale heuristic keeps it 56 days longer (test_schedule)
    f = ONE_CYCLE | {"disposition": disp([("S01", "end of treatment", day(10), "completed")])}
    s = build_schedule(f, as_of=day(as_of_day))
    assert (s.worklist.filter(pl.col("kind") == "assessment").height == 1) is listed
    assert s.deviations.filter(pl.col("kind") == "assessment missing").height == (not listed)
    assert s.subjects["treatment_status"][0] == "off: completed"


@pytest.mark.parametrize("as_of_day,closed", [(29, False), (30, True), (400, True)])
def test_end_of_study_closes_everything(as_of_day, closed):
    f = ONE_CYCLE | {"disposition": disp([("S01", "end of study", day(30),
                                           "withdrawal by subject")])}
    s = build_schedule(f, as_of=day(as_of_day))
    if closed:
        assert s.worklist.height == 0
        assert s.subjects["treatment_status"][0] == "off: withdrawal by subject"
        assert s.subjects["next_event"][0] is None
    else:
        assert sorted(s.worklist["kind"].to_list()) == ["assessment", "cycle"]
    # left before the window closed: the assessment is not expected, never a deviation
    a = s.timeline.filter(pl.col("kind") == "assessment")["status"][0]
    assert a == ("not expected" if closed else "planned")
    assert s.deviations.height == 0


def test_end_of_study_after_the_window_keeps_the_missing_assessment_as_a_deviation():
    f = ONE_CYCLE | {"disposition": disp([("S01", "end of treatment", day(20), "other"),
                                          ("S01", "end of study", day(100), "lost to follow-up")])}
    s = build_schedule(f, as_of=day(99))
    assert s.worklist["kind"].to_list() == ["follow-up"]  # window closed day 84
    s = build_schedule(f, as_of=day(200))
    assert s.worklist.height == 0
    assert s.deviations["kind"].to_list() == ["assessment missing"]
    assert s.subjects["treatment_status"][0] == "off: other"


def test_without_disposition_the_stale_heuristic_still_applies():
    f = {"administration": admins([("S01", 1, FIRST)]),
         "tumour_assessment": assessments([("S01", day(60))])}
    empty = disp([])
    for frames in (f, f | {"disposition": empty}):
        assert build_schedule(frames, as_of=day(120)).subjects["treatment_status"][0] == (
            "off: cycles stopped")
    assert build_schedule(f, ProtocolConfig(stale_after_days=None), as_of=day(500)).worklist[
        "kind"].to_list() == ["cycle"]


# --------------------------------------------------------------------------- ADSL


def test_adsl_disposition_variables():
    from _derive_fixture import config, frames, outputs

    from radiotrial.study.derive import derive_frames

    # S01 treated, died 2004-09-01; S02 treated, died 2004-03-15; S03 never treated; S04 treated
    fr = frames() | {"disposition": disp([
        ("S01", "end of treatment", dt.date(2004, 3, 1), "completed"),
        ("S03", "end of study", dt.date(2004, 5, 1), "lost to follow-up"),
    ])}
    adsl = derive_frames(fr, config(), outputs=outputs()).adsl.sort("SUBJID")
    cols = ["SUBJID", "EOTSTT", "EOTDT", "DCTREAS", "EOSSTT", "EOSDT", "DCSREAS"]
    D = dt.date
    assert adsl.select(cols).rows() == [
        ("S01", "COMPLETED", D(2004, 3, 1), None, "DISCONTINUED", D(2004, 9, 1), "DEATH"),
        ("S02", "DISCONTINUED", D(2004, 3, 15), "DEATH", "DISCONTINUED", D(2004, 3, 15), "DEATH"),
        ("S03", None, None, None, "DISCONTINUED", D(2004, 5, 1), "LOST TO FOLLOW-UP"),
        ("S04", "ONGOING", None, None, "ONGOING", None, None),
    ]
    without = derive_frames(frames(), config(), outputs=outputs()).adsl.sort("SUBJID")
    assert without["EOSSTT"].to_list() == ["DISCONTINUED", "DISCONTINUED", "ONGOING", "ONGOING"]
    assert without["EOTSTT"].to_list() == ["DISCONTINUED", "DISCONTINUED", None, "ONGOING"]


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "lanreotide-2005"


def test_example_disposition(tmp_path):
    from radiotrial.study.derive import derive

    db = str(tmp_path / "e.db")
    import_study(EXAMPLE, db, user="t")
    adsl = derive(load_study(db)).adsl
    eot = dict(adsl.group_by("EOTSTT").len().rows())
    assert eot == {"COMPLETED": 9, "DISCONTINUED": 14}
    reasons = dict(adsl.group_by("DCTREAS").len().drop_nulls().rows())
    assert reasons == {"PROGRESSIVE DISEASE": 6, "PHYSICIAN DECISION": 5, "DEATH": 2,
                       "WITHDRAWAL BY SUBJECT": 1}
    w = adsl.filter(pl.col("SUBJID") == "LAN-01-011").row(0, named=True)
    assert (w["EOSSTT"], w["EOSDT"], w["DCSREAS"]) == (
        "DISCONTINUED", dt.date(2002, 6, 26), "WITHDRAWAL BY SUBJECT")
    # alive subjects other than 011 are still in follow-up; the dead ended the study by death
    st = adsl.filter(pl.col("SUBJID") != "LAN-01-011").select(
        "EOSSTT", dead=pl.col("DTHFL") == "Y").unique().sort("dead").rows()
    assert st == [("ONGOING", False), ("DISCONTINUED", True)]
