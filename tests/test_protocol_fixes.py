"""QA fixes in the protocol engine and its CLI.

1. ``ready`` holds after a recorded end of treatment / end of study (disposition, CDISC SDTM DS).
2. An assessment counts for the earliest cycle whose window holds it and that has none yet
   (8-week cycles with an 8-12-week window: the windows overlap the next cycle).
3. ``--activity`` needs its unit (GBq or MBq).
4. Help texts work on the example study; "not computable" dose checks name the setting to fill.
"""

from __future__ import annotations

import json
import random
import re
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from test_protocol_data import FIRST, admins, assessments, at, day, eligible_frames, labs
from typer.testing import CliRunner

from radiotrial.cli.main import app
from radiotrial.cli.protocol_cmds import ELIGIBILITY_HELP, READY_HELP, SCHEDULE_HELP
from radiotrial.errors import RadiotrialError
from radiotrial.protocol import ProtocolConfig, build_schedule, check_readiness
from radiotrial.protocol._engines import _why_unknown

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "lanreotide-2005"


def no_grader(labs, criteria, starts, config):
    return labs.with_columns(pl.lit(0, dtype=pl.Int8).alias("grade"))


def disposition(rows: list[tuple]) -> pl.DataFrame:
    """rows: (subject_id, event, date, reason)."""
    return pl.DataFrame(
        [{"subject_id": r[0], "event": r[1], "date": r[2], "reason": r[3], "note": None}
         for r in rows],
        schema={"subject_id": pl.String, "event": pl.String, "date": pl.Date,
                "reason": pl.String, "note": pl.String})


def treated_s01() -> dict:
    f = eligible_frames()
    f["lab"] = pl.concat([f["lab"], labs([("S01", at(day(54), 8), "PLAT", 150.0),
                                          ("S01", at(day(54), 8), "NEUT", 2.0)])])
    return f


def ready(f: dict, on: date):
    return check_readiness(f, ProtocolConfig(), "S01", on, 1.0, grader=no_grader,
                           dose_checker=lambda *a: [(False, "within limits")])


# ---- 1. disposition holds readiness -------------------------------------------------------------

def test_ready_without_disposition_and_before_its_date():
    f = treated_s01()
    r = ready(f, day(56))
    assert r.ready and [c.status for c in r.checks if c.name == "disposition"] == ["ok"]
    f["disposition"] = disposition([("S01", "end of treatment", day(57), "completed")])
    assert ready(f, day(56)).ready  # recorded after the date: not known yet


@pytest.mark.parametrize("eot_day", [30, 56])  # before and on the date of the cycle
def test_end_of_treatment_holds(eot_day):
    f = treated_s01()
    f["disposition"] = disposition([("S01", "end of treatment", day(eot_day), "completed")])
    r = ready(f, day(56))
    assert not r.ready
    assert [(c.name, c.detail) for c in r.reasons] == [
        ("disposition", f"treatment ended on {day(eot_day)} (completed)")]


def test_end_of_study_holds_and_other_subjects_unaffected():
    f = treated_s01()
    f["disposition"] = disposition([
        ("S01", "end of treatment", day(20), "adverse event"),
        ("S01", "end of study", day(40), "withdrawal by subject"),
        ("S02", "end of study", day(10), "other")])
    r = ready(f, day(56))
    assert [c.detail for c in r.reasons] == [
        f"treatment ended on {day(20)} (adverse event)",
        f"study ended on {day(40)} (withdrawal by subject)"]
    f["disposition"] = disposition([("S02", "end of study", day(10), "other")])
    assert ready(f, day(56)).ready


def test_first_cycle_after_end_of_study_holds():
    f = eligible_frames()
    del f["administration"]
    f["disposition"] = disposition([("S01", "end of study", FIRST - timedelta(days=2), "other")])
    r = check_readiness(f, ProtocolConfig(), "S01", FIRST, grader=no_grader)
    assert not r.ready and r.next_cycle == 1
    assert [c.name for c in r.reasons] == ["disposition"]
    assert r.reasons[0].detail.startswith("study ended on")


# ---- 2. assessments in overlapping windows -----------------------------------------------------

def tl(s, event: str, sid: str = "S01") -> dict:
    r = s.timeline.filter((pl.col("subject_id") == sid) & (pl.col("event") == event))
    assert r.height == 1, s.timeline
    return r.row(0, named=True)


