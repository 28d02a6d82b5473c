"""RECIST 1.1 Tables 1 and 2 (spec §2) and the target-response thresholds (WHO spec §1, RECIST
spec §2), both sides of every boundary."""

from __future__ import annotations

import polars as pl
import pytest

from radiotrial.criteria.response import ResponseConfig, overall_response_expr, target_response_expr

# Table 1 (target disease): (target, non-target, new) -> overall. None = no non-target disease.
TABLE1 = [
    ("CR", "CR", False, "CR"),
    ("CR", None, False, "CR"),
    ("CR", "NON-CR/NON-PD", False, "PR"),
    ("CR", "NE", False, "PR"),
    ("PR", "NON-CR/NON-PD", False, "PR"),
    ("PR", "NE", False, "PR"),
    ("PR", "CR", False, "PR"),
    ("PR", None, False, "PR"),
    ("SD", "NON-CR/NON-PD", False, "SD"),
    ("SD", "NE", False, "SD"),
    ("SD", "CR", False, "SD"),
    ("NE", "NON-CR/NON-PD", False, "NE"),
    ("NE", "CR", False, "NE"),
    ("NE", None, False, "NE"),
    ("PD", "CR", False, "PD"),
    ("PD", "NE", True, "PD"),
    ("CR", "PD", False, "PD"),
    ("NE", "PD", False, "PD"),
    ("CR", "CR", True, "PD"),
    ("PR", "NE", True, "PD"),
    ("NE", "NE", True, "PD"),
    ("MR", "NON-CR/NON-PD", False, "MR"),
]
# Table 2 (non-target disease only).
TABLE2 = [
    ("CR", False, "CR"),
    ("NON-CR/NON-PD", False, "NON-CR/NON-PD"),
    ("NE", False, "NE"),
    ("PD", False, "PD"),
    ("PD", True, "PD"),
    ("CR", True, "PD"),
    ("NON-CR/NON-PD", True, "PD"),
]



@pytest.mark.parametrize("target,non_target,new,expected", TABLE1)
def test_recist_table1(target, non_target, new, expected):
    df = pl.DataFrame({"target_response": [target], "non_target_response": [non_target],
                       "new_lesions": [new]}, schema={"target_response": pl.String,
                       "non_target_response": pl.String, "new_lesions": pl.Boolean})
    assert df.select(r=overall_response_expr())["r"][0] == expected


@pytest.mark.parametrize("non_target,new,expected", TABLE2)
def test_recist_table2_non_target_only(non_target, new, expected):
    df = pl.DataFrame({"target_response": [None], "non_target_response": [non_target],
                       "new_lesions": [new]}, schema={"target_response": pl.String,
                       "non_target_response": pl.String, "new_lesions": pl.Boolean})
    assert df.select(r=overall_response_expr())["r"][0] == expected


def test_no_disease_and_missing_new_flag():
    df = pl.DataFrame({"target_response": [None, "SD"], "non_target_response": [None, None],
                       "new_lesions": [None, None]}, schema={"target_response": pl.String,
                       "non_target_response": pl.String, "new_lesions": pl.Boolean})
    assert df.select(r=overall_response_expr())["r"].to_list() == [None, "SD"]


def _target(config: ResponseConfig, total: float, baseline: float, nadir: float, *,
            complete: bool = True, measured: float | None = None, all_gone: bool = False,
            lesion_pd: bool = False) -> str:
    df = pl.DataFrame({
        "sum": [total if complete else None], "measured_sum": [measured if measured is not None
                                                               else total],
        "complete": [complete], "all_gone": [all_gone], "baseline_sum": [baseline],
        "nadir_prior": [nadir], "any_lesion_pd": [lesion_pd]},
        schema={"sum": pl.Float64, "measured_sum": pl.Float64, "complete": pl.Boolean,
                "all_gone": pl.Boolean, "baseline_sum": pl.Float64, "nadir_prior": pl.Float64,
                "any_lesion_pd": pl.Boolean})
    return df.select(r=target_response_expr(config))["r"][0]


WHO = ResponseConfig()
R11 = ResponseConfig(criteria="RECIST1.1")
R10 = ResponseConfig(criteria="RECIST1.0")


@pytest.mark.parametrize("total,expected", [
    (50.1, "SD"),    # -49.9 %
    (50.0, "PR"),    # -50.0 % (inclusive)
    (49.0, "PR"),    # 0.7 x 0.7 = 0.49: a 30 % diameter decrease in both axes
    (124.9, "SD"),   # +24.9 % over nadir = baseline
    (125.0, "PD"),   # +25.0 %
    (0.0, "CR"),
])
def test_who_spd_thresholds(total, expected):
    assert _target(WHO, total, 100.0, 100.0, all_gone=total == 0) == expected


