"""Schedule: cycle tolerance and assessment window boundaries, deviations, worklist as of a date."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from test_protocol_data import FIRST, admins, assessments, day, follow_up

from radiotrial.protocol import ProtocolConfig, build_schedule, data_cutoff


def devs(s, kind=None):
    d = s.deviations
    return d.filter(pl.col("kind") == kind) if kind else d


def tl(s, event, sid="S01"):
    r = s.timeline.filter((pl.col("subject_id") == sid) & (pl.col("event") == event))
    assert r.height == 1, s.timeline
    return r.row(0, named=True)


@pytest.mark.parametrize("interval,status,kind,days_off", [
    (48, "early", "cycle early", -8),
    (49, "done", None, -7),
    (56, "done", None, 0),
    (63, "done", None, 7),
    (64, "late", "cycle late", 8),
])
def test_cycle_interval_tolerance(interval, status, kind, days_off):
    f = {"administration": admins([("S01", 1, FIRST), ("S01", 2, day(interval))])}
    s = build_schedule(f, ProtocolConfig(), as_of=day(interval))
    c2 = tl(s, "cycle 2")
    assert c2["status"] == status and c2["days_off"] == days_off
    assert c2["planned"] == day(56)
    cyc_devs = s.deviations.filter(pl.col("kind").str.starts_with("cycle"))
    if kind is None:
        assert cyc_devs.height == 0
    else:
        assert cyc_devs.rows() == [("S01", kind, "cycle 2", day(56), day(interval), days_off)]


def test_cycle_anchor_options():
    f = {"administration": admins([("S01", 1, FIRST), ("S01", 2, day(66)), ("S01", 3, day(122))])}
    prev = build_schedule(f, ProtocolConfig(), as_of=day(122))
    assert tl(prev, "cycle 3")["planned"] == day(122) and tl(prev, "cycle 3")["status"] == "done"
    grid = build_schedule(f, ProtocolConfig(cycle_anchor="first_treatment"), as_of=day(122))
    c3 = tl(grid, "cycle 3")
    assert c3["planned"] == day(112) and c3["days_off"] == 10 and c3["status"] == "late"


@pytest.mark.parametrize("on_day,status,days_off", [
    (55, "outside window", -1), (56, "done", 0), (84, "done", 0), (85, "outside window", 1),
])
def test_assessment_window_boundaries(on_day, status, days_off):
    f = {"administration": admins([("S01", 1, FIRST)]),
         "tumour_assessment": assessments([("S01", day(-10)), ("S01", day(on_day))])}
    s = build_schedule(f, as_of=day(100))
    a = tl(s, "assessment after cycle 1")
    assert (a["status"], a["days_off"], a["actual"]) == (status, days_off, day(on_day))
    assert (a["window_start"], a["window_end"]) == (day(56), day(84))
    outside = devs(s, "assessment outside window")
    assert outside.height == (status != "done")
    if status != "done":
        assert outside.row(0, named=True)["days_off"] == days_off


def test_in_window_assessment_preferred_and_baseline_ignored():
    f = {"administration": admins([("S01", 1, FIRST)]),
         "measurement": pl.DataFrame({"subject_id": ["S01"] * 3,
                                      "assessment_date": [day(-5), day(30), day(60)]}),
         }
    s = build_schedule(f, as_of=day(90))
    a = tl(s, "assessment after cycle 1")
    assert a["actual"] == day(60) and a["status"] == "done" and devs(s).height == 0


def test_assessment_on_next_cycle_day_belongs_to_previous_cycle():
    f = {"administration": admins([("S01", 1, FIRST), ("S01", 2, day(56))]),
         "tumour_assessment": assessments([("S01", day(56))])}
    s = build_schedule(f, as_of=day(60))
    assert tl(s, "assessment after cycle 1")["status"] == "done"
    assert tl(s, "assessment after cycle 2")["status"] == "planned"


@pytest.mark.parametrize("as_of_day,status", [(55, "planned"), (56, "due"), (84, "due"),
                                               (85, "missing")])
def test_assessment_pending_states(as_of_day, status):
    f = {"administration": admins([("S01", 1, FIRST)]),
         "follow_up": follow_up([("S01", day(as_of_day), None, None)])}
    cfg = ProtocolConfig(max_cycles=1)
    s = build_schedule(f, cfg, as_of=day(as_of_day))
    assert tl(s, "assessment after cycle 1")["status"] == status
    missing = devs(s, "assessment missing")
    assert missing.height == (status == "missing")
    wl = s.worklist.filter(pl.col("kind") == "assessment").row(0, named=True)
    assert wl["status"] == {"missing": "overdue"}.get(status, status)
    assert wl["days_overdue"] == (1 if status == "missing" else None)


def test_no_missing_assessment_when_subject_died_before_window_closed():
    f = {"administration": admins([("S01", 1, FIRST)]),
         "follow_up": follow_up([("S01", day(40), day(40), None)])}
    s = build_schedule(f, as_of=day(200))
    assert tl(s, "assessment after cycle 1")["status"] == "not expected"
    assert devs(s).height == 0 and s.worklist.height == 0
    assert s.subjects.row(0, named=True)["treatment_status"] == "off: died"


def test_cycle_after_progression_and_beyond_maximum():
    f = {"administration": admins([("S01", 1, FIRST), ("S01", 2, day(56)), ("S01", 3, day(112))]),
         "tumour_assessment": assessments([("S01", day(-20), "PD"), ("S01", day(55)),
                                           ("S01", day(100), "non-CR/non-PD", True)])}
    s = build_schedule(f, ProtocolConfig(max_cycles=2), as_of=day(150))
    after = devs(s, "cycle after progression")
    assert after.rows() == [("S01", "cycle after progression", "cycle 3", day(100), day(112), 12)]
    beyond = devs(s, "cycle beyond maximum")
    assert beyond["event"].to_list() == ["cycle 3"]
    subj = s.subjects.row(0, named=True)
    assert subj["progression_date"] == day(100) and subj["treatment_status"] == "off: progression"


def test_progression_frame_from_response_engine():
    f = {"administration": admins([("S01", 1, FIRST), ("S01", 2, day(56))])}
    prog = pl.DataFrame({"subject_id": ["S01"], "date": [day(50)]})
    s = build_schedule(f, as_of=day(60), progression=prog)
    assert devs(s, "cycle after progression")["days_off"].to_list() == [6]


def test_worklist_next_cycle_due_overdue_and_planned():
    f = {"administration": admins([("A", 1, FIRST), ("B", 1, day(-20)), ("C", 1, day(-5))]),
         "tumour_assessment": assessments([])}
    s = build_schedule(f, as_of=day(56))
    wl = s.worklist.filter(pl.col("kind") == "cycle").sort("subject_id")
    assert wl["status"].to_list() == ["due", "overdue", "due"]
    # B planned day 36, window to day 43: overdue by 13 days; C planned day 51 (-5 days)
    assert wl["days_overdue"].to_list() == [None, 13, None]
    assert wl["days_until"].to_list() == [0, -20, -5]
    s2 = build_schedule(f, as_of=day(48))
    a = s2.worklist.filter((pl.col("subject_id") == "A") & (pl.col("kind") == "cycle"))
    assert a["status"].to_list() == ["planned"] and a["window_start"].to_list() == [day(49)]
    nxt = s2.subjects.filter(pl.col("subject_id") == "A").row(0, named=True)
    # assessment and cycle 2 both planned on day 56: the assessment (pre-treatment) comes first
    assert nxt["next_event"] == "assessment after cycle 1" and nxt["next_planned"] == day(56)
    assert s2.worklist.filter(pl.col("subject_id") == "A")["next"].to_list() == [True, False]


def test_as_of_ignores_later_records():
    f = {"administration": admins([("S01", 1, FIRST), ("S01", 2, day(58))]),
         "tumour_assessment": assessments([("S01", day(57))])}
    s = build_schedule(f, as_of=day(57))
    assert s.timeline.filter(pl.col("kind") == "cycle")["status"].to_list() == ["done", "due"]
    assert tl(s, "cycle 2")["actual"] is None
    full = build_schedule(f)
    assert full.as_of == day(58) == data_cutoff(f)
    assert tl(full, "cycle 2")["actual"] == day(58)


def test_follow_up_after_maximum_cycles_and_study_day():
    f = {"administration": admins([("S01", 1, FIRST), ("S01", 2, day(56))]),
         "tumour_assessment": assessments([("S01", day(-3)), ("S01", day(56)), ("S01", day(120))]),
         "follow_up": follow_up([("S01", day(150), None, None)])}
    s = build_schedule(f, ProtocolConfig(max_cycles=2), as_of=day(200))
    fu = s.worklist.filter(pl.col("kind") == "follow-up").row(0, named=True)
    assert fu["planned"] == day(150 + 90) and fu["status"] == "planned"
    assert fu["window_start"] == day(226)
    assert tl(s, "cycle 2")["study_day"] == 57  # CDISC: day 1 = first treatment, no day 0
    assert tl(s, "assessment after cycle 2")["study_day"] == 121
    assert s.worklist.filter(pl.col("kind") == "cycle").height == 0


def test_new_therapy_stops_treatment():
    f = {"administration": admins([("S01", 1, FIRST)]),
         "follow_up": follow_up([("S01", day(70), None, day(30))])}
    s = build_schedule(f, as_of=day(90))
    assert tl(s, "assessment after cycle 1")["status"] == "not expected"
    assert s.subjects["treatment_status"].to_list() == ["off: new therapy"]
    assert s.worklist["kind"].to_list() == ["follow-up"]


def test_empty_and_missing_record_types():
    s = build_schedule({}, as_of=date(2004, 1, 1))
    assert s.timeline.height == s.deviations.height == s.worklist.height == 0
    assert s.deviations.columns == ["subject_id", "kind", "event", "planned", "actual", "days_off"]
    f = {"administration": admins([("S01", 1, FIRST)]).clear()}
    assert build_schedule(f, as_of=FIRST).timeline.height == 0


def test_many_subjects_vectorised():
    """2,000 subjects, each with 3 cycles at intervals 49..63+: count of late cycles."""
    n = 2000
    rows, late = [], 0
    for i in range(n):
        gap = 45 + i % 25  # 45..69
        rows += [(f"S{i:04d}", 1, FIRST), (f"S{i:04d}", 2, day(gap)), (f"S{i:04d}", 3, day(2 * gap))]
        late += 2 * (gap > 63)
    s = build_schedule({"administration": admins(rows)}, as_of=day(200))
    assert devs(s, "cycle late").height == late
    assert devs(s, "cycle early").height == 2 * sum(45 + i % 25 < 49 for i in range(n))


@pytest.mark.parametrize("as_of_day,stopped", [(119, False), (120, True)])
def test_stale_next_cycle_means_cycles_stopped(as_of_day, stopped):
    # cycle 2 planned day 56, window to day 63; stale after 56 more days (day 119)
    f = {"administration": admins([("S01", 1, FIRST)]),
         "tumour_assessment": assessments([("S01", day(60))])}
    s = build_schedule(f, as_of=day(as_of_day))
    status = s.subjects["treatment_status"][0]
    kinds = s.worklist["kind"].to_list()
    if stopped:
        assert status == "off: cycles stopped" and kinds == ["follow-up"]
    else:
        assert status == "on treatment" and kinds == ["cycle"]
        assert s.worklist["days_overdue"].to_list() == [56]
    keep = build_schedule(f, ProtocolConfig(stale_after_days=None), as_of=day(500))
    assert keep.worklist["kind"].to_list() == ["cycle"]


@pytest.mark.parametrize("as_of_day,listed", [(140, True), (141, False)])
def test_stale_missing_assessment_leaves_worklist_but_stays_a_deviation(as_of_day, listed):
    f = {"administration": admins([("S01", 1, FIRST)])}
    s = build_schedule(f, ProtocolConfig(max_cycles=1), as_of=day(as_of_day))
    assert (s.worklist.filter(pl.col("kind") == "assessment").height == 1) is listed
    assert devs(s, "assessment missing").height == 1