def test_assessment_after_next_cycle_inside_previous_window_counts_for_it():
    """The QA case: cycles day 0 and day 56, CT on day 63 (inside cycle 1's window 56-84)."""
    f = {"administration": admins([("S01", 1, FIRST), ("S01", 2, day(56))]),
         "tumour_assessment": assessments([("S01", day(-13)), ("S01", day(63))])}
    s = build_schedule(f, ProtocolConfig(), as_of=day(108))
    a1, a2 = tl(s, "assessment after cycle 1"), tl(s, "assessment after cycle 2")
    assert (a1["status"], a1["actual"], a1["days_off"]) == ("done", day(63), 0)
    assert (a2["status"], a2["actual"]) == ("planned", None)
    assert s.deviations.height == 0  # was: cycle 1 missing and cycle 2 outside (-49)


def test_assessment_in_two_overlapping_windows_fills_both_cycles():
    # cycles day 0 and day 20 (early): windows 56-84 and 76-104; scans day 80 and day 82
    f = {"administration": admins([("S01", 1, FIRST), ("S01", 2, day(20))]),
         "tumour_assessment": assessments([("S01", day(80)), ("S01", day(82))])}
    s = build_schedule(f, ProtocolConfig(), as_of=day(120))
    assert (tl(s, "assessment after cycle 1")["actual"],
            tl(s, "assessment after cycle 2")["actual"]) == (day(80), day(82))
    # one scan in both windows: the earliest cycle takes it; the other is missing
    f["tumour_assessment"] = assessments([("S01", day(80))])
    s = build_schedule(f, ProtocolConfig(), as_of=day(120))
    assert tl(s, "assessment after cycle 1")["status"] == "done"
    assert tl(s, "assessment after cycle 2")["status"] == "missing"


def test_assessment_in_no_window_is_outside_for_the_latest_cycle_without_one():
    f = {"administration": admins([("S01", 1, FIRST), ("S01", 2, day(56))]),
         "tumour_assessment": assessments([("S01", day(63)), ("S01", day(98))])}
    s = build_schedule(f, ProtocolConfig(), as_of=day(150))
    # day 98: after cycle 1's window (done day 63), before cycle 2's (112-140)
    a2 = tl(s, "assessment after cycle 2")
    assert (a2["status"], a2["actual"], a2["days_off"]) == ("outside window", day(98), -14)
    assert s.deviations["kind"].to_list() == ["assessment outside window"]


def test_late_assessment_of_a_cycle_not_yet_assessed():
    # cycles day 0, 56; scans day 100 (no window) and day 120 (cycle 2's window): the day-100
    # scan is cycle 1's, 16 days late, not a missing one
    f = {"administration": admins([("S01", 1, FIRST), ("S01", 2, day(56))]),
         "tumour_assessment": assessments([("S01", day(100)), ("S01", day(120))])}
    s = build_schedule(f, ProtocolConfig(), as_of=day(150))
    a1 = tl(s, "assessment after cycle 1")
    assert (a1["status"], a1["actual"], a1["days_off"]) == ("outside window", day(100), 16)
    assert tl(s, "assessment after cycle 2")["status"] == "done"


def test_extra_scan_does_not_reach_back_past_an_assessed_cycle():
    # cycle 1 never assessed in its window; cycle 2 assessed day 130; a confirmation scan on
    # day 150 is not cycle 1's assessment: cycle 1 stays missing
    f = {"administration": admins([("S01", 1, FIRST), ("S01", 2, day(56))]),
         "tumour_assessment": assessments([("S01", day(130)), ("S01", day(150))])}
    s = build_schedule(f, ProtocolConfig(), as_of=day(160))
    assert tl(s, "assessment after cycle 1")["status"] == "missing"
    assert tl(s, "assessment after cycle 2")["actual"] == day(130)


def reference(cycles: list[date], scans: list[date], w0: int, w1: int) -> list[date | None]:
    """The rule written as a loop over one subject's scans (test oracle only)."""
    a_in: list[date | None] = [None] * len(cycles)
    in_any = set()
    for p in sorted(scans):
        for k, c in enumerate(cycles):
            if c + timedelta(days=w0) <= p <= c + timedelta(days=w1):
                in_any.add(p)
                if a_in[k] is None:
                    a_in[k] = p
                    break
    a_out: list[date | None] = [None] * len(cycles)
    for p in sorted(set(scans) - in_any):
        filled = [k for k, d in enumerate(a_in) if d is not None and d < p]
        cands = [k for k, c in enumerate(cycles) if c < p and a_in[k] is None
                 and (not filled or k > max(filled))]
        if cands and a_out[max(cands)] is None:
            a_out[max(cands)] = p
    return [i if i is not None else o for i, o in zip(a_in, a_out, strict=True)]


