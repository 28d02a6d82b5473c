"""Eligibility rules: both sides of every threshold, missing data, windows, summary."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from pydantic import ValidationError
from test_protocol_data import (
    ENROL,
    FIRST,
    admins,
    at,
    eligible_frames,
    labs,
    scans,
    screening_labs,
    subject,
    subjects,
)

from radiotrial.protocol import ProtocolConfig, assess_eligibility, eligibility_summary
from radiotrial.protocol.config import (
    AgeRule,
    EligibilityConfig,
    HistologyRule,
    LabRule,
    ProgressionRule,
    RecordedRule,
    ScintigraphyRule,
)


def result(frames, criterion, config=None, sid="S01"):
    r = assess_eligibility(frames, config).filter(
        (pl.col("subject_id") == sid) & (pl.col("criterion") == criterion))
    assert r.height == 1, r
    return r.row(0, named=True)


def with_subject(**over):
    f = eligible_frames()
    f["subject"] = subjects(subject(**over))
    return f


def with_labs(**over):
    f = eligible_frames()
    f["lab"] = labs(screening_labs(**over))
    return f


def test_default_config_is_the_model_study():
    cfg = ProtocolConfig()
    assert (cfg.cycle_interval_days, cfg.cycle_tolerance_days) == (56, 7)
    assert (cfg.assessment_window_start_days, cfg.assessment_window_end_days) == (56, 84)
    names = [r.name for r in cfg.eligibility.rules]
    assert "histology" in names and "PLAT >= 100 10^9/L" in names and "BILI <= 2 x ULN" in names


def test_all_criteria_met_is_eligible():
    res = assess_eligibility(eligible_frames())
    assert res.columns == ["subject_id", "criterion", "result", "record", "value", "reason"]
    assert res["result"].to_list() == ["met"] * len(ProtocolConfig().eligibility.rules)
    assert res["reason"].null_count() == res.height
    summ = eligibility_summary(res)
    assert summ.row(0, named=True)["status"] == "eligible"
    assert summ.row(0, named=True)["eligible"] is True


# --- histology / liver metastases / performance status --------------------------------------

def test_histology():
    assert result(with_subject(histology="Neuroendocrine tumour G2"), "histology")["result"] == "met"
    r = result(with_subject(histology="adenocarcinoma"), "histology")
    assert r["result"] == "not met" and "adenocarcinoma" in r["reason"]
    r = result(with_subject(histology=None), "histology")
    assert r["result"] == "not assessable" and "not recorded" in r["reason"]
    exact = ProtocolConfig(eligibility=EligibilityConfig(
        rules=[HistologyRule(allowed=["neuroendocrine carcinoma"], match="exact")]))
    assert result(with_subject(histology="Neuroendocrine carcinoma "), "histology",
                  exact)["result"] == "met"
    assert result(with_subject(histology="neuroendocrine carcinoma G3"), "histology",
                  exact)["result"] == "not met"


@pytest.mark.parametrize("value,expected", [(True, "met"), (False, "not met"),
                                            (None, "not assessable")])
def test_liver_metastases(value, expected):
    assert result(with_subject(liver_metastases=value), "liver_metastases")["result"] == expected


@pytest.mark.parametrize("ps,expected", [(2, "met"), (3, "not met"), (None, "not assessable")])
def test_performance_status(ps, expected):
    assert result(with_subject(performance_status=ps), "ECOG <= 2")["result"] == expected


# --- progression within N months -------------------------------------------------------------

@pytest.mark.parametrize("pdate,expected", [
    (date(2003, 3, 1), "met"),          # exactly 12 calendar months before enrolment 2004-03-01
    (date(2003, 2, 28), "not met"),     # one day more
    (ENROL, "met"),                     # on the enrolment day
    (ENROL + timedelta(days=1), "not met"),  # after enrolment
    (None, "not assessable"),
])
def test_progression_window(pdate, expected):
    r = result(with_subject(progression_date=pdate), "progression")
    assert r["result"] == expected
    if expected != "met":
        assert r["reason"]


def test_progression_months_option():
    cfg = ProtocolConfig(eligibility=EligibilityConfig(rules=[ProgressionRule(within_months=6)]))
    assert result(with_subject(progression_date=date(2003, 9, 1)), "progression",
                  cfg)["result"] == "met"
    assert result(with_subject(progression_date=date(2003, 8, 31)), "progression",
                  cfg)["result"] == "not met"


# --- scintigraphy ----------------------------------------------------------------------------

SCINT = "scintigraphy In-111 pentetreotide grade>=3"


@pytest.mark.parametrize("grade,expected", [(3, "met"), (4, "met"), (2, "not met")])
def test_scintigraphy_grade(grade, expected):
    f = eligible_frames()
    f["scintigraphy"] = scans([("S01", date(2004, 2, 10), grade)])
    r = result(f, SCINT)
    assert r["result"] == expected and r["value"] == str(grade)
    assert r["record"] == "scintigraphy In-111 pentetreotide 2004-02-10"


@pytest.mark.parametrize("days_before,expected", [(0, "met"), (90, "met"), (91, "not assessable")])
def test_scintigraphy_window(days_before, expected):
    f = eligible_frames()
    f["scintigraphy"] = scans([("S01", FIRST - timedelta(days=days_before), 4)])
    r = result(f, SCINT)
    assert r["result"] == expected
    if expected != "met":
        assert "within 90 days before first treatment" in r["reason"]
        assert str(FIRST - timedelta(days=91)) in r["reason"]


def test_scintigraphy_missing_or_wrong_tracer_or_after_treatment():
    f = eligible_frames()
    f["scintigraphy"] = scans([("S01", date(2004, 2, 10), 4, "Tc-99m MAA")])
    r = result(f, SCINT)
    assert r["result"] == "not assessable" and "no In-111 pentetreotide scan recorded" in r["reason"]
    del f["scintigraphy"]
    assert result(f, SCINT)["result"] == "not assessable"
    f["scintigraphy"] = scans([("S01", FIRST + timedelta(days=1), 4)])
    r = result(f, SCINT)
    assert r["result"] == "not assessable" and "on or before" in r["reason"]
    f["scintigraphy"] = scans([("S01", date(2004, 2, 10), None)])
    r = result(f, SCINT)
    assert r["result"] == "not assessable" and "uptake_grade not recorded" in r["reason"]


def test_scintigraphy_latest_graded_scan_in_window_is_used():
    f = eligible_frames()
    f["scintigraphy"] = scans([("S01", date(2004, 1, 10), 4), ("S01", date(2004, 2, 20), 2)])
    assert result(f, SCINT)["result"] == "not met"


def test_scintigraphy_options():
    cfg = ProtocolConfig(eligibility=EligibilityConfig(rules=[
        ScintigraphyRule(tracer="Ga-68 DOTATATE", min_uptake_grade=2, within_days=30)]))
    f = eligible_frames()
    f["scintigraphy"] = scans([("S01", FIRST - timedelta(days=30), 2, "Ga-68 DOTATATE")])
    assert result(f, "scintigraphy Ga-68 DOTATATE grade>=2", cfg)["result"] == "met"


# --- age ---------------------------------------------------------------------------------------

def test_age_bounds():
    cfg = ProtocolConfig(eligibility=EligibilityConfig(rules=[AgeRule(min_years=18,
                                                                       max_years=75)]))
    for age, expected in [(18, "met"), (17.9, "not met"), (75, "met"), (75.5, "not met")]:
        assert result(with_subject(age=age), "age", cfg)["result"] == expected
    r = result(with_subject(age=None), "age", cfg)
    assert r["result"] == "not assessable" and "neither age nor birth_year" in r["reason"]


def test_age_from_birth_year_is_met_only_when_unambiguous():
    cfg = ProtocolConfig(eligibility=EligibilityConfig(rules=[AgeRule(min_years=18)]))
    # enrolment 2004: born 1985 -> 18 or 19: met; 1986 -> 17 or 18: ambiguous; 1987 -> not met
    assert result(with_subject(age=None, birth_year=1985), "age", cfg)["result"] == "met"
    r = result(with_subject(age=None, birth_year=1986), "age", cfg)
    assert r["result"] == "not assessable" and "ambiguous" in r["reason"]
    assert result(with_subject(age=None, birth_year=1987), "age", cfg)["result"] == "not met"


# --- labs --------------------------------------------------------------------------------------

@pytest.mark.parametrize("criterion,analyte,ok,bad", [
    ("PLAT >= 100 10^9/L", "PLAT", 100.0, 99.9),
    ("NEUT >= 1.5 10^9/L", "NEUT", 1.5, 1.49),
    ("HGB >= 9 g/dL", "HGB", 9.0, 8.9),
    ("BILI <= 2 x ULN", "BILI", 42.0, 42.1),      # ULN 21 umol/L
    ("CREAT <= 1.5 x ULN", "CREAT", 165.0, 165.2),  # ULN 110 umol/L
])
def test_lab_thresholds_both_sides(criterion, analyte, ok, bad):
    r = result(with_labs(**{analyte: ok}), criterion)
    assert r["result"] == "met" and r["value"].startswith(f"{ok}")
    assert r["record"].startswith(f"lab {analyte} 2004-03-05T08:00")
    r = result(with_labs(**{analyte: bad}), criterion)
    assert r["result"] == "not met" and analyte in r["reason"]


def test_lab_missing_uln_is_not_assessable_unless_fallback():
    f = eligible_frames()
    f["lab"] = labs([("S01", at(date(2004, 3, 5)), "BILI", 12.0, None)])
    r = result(f, "BILI <= 2 x ULN")
    assert r["result"] == "not assessable" and "ULN missing" in r["reason"]
    cfg = ProtocolConfig(eligibility=EligibilityConfig(rules=[
        LabRule(analyte="BILI", op="<=", threshold=2, relative_to="uln", fallback_limit=21)]))
    assert result(f, "BILI <= 2 x ULN", cfg)["result"] == "met"
    f["lab"] = labs([("S01", at(date(2004, 3, 5)), "BILI", 42.5, None)])
    assert result(f, "BILI <= 2 x ULN", cfg)["result"] == "not met"


def test_lab_missing_is_not_assessable_with_reason():
    f = eligible_frames()
    f["lab"] = f["lab"].filter(pl.col("analyte") != "PLAT")
    r = result(f, "PLAT >= 100 10^9/L")
    assert r["result"] == "not assessable" and r["reason"] == "no PLAT value recorded"
    assert eligibility_summary(assess_eligibility(f))["status"][0] == "not assessable"


@pytest.mark.parametrize("days_before,expected", [(28, "met"), (29, "not assessable")])
def test_lab_window(days_before, expected):
    f = eligible_frames()
    f["lab"] = labs(screening_labs(when=at(FIRST - timedelta(days=days_before), 7)))
    r = result(f, "PLAT >= 100 10^9/L")
    assert r["result"] == expected
    if expected != "met":
        assert "within 28 days before first treatment" in r["reason"]


def test_lab_after_first_administration_is_not_used():
    f = eligible_frames()  # cycle 1 at FIRST 10:00 UTC
    f["lab"] = labs(screening_labs(when=at(FIRST, 8), PLAT=80.0)
                    + [("S01", at(FIRST, 14), "PLAT", 250.0)])
    assert result(f, "PLAT >= 100 10^9/L")["result"] == "not met"


def test_last_value_in_window_is_used():
    f = eligible_frames()
    f["lab"] = labs(screening_labs() + [("S01", at(date(2004, 3, 8)), "PLAT", 95.0)])
    r = result(f, "PLAT >= 100 10^9/L")
    assert r["result"] == "not met" and r["value"] == "95.0 10^9/L"


# --- reference date -----------------------------------------------------------------------------

def test_untreated_subject_uses_enrolment_or_not_assessable():
    f = eligible_frames()
    del f["administration"]
    f["scintigraphy"] = scans([("S01", ENROL - timedelta(days=10), 4)])
    f["lab"] = labs(screening_labs(when=at(ENROL - timedelta(days=3))))
    r = assess_eligibility(f)
    assert set(r["result"]) == {"met"}
    cfg = ProtocolConfig(eligibility=EligibilityConfig(untreated_reference="none"))
    r = result(f, "PLAT >= 100 10^9/L", cfg)
    assert r["result"] == "not assessable" and "no first treatment" in r["reason"]


def test_recorded_rule():
    cfg = ProtocolConfig(eligibility=EligibilityConfig(rules=[RecordedRule(criterion="consent")]))
    f = eligible_frames()
    assert result(f, "consent", cfg)["result"] == "not assessable"
    f["eligibility"] = pl.DataFrame({"subject_id": ["S01"], "criterion": ["consent"],
                                     "met": [False], "assessed_date": [ENROL], "note": ["x"]})
    r = result(f, "consent", cfg)
    assert r["result"] == "not met" and "x" in r["reason"]
    f["eligibility"] = f["eligibility"].with_columns(pl.lit(True).alias("met"))
    assert result(f, "consent", cfg)["result"] == "met"


# --- summary, config, inputs -------------------------------------------------------------------

def test_summary_not_met_wins_over_not_assessable():
    f = with_subject(histology="adenocarcinoma", liver_metastases=None)
    s = eligibility_summary(assess_eligibility(f)).row(0, named=True)
    assert s["status"] == "not eligible" and s["eligible"] is False
    assert s["not_met"] == "histology" and s["not_assessable"] == "liver_metastases"
    assert "histology: histology 'adenocarcinoma'" in s["reason"]


def test_config_validation():
    with pytest.raises(ValidationError):
        ProtocolConfig(cycle_interval_dayz=56)
    with pytest.raises(ValidationError):
        EligibilityConfig(rules=[AgeRule(), AgeRule()])
    with pytest.raises(ValidationError):
        ProtocolConfig(assessment_window_start_days=84, assessment_window_end_days=56)
    cfg = ProtocolConfig.model_validate({"eligibility": {"rules": [
        {"kind": "lab", "analyte": "PLAT", "op": ">=", "threshold": 150}]}})
    assert cfg.eligibility.rules[0].name == "PLAT >= 150 10^9/L"
    with pytest.raises(ValidationError):
        ProtocolConfig.model_validate({"eligibility": {"rules": [{"kind": "colour"}]}})


def test_pandas_input_and_missing_record_types():
    f = eligible_frames()
    pdf = {k: v.to_pandas() for k, v in f.items()}
    assert set(assess_eligibility(pdf)["result"]) == {"met"}
    only_subject = {"subject": f["subject"]}
    res = assess_eligibility(only_subject)
    assert res.filter(pl.col("criterion").str.starts_with("PLAT"))["result"][0] == "not assessable"
    empty = {k: v.clear() for k, v in f.items()}
    assert assess_eligibility(empty).height == 0


def test_many_subjects_vectorised_matches_numpy():
    """5,000 subjects with random platelets around the threshold: same answer as numpy."""
    rng = np.random.default_rng(8)
    n = 5000
    ids = [f"S{i:05d}" for i in range(n)]
    plat = np.round(rng.normal(100, 10, n), 1)
    has = rng.random(n) > 0.1
    f = {
        "subject": subjects(*[subject(subject_id=s) for s in ids]),
        "administration": admins([(s, 1, FIRST) for s in ids]),
        "lab": labs([(s, at(date(2004, 3, 5)), "PLAT", float(v))
                     for s, v, h in zip(ids, plat, has, strict=False) if h]),
    }
    cfg = ProtocolConfig(eligibility=EligibilityConfig(rules=[
        LabRule(analyte="PLAT", op=">=", threshold=100)]))
    res = assess_eligibility(f, cfg).sort("subject_id")
    expected = np.where(~has, "not assessable", np.where(plat >= 100, "met", "not met"))
    assert res["result"].to_list() == expected.tolist()


def test_config_round_trips_through_dump():
    cfg = ProtocolConfig()
    again = ProtocolConfig.model_validate(cfg.model_dump())
    assert again == cfg
    assert [r.name for r in again.eligibility.rules] == [r.name for r in cfg.eligibility.rules]
