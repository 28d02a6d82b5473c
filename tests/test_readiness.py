"""Readiness for the next cycle: every hold reason, and recovery of a platelet count."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from test_protocol_data import (
    FIRST,
    admins,
    adverse_events,
    assessments,
    at,
    day,
    eligible_frames,
    follow_up,
    labs,
    screening_labs,
)

from radiotrial.errors import RadiotrialError
from radiotrial.protocol import ProtocolConfig, check_readiness
from radiotrial.protocol.config import RetreatmentConfig


def no_grader(labs, criteria, starts, config):
    """A grader that finds nothing above grade 0 (isolates the other checks)."""
    return labs.with_columns(pl.lit(0, dtype=pl.Int8).alias("grade"))


def treated(on_day: int = 56, plat: float = 150.0, neut: float = 2.0) -> dict:
    """S01 after cycle 1, with pre-cycle-2 counts two days before ``on_day``."""
    f = eligible_frames()
    f["lab"] = pl.concat([
        f["lab"],
        labs([("S01", at(day(on_day - 2), 8), "PLAT", plat),
              ("S01", at(day(on_day - 2), 8), "NEUT", neut)]),
    ])
    return f


def ready(f, on, activity=None, cfg=None, **kw):
    kw.setdefault("grader", no_grader)
    return check_readiness(f, cfg or ProtocolConfig(), "S01", on, activity, **kw)


def held(r, name):
    return [c for c in r.reasons if c.name == name]


def test_ready_when_all_checks_pass():
    r = ready(treated(), day(56), 1.0)
    assert r.ready and r.reasons == [] and r.next_cycle == 2
    assert {c.name for c in r.checks} >= {"status", "max_cycles", "interval", "progression",
                                           "lab PLAT", "lab NEUT", "toxicity"}
    d = r.to_dict()
    assert d["ready"] is True and d["on"] == str(day(56))


@pytest.mark.parametrize("on_day,is_ready", [(48, False), (49, True), (70, True)])
def test_interval_too_short(on_day, is_ready):
    r = ready(treated(on_day), day(on_day))
    assert r.ready is is_ready
    if not is_ready:
        (c,) = held(r, "interval")
        assert "48 days since cycle 1" in c.detail and str(day(49)) in c.detail


@pytest.mark.parametrize("plat,neut,hold", [
    (75.0, 1.0, []), (74.9, 1.0, ["lab PLAT"]), (75.0, 0.99, ["lab NEUT"]),
    (50.0, 0.5, ["lab PLAT", "lab NEUT"]),
])
def test_lab_below_retreatment_threshold(plat, neut, hold):
    r = ready(treated(plat=plat, neut=neut), day(56))
    assert [c.name for c in r.reasons] == hold
    for c in r.reasons:
        assert "fails the retreatment threshold" in c.detail


def test_lab_missing_or_too_old_holds():
    f = eligible_frames()  # only screening labs, 61 days before day 56
    r = ready(f, day(56))
    assert {c.name for c in r.reasons} == {"lab PLAT", "lab NEUT"}
    assert "no PLAT value within 14 days before" in held(r, "lab PLAT")[0].detail


def test_becomes_ready_once_platelets_recover():
    f = treated(on_day=56, plat=60.0)
    r = ready(f, day(56))
    assert not r.ready and [c.name for c in r.reasons] == ["lab PLAT"]
    f["lab"] = pl.concat([f["lab"], labs([("S01", at(day(63), 8), "PLAT", 98.0)])])
    assert not ready(f, day(62)).ready            # the recovery is not known yet on day 62
    r = ready(f, day(63))
    assert r.ready, r.reasons


def test_adverse_event_not_recovered():
    f = treated()
    f["adverse_event"] = adverse_events([
        ("S01", "thrombocytopenia", 3, day(30), None),
        ("S01", "nausea", 2, day(2), day(10)),              # resolved
        ("S01", "fall", 3, day(40), None, "unrelated"),      # not a treatment toxicity
    ])
    r = ready(f, day(56))
    (c,) = held(r, "toxicity")
    assert "thrombocytopenia" in c.detail and "grade 3" in c.detail
    f["adverse_event"] = adverse_events([("S01", "thrombocytopenia", 3, day(30), day(55))])
    assert ready(f, day(56)).ready
    f["adverse_event"] = adverse_events([("S01", "thrombocytopenia", 1, day(30), None)])
    assert ready(f, day(56)).ready  # grade 1 is recovered enough (<= grade 1)


def test_lab_toxicity_grade_from_grader():
    def grader(labs, criteria, starts, config):
        assert criteria == "ctcae-v5" and starts["treatment_start"].to_list() == [FIRST]
        return labs.with_columns(
            pl.when(pl.col("analyte") == "NEUT").then(2).otherwise(0).cast(pl.Int8).alias("grade"))

    r = ready(treated(neut=1.2), day(56), grader=grader)
    (c,) = held(r, "toxicity")
    assert c.detail.startswith("NEUT 1.2") and "grade 2" in c.detail


def test_lab_toxicity_with_real_grader_end_to_end():
    from radiotrial.criteria.toxicity.config import ToxicityConfig

    # CTCAE v5 anaemia: Hb < 10.0-8.0 g/dL is grade 2; platelets and neutrophils fine
    f = treated()
    f["lab"] = pl.concat([f["lab"], labs([("S01", at(day(54), 8), "HGB", 8.5)])])
    r = check_readiness(f, ProtocolConfig(), "S01", day(56), None,
                        toxicity_config=ToxicityConfig(criteria="ctcae-v5"))
    (c,) = held(r, "toxicity")
    assert "HGB 8.5" in c.detail and "grade 2" in c.detail
    f["lab"] = pl.concat([treated()["lab"], labs([("S01", at(day(54), 8), "HGB", 12.0)])])
    r = check_readiness(f, ProtocolConfig(), "S01", day(56), None,
                        toxicity_config=ToxicityConfig(criteria="ctcae-v5"))
    assert not held(r, "toxicity")


def test_progression_documented():
    f = treated()
    f["tumour_assessment"] = assessments([("S01", day(-20), "PD"), ("S01", day(50), "PD")])
    r = ready(f, day(56))
    (c,) = held(r, "progression")
    assert str(day(50)) in c.detail
    f["tumour_assessment"] = assessments([("S01", day(-20), "PD"), ("S01", day(50))])
    assert ready(f, day(56)).ready  # the baseline PD is the entry criterion, not a hold
    no_hold = ProtocolConfig(retreatment=RetreatmentConfig(hold_on_progression=False))
    f["tumour_assessment"] = assessments([("S01", day(50), "PD")])
    assert ready(f, day(56), cfg=no_hold).ready


def test_maximum_cycles_reached():
    f = treated(on_day=3 * 56)
    f["administration"] = admins([("S01", k + 1, day(56 * k)) for k in range(3)])
    cfg = ProtocolConfig(max_cycles=3)
    r = ready(f, day(4 * 56 - 2), cfg=cfg)
    assert [c.name for c in r.reasons] == ["max_cycles", "lab PLAT", "lab NEUT"]
    assert "3 of 3" in held(r, "max_cycles")[0].detail
    assert ready(f, day(3 * 56 + 56 - 2), cfg=ProtocolConfig(max_cycles=4)).next_cycle == 4


def test_cumulative_activity_limit():
    cfg = ProtocolConfig(retreatment=RetreatmentConfig(max_cumulative_activity_gbq=2.0))
    f = treated()  # 1.0 GBq given
    assert ready(f, day(56), 1.0, cfg=cfg).ready
    r = ready(f, day(56), 1.1, cfg=cfg)
    (c,) = held(r, "cumulative activity")
    assert "2.1 GBq exceeds the limit 2 GBq" in c.detail
    r = ready(f, day(56), None, cfg=cfg)
    assert r.ready and any(c.status == "not checked" for c in r.checks)


def test_dose_or_bed_limit_with_planned_activity():
    calls = []

    def checker(frames, sid, planned, dcfg):
        calls.append((sid, planned, frames["administration"].height))
        over = planned > 1.5
        return [(False, "kidney cumulative dose: 10 Gy within < 23 Gy"),
                (over, "kidney cumulative BED would reach 41 Gy, over < 40 Gy")]

    r = ready(treated(), day(56), 1.0, dose_checker=checker)
    assert r.ready and calls == [("S01", 1.0, 1)]
    r = ready(treated(), day(56), 2.0, dose_checker=checker)
    (c,) = held(r, "dose")
    assert "BED" in c.detail
    required = ProtocolConfig(retreatment=RetreatmentConfig(dose_check="required"))
    assert not ready(treated(), day(56), None, cfg=required, dose_checker=checker).ready
    unknown = ready(treated(), day(56), 1.0, cfg=required,
                    dose_checker=lambda *a: [(None, "liver: not computable")])
    assert [c.name for c in unknown.reasons] == ["dose"]


def test_dose_limit_with_real_dosimetry_engine():
    f = treated()
    f["administration"] = f["administration"].with_columns(
        pl.lit(1.5).alias("liver_mass_kg"), pl.lit(0.5).alias("tumour_mass_kg"))
    r = check_readiness(f, ProtocolConfig(), "S01", day(56), 1.0, grader=no_grader)
    liver = [c for c in r.checks if c.name == "dose" and "normal_liver" in c.detail]
    assert r.ready and liver and liver[0].status == "ok"
    r = check_readiness(f, ProtocolConfig(), "S01", day(56), 5.0, grader=no_grader)
    (c,) = held(r, "dose")
    assert "normal_liver" in c.detail and "over the limit" in c.detail


def test_died_or_new_therapy():
    f = treated()
    f["follow_up"] = follow_up([("S01", day(40), day(40), None)])
    assert "died" in held(ready(f, day(56)), "status")[0].detail
    f["follow_up"] = follow_up([("S01", day(40), None, day(45))])
    assert "new anti-cancer therapy" in held(ready(f, day(56)), "status")[0].detail
    f["follow_up"] = follow_up([("S01", day(60), None, day(58))])
    assert ready(f, day(56)).ready  # new therapy after the date is not known yet


def test_first_cycle_uses_eligibility():
    f = eligible_frames()
    del f["administration"]
    r = ready(f, FIRST)
    assert r.next_cycle == 1 and r.ready, r.reasons
    f["lab"] = labs(screening_labs(PLAT=90.0))
    r = ready(f, FIRST)
    (c,) = held(r, "eligibility")
    assert c.detail.startswith("not eligible") and "PLAT >= 100" in c.detail


def test_user_errors():
    with pytest.raises(RadiotrialError, match="unknown subject_id 'NOPE'"):
        check_readiness(treated(), None, "NOPE", day(56))
    with pytest.raises(RadiotrialError, match="planned activity"):
        check_readiness(treated(), None, "S01", day(56), -1.0)


def test_records_after_the_date_are_ignored():
    f = treated()
    f["administration"] = admins([("S01", 1, FIRST), ("S01", 2, day(56))])
    r = ready(f, day(56) - timedelta(days=1))
    assert r.next_cycle == 2 and r.ready
    on_the_day = ready(f, date(2004, 5, 5))  # cycle 2 was given that day
    assert day(56) == date(2004, 5, 5)
    assert on_the_day.next_cycle == 3 and held(on_the_day, "interval")


def test_uln_relative_retreatment_threshold():
    from radiotrial.protocol.config import LabThreshold

    cfg = ProtocolConfig(retreatment=RetreatmentConfig(labs=[
        LabThreshold(analyte="BILI", op="<=", threshold=3, relative_to="uln")]))
    f = treated()
    f["lab"] = pl.concat([f["lab"], labs([("S01", at(day(54)), "BILI", 63.0)])])  # ULN 21
    assert ready(f, day(56), cfg=cfg).ready
    f["lab"] = pl.concat([treated()["lab"], labs([("S01", at(day(54)), "BILI", 63.5)])])
    (c,) = held(ready(f, day(56), cfg=cfg), "lab BILI")
    assert "limit 63" in c.detail
    f["lab"] = pl.concat([treated()["lab"], labs([("S01", at(day(54)), "BILI", 10.0, None)])])
    (c,) = held(ready(f, day(56), cfg=cfg), "lab BILI")
    assert "no ULN" in c.detail