def test_vectorised_attribution_matches_the_rule_on_random_subjects():
    rng = random.Random(7)
    adm_rows, scan_rows, expected = [], [], {}
    for i in range(300):
        sid = f"S{i:03d}"
        cycles = [FIRST]
        for _ in range(rng.randint(0, 4)):
            cycles.append(cycles[-1] + timedelta(days=rng.randint(20, 80)))
        scans = sorted({FIRST + timedelta(days=rng.randint(-20, 400))
                        for _ in range(rng.randint(0, 6))})
        adm_rows += [(sid, k + 1, c) for k, c in enumerate(cycles)]
        scan_rows += [(sid, d) for d in scans]
        expected[sid] = reference(cycles, [d for d in scans if d > FIRST], 56, 84)
    f = {"administration": admins(adm_rows), "tumour_assessment": assessments(scan_rows)}
    s = build_schedule(f, ProtocolConfig(max_cycles=10), as_of=day(500))
    got = (s.timeline.filter(pl.col("kind") == "assessment").sort("subject_id", "cycle")
           .group_by("subject_id", maintain_order=True).agg("actual"))
    assert dict(got.iter_rows()) == expected


# ---- 3. activity needs a unit -------------------------------------------------------------------

def invoke(*args: str):
    return CliRunner(env={"COLUMNS": "250"}).invoke(app, list(args))


def test_activity_without_unit_is_refused(tmp_path):
    db = tmp_path / "x.db"
    db.write_bytes(b"")
    r = invoke("ready", "S01", "--db", str(db), "--activity", "1000")
    assert isinstance(r.exception, RadiotrialError)
    assert "no unit" in str(r.exception) and "GBq or MBq" in str(r.exception)
    assert "GBq or MBq" in invoke("ready", "--help").output


# ---- 4. help texts and dose messages ------------------------------------------------------------

def test_help_texts_use_the_example_study_and_balanced_brackets():
    for text in (ELIGIBILITY_HELP, SCHEDULE_HELP, READY_HELP):
        assert "S07" not in text
        assert text.count("(") == text.count(")"), text
        for y in re.findall(r"\b(\d{4})-\d\d-\d\d\b", text):
            assert 2001 <= int(y) <= 2004
    assert "LAN-01-007" in READY_HELP


def test_not_computable_dose_names_the_setting():
    row = {"organ": "kidney", "quantity": "dose", "dose_per_gbq": None}
    assert "dosimetry.dose_per_gbq.kidney" in _why_unknown(row, set())
    assert _why_unknown(row, {"kidney"}) == "no dose per GBq from a prior cycle"
    bed = {"organ": "red_marrow", "quantity": "bed", "dose_per_gbq": 0.05}
    assert "dosimetry.effective_half_life_h.red_marrow" in _why_unknown(bed, {"red_marrow"})
    lung = {"organ": "lung", "quantity": "dose", "dose_per_gbq": None}
    assert "dosimetry.estimates" in _why_unknown(lung, set())
    assert "prior cycle" in _why_unknown(lung, {"estimate lung"})


@pytest.fixture(scope="module")
def example_db(tmp_path_factory) -> str:
    from radiotrial.study.importer import import_study

    db = tmp_path_factory.mktemp("example-fixes") / "study.db"
    import_study(EXAMPLE, str(db), user="test")
    return str(db)


def test_ready_help_examples_on_the_example_study(example_db):
    """Each READY_HELP example, run as written (with the example's database)."""
    lines = [ln.strip() for ln in READY_HELP.splitlines()
             if ln.strip().startswith("radiotrial ready")]
    assert len(lines) == 3
    codes = []
    for ln in lines:
        args = ln.split()[1:]
        args[args.index("--db") + 1] = example_db
        r = invoke(*args)
        assert r.exception is None or isinstance(r.exception, SystemExit), r.output
        codes.append(r.exit_code)
        out = r.output
    assert codes == [0, 0, 1]  # cycles 2 and 3 READY; after the end of treatment HOLD
    reasons = json.loads(out)["reasons"]
    assert {"check": "disposition", "status": "hold",
            "detail": "treatment ended on 2002-05-08 (completed)"} in reasons