def test_who_pd_reference_nadir_vs_baseline():
    # baseline 100, nadir 60, now 75 = +25 % over nadir but -25 % from baseline.
    assert _target(WHO, 75.0, 100.0, 60.0) == "PD"
    assert _target(WHO.model_copy(update={"pd_reference": "baseline"}), 75.0, 100.0, 60.0) == "SD"
    assert _target(WHO.model_copy(update={"pd_reference": "baseline"}), 125.0, 100.0, 60.0) == "PD"
    assert _target(WHO.model_copy(update={"pd_reference": "baseline"}), 124.9, 100.0, 60.0) == "SD"


def test_who_pd_scope():
    lesion_rule = WHO.model_copy(update={"pd_scope": "any_lesion"})
    either = WHO.model_copy(update={"pd_scope": "either"})
    # one lesion rose >= 25 % but the SPD only +10 %
    assert _target(WHO, 110.0, 100.0, 100.0, lesion_pd=True) == "SD"
    assert _target(lesion_rule, 110.0, 100.0, 100.0, lesion_pd=True) == "PD"
    assert _target(either, 110.0, 100.0, 100.0, lesion_pd=True) == "PD"
    # SPD +25 % without any single-lesion PD flag
    assert _target(lesion_rule, 125.0, 100.0, 100.0, lesion_pd=False) == "SD"
    assert _target(either, 125.0, 100.0, 100.0, lesion_pd=False) == "PD"


def test_who_minor_response_band():
    mr = WHO.model_copy(update={"minor_response": True})
    assert _target(mr, 75.1, 100.0, 100.0) == "SD"   # -24.9 %
    assert _target(mr, 75.0, 100.0, 100.0) == "MR"   # -25.0 %
    assert _target(mr, 50.1, 100.0, 100.0) == "MR"   # -49.9 %
    assert _target(mr, 50.0, 100.0, 100.0) == "PR"
    assert _target(WHO, 75.0, 100.0, 100.0) == "SD"  # off by default


@pytest.mark.parametrize("total,nadir,expected", [
    (30.0, 25.0, "PD"),     # +20 % and +5 mm
    (29.9, 25.0, "SD"),     # +19.6 %, +4.9 mm
    (24.0, 20.0, "SD"),     # +20 % but only +4 mm: the 5 mm rule
    (25.2, 21.0, "SD"),     # pyrecist case: +20.0 % (floating 1.2000000000000002) and +4.2 mm
    (26.0, 21.0, "PD"),     # pyrecist case: +23.8 %, +5 mm
    (64.9, 50.0, "PD"),     # +29.8 %, +14.9 mm
])
def test_recist11_pd_rule(total, nadir, expected):
    assert _target(R11, total, nadir, nadir) == expected


def test_recist11_five_mm_boundary_at_plus_20_percent():
    # nadir 24.5: +20 % = 29.4 with +4.9 mm (SD); nadir 25: 30.0 = +20 % with +5.0 mm (PD)
    assert _target(R11, 29.4, 24.5, 24.5) == "SD"
    assert _target(R11, 30.0, 25.0, 25.0) == "PD"
    # RECIST 1.0 has no 5 mm rule
    assert _target(R10, 29.4, 24.5, 24.5) == "PD"
    assert _target(R10, 24.0, 20.0, 20.0) == "PD"
    assert _target(R10, 23.9, 20.0, 20.0) == "SD"


@pytest.mark.parametrize("total,expected", [(70.0, "PR"), (70.1, "SD"), (100.0, "SD")])
def test_recist_pr_threshold(total, expected):
    assert _target(R11, total, 100.0, 100.0) == expected
    assert _target(R10, total, 100.0, 100.0) == expected


def test_recist_cr_with_nodes_and_nadir_zero():
    # CR: all gone (nodes < 10 mm) although the sum is not 0
    assert _target(R11, 9.0, 100.0, 100.0, all_gone=True) == "CR"
    # reappearance after a CR nadir of 0: PD needs >= 5 mm (below: still PR from baseline)
    assert _target(R11, 4.9, 100.0, 0.0) == "PR"
    assert _target(R11, 5.0, 100.0, 0.0) == "PD"
    assert _target(R11, 0.0, 100.0, 0.0, all_gone=True) == "CR"


def test_missing_lesions_ne_unless_measured_prove_pd():
    # Eisenhauer's example: baseline 50, 2 of 3 lesions measured summing to 80 -> PD
    assert _target(R11, 0.0, 50.0, 50.0, complete=False, measured=80.0) == "PD"
    assert _target(R11, 0.0, 50.0, 50.0, complete=False, measured=40.0) == "NE"
    assert _target(WHO, 0.0, 100.0, 100.0, complete=False, measured=125.0) == "PD"
    assert _target(WHO, 0.0, 100.0, 100.0, complete=False, measured=124.0) == "NE"


def test_no_target_disease_gives_null():
    assert _target(R11, 10.0, None, None) is None
