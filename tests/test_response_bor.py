"""Best overall response: RECIST Table 3 (spec §2), confirmation windows, NE allowance, SD minimum,
PD truncation and the CR->PR data issue (admiralonco rules, spec §4a)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from radiotrial.criteria.response import ResponseConfig, best_overall_response

START = date(2020, 1, 6)
CFG = ResponseConfig(criteria="RECIST1.1")


def bor(seq: list[tuple[int, str]], config: ResponseConfig = CFG) -> dict:
    df = pl.DataFrame(
        {"subject_id": ["S"] * len(seq),
         "assessment_date": [START + timedelta(days=d) for d, _ in seq],
         "days_from_start": [d for d, _ in seq],
         "overall_response": [r for _, r in seq]},
        schema={"subject_id": pl.String, "assessment_date": pl.Date,
                "days_from_start": pl.Int64, "overall_response": pl.String})
    out = best_overall_response(df, config)
    assert out.height == 1
    return out.row(0, named=True)


# (sequence, unconfirmed BOR, confirmed BOR); first time point at day 56 (>= 42) unless noted.
TABLE3 = [
    ([(56, "CR"), (84, "CR")], "CR", "CR"),
    ([(56, "CR"), (84, "PR")], "CR", "SD"),          # footnote a: not silently PR/CR
    ([(56, "CR"), (84, "SD")], "CR", "SD"),
    ([(28, "CR"), (35, "SD")], "CR", "NE"),          # SD minimum not met, nothing after
    ([(56, "CR"), (84, "PD")], "CR", "SD"),
    ([(28, "CR"), (35, "PD")], "CR", "PD"),
    ([(56, "CR"), (84, "NE")], "CR", "SD"),
    ([(28, "CR"), (35, "NE")], "CR", "NE"),
    ([(56, "PR"), (84, "CR")], "CR", "PR"),
    ([(56, "PR"), (84, "PR")], "PR", "PR"),
    ([(56, "PR"), (84, "SD")], "PR", "SD"),
    ([(56, "PR"), (84, "PD")], "PR", "SD"),
    ([(28, "PR"), (35, "PD")], "PR", "PD"),
    ([(56, "PR"), (84, "NE")], "PR", "SD"),
    ([(28, "PR"), (35, "NE")], "PR", "NE"),
    ([(56, "NE"), (84, "NE")], "NE", "NE"),
]


@pytest.mark.parametrize("seq,unconfirmed,confirmed", TABLE3)
def test_recist_table3(seq, unconfirmed, confirmed):
    r = bor(seq)
    assert (r["bor"], r["bor_confirmed"]) == (unconfirmed, confirmed)


def test_confirmation_27_vs_28_days():
    assert bor([(56, "PR"), (83, "PR")])["bor_confirmed"] == "SD"
    assert bor([(56, "PR"), (84, "PR")])["bor_confirmed"] == "PR"
    assert bor([(56, "CR"), (83, "CR")])["bor_confirmed"] == "SD"
    assert bor([(56, "CR"), (84, "CR")])["bor_confirmed"] == "CR"
    # the confirming assessment is the first qualifying one; a later one also works
    assert bor([(56, "PR"), (70, "PR"), (90, "PR")])["bor_confirmed"] == "PR"
    assert bor([(56, "PR"), (84, "PR")], CFG.model_copy(update={"confirm_days": 29}))[
        "bor_confirmed"] == "SD"


def test_ne_between_response_and_confirmation():
    one = [(56, "PR"), (70, "NE"), (90, "PR")]
    two = [(56, "PR"), (70, "NE"), (77, "NE"), (90, "PR")]
    assert bor(one)["bor_confirmed"] == "PR"
    assert bor(two)["bor_confirmed"] == "SD"
    assert bor(two, CFG.model_copy(update={"max_ne_between": 2}))["bor_confirmed"] == "PR"
    assert bor([(56, "PR"), (70, "NE"), (90, "PR")],
               CFG.model_copy(update={"max_ne_between": 0}))["bor_confirmed"] == "SD"
    assert bor([(56, "CR"), (70, "NE"), (90, "CR")])["bor_confirmed"] == "CR"
    assert bor([(56, "CR"), (70, "NE"), (77, "NE"), (90, "CR")])["bor_confirmed"] == "SD"


def test_sd_between_breaks_confirmation():
    assert bor([(56, "PR"), (70, "SD"), (90, "PR")])["bor_confirmed"] == "SD"
    assert bor([(56, "CR"), (70, "PR"), (90, "CR")])["bor_confirmed"] == "SD"


def test_admiralonco_pr_cr_ne_cr_sd_is_cr():
    r = bor([(56, "PR"), (84, "CR"), (112, "NE"), (140, "CR"), (168, "SD")])
    assert r["bor_confirmed"] == "CR"
    assert r["bor_confirmed_date"] == START + timedelta(days=84)


def test_pr_after_cr_blocks_pr_confirmation_and_is_flagged():
    # PR, CR (<28 d), PR: the PR is "confirmed" only through a PR after a CR -> not accepted
    r = bor([(56, "PR"), (70, "CR"), (90, "PR")])
    assert r["bor_confirmed"] == "SD"
    assert r["crpr_issue"] is not None and "followed by PR" in r["crpr_issue"]
    assert bor([(56, "PR"), (90, "PR")])["crpr_issue"] is None


@pytest.mark.parametrize("d,expected", [(41, "NE"), (42, "SD")])
def test_sd_minimum_days(d, expected):
    assert bor([(d, "SD")])["bor"] == expected
    assert bor([(d, "SD")])["bor_confirmed"] == expected
    assert bor([(d, "NON-CR/NON-PD")])["bor"] == ("NE" if d < 42 else "NON-CR/NON-PD")


def test_early_sd_then_pd_is_pd():
    assert bor([(41, "SD"), (90, "PD")])["bor"] == "PD"
    assert bor([(42, "SD"), (90, "PD")])["bor"] == "SD"


def test_sd_min_days_option():
    cfg = CFG.model_copy(update={"sd_min_days": 56})
    assert bor([(55, "SD")], cfg)["bor"] == "NE"
    assert bor([(56, "SD")], cfg)["bor"] == "SD"


def test_assessments_after_pd_are_ignored():
    r = bor([(56, "PD"), (84, "CR"), (112, "CR")])
    assert (r["bor"], r["bor_confirmed"]) == ("PD", "PD")
    assert r["progression_date"] == START + timedelta(days=56)


def test_minor_response_in_bor():
    who = ResponseConfig(minor_response=True)
    assert bor([(41, "MR")], who)["bor"] == "NE"
    assert bor([(42, "MR")], who)["bor"] == "MR"
    assert bor([(56, "PR"), (70, "SD")], who)["bor_confirmed"] == "MR"
    assert bor([(56, "PR"), (70, "SD")], ResponseConfig())["bor_confirmed"] == "SD"


def test_dates_and_vectorised_over_subjects():
    df = pl.DataFrame({
        "subject_id": ["A", "A", "B", "B", "B"],
        "assessment_date": [START + timedelta(days=d) for d in (56, 84, 56, 84, 112)],
        "days_from_start": [56, 84, 56, 84, 112],
        "overall_response": ["PR", "PR", "SD", "PR", "PD"],
    })
    out = best_overall_response(df, CFG).sort("subject_id")
    assert out["bor_confirmed"].to_list() == ["PR", "SD"]
    assert out["bor"].to_list() == ["PR", "PR"]
    assert out["first_confirmed_response_date"].to_list() == [START + timedelta(days=56), None]
    assert out["progression_date"].to_list() == [None, START + timedelta(days=112)]
