"""Unit conversion, not-gradable cases, errors, baseline choice and the criteria data files."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from test_toxicity_helpers import START, UTC, at, grade_one, labs, starts

from radiotrial.criteria.toxicity import ToxicityConfig, grade_labs, load_criteria
from radiotrial.criteria.toxicity.tables import parse_rule
from radiotrial.errors import InputError, RadiotrialError


@pytest.mark.parametrize(
    "analyte,value,unit,lln,uln,criteria,expected",
    [
        ("HGB", 64.9, "g/L", 120, 160, "ctc-v2", 4),     # 6.49 g/dL
        ("HGB", 65.0, "g/L", 120, 160, "ctc-v2", 3),     # 6.5 g/dL
        ("HGB", 79.9, "g/L", 120, 160, "ctcae-v5", 3),   # admiral: 79 -> 3, 80 -> 2
        ("HGB", 80.0, "g/L", 120, 160, "ctcae-v5", 2),
        ("HGB", 99.0, "g/L", 120, 160, "ctcae-v5", 2),
        ("HGB", 100.0, "g/L", 120, 160, "ctcae-v5", 1),
        ("HGB", 139.0, "g/L", 140, 160, "ctcae-v5", 1),
        ("HGB", 140.0, "g/L", 140, 160, "ctcae-v5", 0),
        ("HGB", 4.9647, "mmol/L", 7.4, 9.9, "ctcae-v5", 3),  # 8.0 g/dL = 4.9648 mmol/L
        ("HGB", 4.9648, "mmol/L", 7.4, 9.9, "ctcae-v5", 2),
        ("PLAT", 74900, "/mm3", 150000, 400000, "ctcae-v5", 2),
        ("PLAT", 75000, "cells/uL", 150000, 400000, "ctcae-v5", 1),
        ("PLAT", 49.9, "10^3/uL", 150, 400, "ctcae-v5", 3),
        ("NEUT", 500, "/mm3", 2000, 7500, "ctcae-v5", 3),
        ("NEUT", 499, "cells/uL", 2000, 7500, "ctcae-v5", 4),
        ("WBC", 0.99, "10^3/uL", 4, 10, "ctc-v2", 4),
        ("BILI", 1.2, "mg/dL", 0.2, 1.2, "ctc-v2", 0),    # exactly ULN after conversion
        ("BILI", 1.8, "mg/dL", 0.2, 1.2, "ctc-v2", 1),    # 1.5 x ULN
        ("BILI", 1.81, "mg/dL", 0.2, 1.2, "ctc-v2", 2),
        ("CREAT", 1.5, "mg/dL", 0.5, 1.0, "ctc-v2", 1),     # 1.5 x ULN in mg/dL
        ("CREAT", 1.51, "mg/dL", 0.5, 1.0, "ctc-v2", 2),
        ("ALT", 200, "IU/L", None, 40, "ctc-v2", 2),        # IU/L = U/L; 5.0 x ULN
        ("ALT", 201, "IU/L", None, 40, "ctc-v2", 3),
    ],
)
def test_unit_conversion_then_grade(analyte, value, unit, lln, uln, criteria, expected):
    r = grade_one(analyte, value, criteria, lln=lln, uln=uln, unit=unit)
    assert r["grade"] == expected
    from radiotrial.units import LAB_CANONICAL

    assert r["unit"] == LAB_CANONICAL[analyte]


def test_converted_values_are_reported_in_canonical_units():
    r = grade_one("HGB", 64.9, "ctc-v2", lln=120, uln=160, unit="g/L")
    assert r["value"] == 6.49 and r["lln"] == 12.0


def test_unknown_unit_is_an_error_naming_row_and_value():
    frame = labs([("S", at(1), "HGB", 10.0, "g/X", 12.0, 16.0)])
    with pytest.raises(InputError) as exc:
        grade_labs(frame, "ctcae-v5", file="lab.csv")
    msg = str(exc.value)
    assert "g/X" in msg and "unit" in msg and "row 2" in msg


def test_non_numeric_value_is_an_error():
    frame = labs([("S", at(1), "PLAT", 10.0, "10^9/L", 150.0, 400.0)]).with_columns(
        pl.lit("ten").alias("value")
    )
    with pytest.raises(InputError, match="not a number"):
        grade_labs(frame, "ctcae-v5")


def test_numeric_strings_are_accepted():
    frame = labs([("S", at(1), "PLAT", 10.0, "10^9/L", 150.0, 400.0)]).with_columns(
        pl.lit(" 49.9 ").alias("value"), pl.lit("").alias("lln")
    )
    out = grade_labs(frame, "ctcae-v5")
    assert out["grade"].to_list() == [3] and out["lln"].to_list() == [None]


def test_naive_instant_is_refused():
    frame = labs([("S", at(1), "PLAT", 10.0, "10^9/L", 150.0, 400.0)]).with_columns(
        pl.col("instant").dt.replace_time_zone(None)
    )
    with pytest.raises(RadiotrialError, match="time zone"):
        grade_labs(frame, "ctcae-v5")


def test_unknown_criteria_is_an_error():
    with pytest.raises(RadiotrialError, match="unknown toxicity criteria"):
        load_criteria("who-2000")


@pytest.mark.parametrize("criteria", ["ctc-v2", "ctcae-v5", "ctcae-v4.03"])
def test_missing_lln_when_needed_is_not_gradable(criteria):
    # platelets 100: grade 1 or 0 depends on the LLN
    r = grade_one("PLAT", 100.0, criteria, lln=None, uln=400)
    assert r["grade"] is None and not r["gradable"]
    assert r["not_gradable_reason"] == "LLN missing"


@pytest.mark.parametrize("criteria", ["ctc-v2", "ctcae-v5"])
def test_missing_lln_not_needed_when_absolute_limit_proves_grade(criteria):
    r = grade_one("PLAT", 40.0, criteria, lln=None, uln=None)
    assert r["grade"] == 3 and r["gradable"]


def test_missing_uln_and_missing_value():
    r = grade_one("ALT", 300.0, "ctc-v2", uln=None)
    assert r["grade"] is None and r["not_gradable_reason"] == "ULN missing"
    r = grade_one("PLAT", None, "ctcae-v5", lln=150, uln=400)
    assert r["grade"] is None and r["not_gradable_reason"] == "missing value"


def test_v5_liver_without_baseline_is_not_gradable_by_default():
    r = grade_one("ALT", 130.0, "ctcae-v5", uln=40)
    assert r["grade"] is None and r["not_gradable_reason"] == "no baseline value"
    r = grade_one("ALT", 130.0, "ctcae-v5", uln=40, missing_baseline="assume_normal")
    assert r["grade"] == 2
    # v2.0 does not need a baseline
    assert grade_one("ALT", 130.0, "ctc-v2", uln=40)["grade"] == 2


def test_v5_creatinine_without_baseline():
    # 3.5 x ULN proves grade 3 (not > 6 x ULN) whatever the baseline
    assert grade_one("CREAT", 350.0, "ctcae-v5", uln=100)["grade"] == 3
    # 1.2 x ULN: grade 2 or 3 by baseline multiples is unknown -> not gradable
    r = grade_one("CREAT", 120.0, "ctcae-v5", uln=100)
    assert r["grade"] is None and "no baseline value" in r["not_gradable_reason"]
    assert grade_one("CREAT", 120.0, "ctcae-v5", uln=100, missing_baseline="assume_normal")["grade"] == 1


def test_clinical_grades_capped_and_flagged():
    r = grade_one("HGB", 5.0, "ctcae-v5", lln=12, uln=16)
    assert r["grade"] == 3 and r["clinical_review"] and r["max_lab_grade"] == 3
    assert not grade_one("HGB", 5.0, "ctc-v2", lln=12, uln=16)["clinical_review"]
    assert not grade_one("HGB", 13.0, "ctcae-v5", lln=12, uln=16)["clinical_review"]


def test_grade_within_normal_range_option_resolves_v2_anc_ambiguity():
    assert grade_one("NEUT", 1.9, "ctc-v2", lln=1.8, uln=7)["grade"] == 1
    r = grade_one("NEUT", 1.9, "ctc-v2", lln=1.8, uln=7, grade_within_normal_range=False)
    assert r["grade"] == 0
    r = grade_one("HGB", 9.9, "ctcae-v5", lln=9.5, uln=16, grade_within_normal_range=False)
    assert r["grade"] == 0


def test_baseline_is_last_value_on_or_before_treatment_day():
    rows = [
        ("S", at(-10), "PLAT", 300.0, "10^9/L", 150.0, 400.0),
        ("S", at(0, 23), "PLAT", 140.0, "10^9/L", 150.0, 400.0),  # same day, after dosing
        ("S", dt.datetime.combine(START, dt.time(0), tzinfo=UTC) + dt.timedelta(days=1),
         "PLAT", 60.0, "10^9/L", 150.0, 400.0),                    # next day 00:00 -> post
    ]
    ts = starts("S").with_columns(pl.lit(at(0, 10)).alias("treatment_start_instant"))
    out = grade_labs(labs(rows), "ctcae-v5", treatment_start=ts)
    assert out["phase"].to_list() == ["pre", "baseline", "post"]
    assert out["baseline_grade"].to_list() == [1, 1, 1]
    cfg = ToxicityConfig(baseline_cutoff="first_dose_instant")
    out = grade_labs(labs(rows), "ctcae-v5", treatment_start=ts, config=cfg)
    assert out["phase"].to_list() == ["baseline", "post", "post"]


def test_baseline_record_grading_option():
    # abnormal ALT baseline 100 (2.5 x ULN): 'uln' gives it grade 1, 'self' gives 0 (admiral#2512)
    rows = [("S", at(-1), "ALT", 100.0, "U/L", None, 40.0), ("S", at(5), "ALT", 160.0, "U/L", None, 40.0)]
    out = grade_labs(labs(rows), "ctcae-v5", treatment_start=starts("S"))
    assert out["grade"].to_list() == [1, 1]
    cfg = ToxicityConfig(grade_baseline_record="self")
    out = grade_labs(labs(rows), "ctcae-v5", treatment_start=starts("S"), config=cfg)
    assert out["grade"].to_list() == [0, 1]


def test_untreated_subject_and_no_treatment_information():
    rows = [("A", at(-1), "PLAT", 140.0, "10^9/L", 150.0, 400.0),
            ("B", at(5), "PLAT", 40.0, "10^9/L", 150.0, 400.0),
            ("B", at(9), "PLAT", 30.0, "10^9/L", 150.0, 400.0)]
    out = grade_labs(labs(rows), "ctcae-v5", treatment_start=starts("A"))
    assert out["phase"].to_list() == ["baseline", "untreated", "untreated"]
    out = grade_labs(labs(rows), "ctcae-v5")  # first value per subject is the baseline
    assert out["phase"].to_list() == ["baseline", "baseline", "post"]


def test_empty_input_keeps_columns():
    out = grade_labs(labs([]), "ctc-v2")
    assert out.height == 0 and {"grade", "gradable", "term"} <= set(out.columns)


def test_data_files_parse_and_carry_sources():
    for name in ("ctc-v2", "ctcae-v5", "ctcae-v4.03"):
        crit = load_criteria(name)
        assert set(crit.terms) == {"HGB", "WBC", "NEUT", "LYMPH", "PLAT", "ALT", "AST", "ALP",
                                   "GGT", "BILI", "CREAT"}
        for term in crit.terms.values():
            assert term.source and term.category in {"haematological", "hepatic", "renal"}
            assert list(term.grades) == sorted(term.grades, reverse=True)
    assert load_criteria("ctc-v2").confidence == "K"
    assert all("[K" in t.source for t in load_criteria("ctc-v2").terms.values())
    assert max(load_criteria("ctc-v2").terms["LYMPH"].grades) == 3


def test_rule_grammar():
    r = parse_rule(">= 1.5 x BL if baseline abnormal")
    assert (r.op, r.factor, r.ref, r.when) == (">=", 1.5, "base", "baseline_abnormal")
    assert parse_rule("< LLN").ref == "lln" and parse_rule("< 10.0").ref == "abs"
    with pytest.raises(ValueError):
        parse_rule("about 3 x ULN")


def test_config_rejects_unknown_option():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        ToxicityConfig(baseline_rule="x")
