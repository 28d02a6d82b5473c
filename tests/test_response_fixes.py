"""Three fixes of the tumour-response engine (spec §2 Table 3 footnote a, §4a, §5 item 7, §6):

1. a response without progression is censored at the last *adequate* (non-NE) assessment (FDA
   2018 guidance "Clinical Trial Endpoints for the Approval of Cancer Drugs and Biologics";
   admiralonco), not at the last assessment;
2. disease seen after a CR is PD (``after_cr="pd"``, RECIST 1.1 Table 3 footnote a; WHO CR =
   disappearance of all known disease), or admiralonco's data-issue flag (``after_cr="flag"``);
3. duplicate measurement / tumour-assessment keys are a user error, not silently summed.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from test_response_helpers import build, day, seq

from radiotrial.criteria.response import ResponseConfig, best_overall_response, derive_response
from radiotrial.errors import InputError

R11 = ResponseConfig(criteria="RECIST1.1")
FLAG = R11.model_copy(update={"after_cr": "flag"})
WHO = ResponseConfig(criteria="WHO")


def tp_of(result, subject: str = "A") -> list[str | None]:
    t = result.timepoints.filter(pl.col("subject_id") == subject).sort("assessment_date")
    return t["overall_response"].to_list()


def subj(result, subject: str = "A") -> dict:
    return result.subjects.filter(pl.col("subject_id") == subject).row(0, named=True)


# --- 1. duration of response censored at the last adequate assessment -------------------------

def test_dor_censored_at_last_adequate_assessment():
    r = derive_response(build(seq("A", [(30, 60), (60, 60), (90, "NE"), (120, "NE")])), R11)
    assert tp_of(r) == [None, "PR", "PR", "NE", "NE"]
    s = subj(r)
    assert s["bor_confirmed"] == "PR" and s["first_response_date"] == day(30)
    # censored at day 60 (last PR), not day 120 (last, NE, assessment)
    assert s["duration_of_response_days"] == 30 and s["response_censored"] is True


def test_dor_ne_in_between_does_not_move_censoring_or_progression():
    # NE between adequate assessments: censored at the last adequate one (day 120)
    r = derive_response(build(seq("A", [(30, 60), (60, 60), (90, "NE"), (120, 60)])), R11)
    assert subj(r)["duration_of_response_days"] == 90
    # progression ends the response at its date whatever NE lies before it
    r = derive_response(build(seq("A", [(30, 60), (60, 60), (90, "NE"), (120, 80)])), R11)
    s = subj(r)
    assert s["progression_date"] == day(120) and s["response_censored"] is False
    assert s["duration_of_response_days"] == 90


def test_who_dor_from_start_censored_at_last_adequate():
    rows = [("A", "T1", -3, 10, 10, None), ("A", "T1", 56, 10, 5, None),
            ("A", "T1", 84, 10, 5, None), ("A", "T1", 112, None, None, None, "not_evaluated")]
    s = subj(derive_response(build(rows), WHO))
    assert s["bor_confirmed"] == "PR"
    # WHO dates the response from the start of treatment (day 0) to the last adequate: day 84
    assert s["duration_of_response_days"] == 84 and s["response_censored"] is True


def test_bor_reports_last_adequate_date():
    start = date(2020, 1, 6)
    rows = [("S", 56, "PR"), ("S", 84, "PR"), ("S", 112, "NE"), ("T", 56, "NE"), ("T", 70, "NE")]
    df = pl.DataFrame(
        {"subject_id": [s for s, _, _ in rows],
         "assessment_date": [start + timedelta(days=d) for _, d, _ in rows],
         "days_from_start": [d for _, d, _ in rows],
         "overall_response": [x for _, _, x in rows]},
        schema={"subject_id": pl.String, "assessment_date": pl.Date,
                "days_from_start": pl.Int64, "overall_response": pl.String})
    out = best_overall_response(df, R11).sort("subject_id")
    assert out["last_adequate_date"].to_list() == [start + timedelta(days=84), None]
    assert out["last_assessment_date"].to_list() == [start + timedelta(days=112),
                                                     start + timedelta(days=70)]


# --- 2. disease seen after a CR -----------------------------------------------------------------

def test_option_default_and_values():
    assert ResponseConfig().after_cr == "pd"
    assert "Table 3" in ResponseConfig.model_fields["after_cr"].description
    with pytest.raises(ValueError):
        ResponseConfig(after_cr="recode")


def test_absent_absent_absent_stays_cr():
    r = derive_response(build(seq("A", [(30, 0), (60, 0), (90, 0)], base=20)), R11)
    assert tp_of(r) == [None, "CR", "CR", "CR"]
    s = subj(r)
    assert (s["bor"], s["bor_confirmed"], s["progression_date"]) == ("CR", "CR", None)


def test_reappearance_at_4_mm_after_cr_is_pd():
    f = build(seq("A", [(30, 0), (60, 0), (90, 4)], base=20))
    r = derive_response(f, R11)
    t = r.timepoints.sort("assessment_date")
    assert t["target_response"].to_list() == [None, "CR", "CR", "PD"]
    assert tp_of(r) == [None, "CR", "CR", "PD"]
    s = subj(r)
    assert (s["bor_confirmed"], s["progression_date"]) == ("CR", day(90))
    assert s["duration_of_response_days"] == 60 and s["response_censored"] is False
    assert s["data_issue"] is None
    # flag: the measurements' PR (4 mm is +4 mm over a 0 nadir, below the 5 mm rule) + data issue
    r = derive_response(f, FLAG)
    assert tp_of(r) == [None, "CR", "CR", "PR"]
    s = subj(r)
    assert s["progression_date"] is None and s["response_censored"] is True
    assert "followed by PR" in s["data_issue"]


def test_too_small_after_cr_is_pd():
    rows = seq("A", [(30, 0), (60, 0)], base=20) + [("A", "T1", 90, None, None, None, "too_small")]
    assert tp_of(derive_response(build(rows), R11)) == [None, "CR", "CR", "PD"]
    # at the default 5 mm the measurement rule (+5 mm over a 0 nadir) already gives PD; at 4 mm
    # only after_cr does
    four = {"too_small_mm": 4.0}
    assert tp_of(derive_response(build(rows), R11.model_copy(update=four))) == [
        None, "CR", "CR", "PD"]
    assert tp_of(derive_response(build(rows), FLAG.model_copy(update=four))) == [
        None, "CR", "CR", "PR"]


def test_node_9_mm_after_cr_stays_cr_10_mm_is_pd():
    node = [("A", "N1", -3, 25, 20, 20), ("A", "N1", 30, 12, 9, 9.9), ("A", "N1", 60, 12, 9, 9.0)]
    stay = node + [("A", "N1", 90, 12, 9, 9.0)]
    back = node + [("A", "N1", 90, 12, 10, 10.0)]
    assert tp_of(derive_response(build(stay, nodal={"N1"}), R11)) == [None, "CR", "CR", "CR"]
    r = derive_response(build(back, nodal={"N1"}), R11)
    assert tp_of(r) == [None, "CR", "CR", "PD"]
    assert subj(r)["progression_date"] == day(90)
    # flag: sum 10 vs nadir 9 is no PD and -60 % from baseline: PR, reported as a data issue
    r = derive_response(build(back, nodal={"N1"}), FLAG)
    assert tp_of(r) == [None, "CR", "CR", "PR"]
    assert "followed by PR" in subj(r)["data_issue"]


def test_not_evaluated_after_cr_is_not_disease_seen():
    rows = seq("A", [(30, 0), (60, 0), (90, "NE"), (120, 0)], base=20)
    assert tp_of(derive_response(build(rows), R11)) == [None, "CR", "CR", "NE", "CR"]
    # one of two targets not evaluated, the other still gone: NE, not PD
    two = (seq("A", [(30, 0), (60, 0), (90, "NE")], base=20)
           + seq("A", [(30, 0), (60, 0), (90, 0)], base=20, lesion="T2"))
    assert tp_of(derive_response(build(two), R11)) == [None, "CR", "CR", "NE"]
    # ... while one measured present proves disease even with another not evaluated
    two = (seq("A", [(30, 0), (60, 0), (90, "NE")], base=20)
           + seq("A", [(30, 0), (60, 0), (90, 3)], base=20, lesion="T2"))
    assert tp_of(derive_response(build(two), R11)) == [None, "CR", "CR", "PD"]


def test_before_any_cr_a_small_lesion_is_not_pd():
    # PR -> PR (present, small) without an earlier CR: the rule does not apply
    r = derive_response(build(seq("A", [(30, 4), (60, 4)], base=20)), R11)
    assert tp_of(r) == [None, "PR", "PR"]


@pytest.mark.parametrize("criteria", ["RECIST1.1", "RECIST1.0", "WHO"])
def test_non_target_back_after_cr_is_pd(criteria):
    cfg = ResponseConfig(criteria=criteria)
    target = [("A", "T1", -3, 20, 20, None), ("A", "T1", 30, 0, None, None, "absent"),
              ("A", "T1", 60, 0, None, None, "absent"), ("A", "T1", 90, 0, None, None, "absent")]
    nt = [("A", "NT1", -3, 15, None, None), ("A", "NT1", 30, None, None, None, "absent"),
          ("A", "NT1", 60, None, None, None, "absent"), ("A", "NT1", 90, 15, None, None)]
    r = derive_response(build(target + nt), cfg)
    t = r.timepoints.sort("assessment_date")
    assert tp_of(r) == [None, "CR", "CR", "PD"]
    assert t["non_target_response"].to_list() == [None, "CR", "CR", "PD"]
    assert subj(r)["progression_date"] == day(90)
    r = derive_response(build(target + nt), cfg.model_copy(update={"after_cr": "flag"}))
    assert tp_of(r) == [None, "CR", "CR", "PR"]  # Table 1: target CR, non-target non-CR
    # the reader's NON-CR/NON-PD status counts the same way
    r = derive_response(build(target, assessments=[("A", 30, "CR", False),
                                                   ("A", 60, "NON-CR/NON-PD", False)]), cfg)
    # (day 90: no reader status, so non-target NE; after the PD, outside the BOR window)
    assert tp_of(r) == [None, "CR", "PD", "PR"]
    assert subj(r)["progression_date"] == day(60)


@pytest.mark.parametrize("criteria", ["RECIST1.0", "WHO"])
def test_target_back_after_cr_other_criteria(criteria):
    cfg = ResponseConfig(criteria=criteria)
    rows = [("A", "T1", -3, 20, 20, None), ("A", "T1", 30, 0, None, None, "absent"),
            ("A", "T1", 60, 0, None, None, "absent"), ("A", "T1", 90, 3, 3, None)]
    assert tp_of(derive_response(build(rows), cfg)) == [None, "CR", "CR", "PD"]
    # a node is no exception outside RECIST 1.1: present at any size once gone
    rows = [("A", "N1", -3, 20, 20, 20), ("A", "N1", 30, 0, None, None, "absent"),
            ("A", "N1", 60, 0, None, None, "absent"), ("A", "N1", 90, 9, 9, 9)]
    assert tp_of(derive_response(build(rows, nodal={"N1"}), cfg)) == [None, "CR", "CR", "PD"]


def test_non_target_only_disease_after_cr():
    rows = [("A", "NT1", -3, 15, None, None), ("A", "NT1", 30, None, None, None, "absent"),
            ("A", "NT1", 60, 15, None, None)]
    assert tp_of(derive_response(build(rows), R11)) == [None, "CR", "PD"]
    assert tp_of(derive_response(build(rows), FLAG)) == [None, "CR", "NON-CR/NON-PD"]


def test_after_cr_is_per_subject():
    # A's CR must not leak into B (sorted next to it), whose small lesions are a plain PR
    rows = (seq("A", [(30, 0), (60, 0)], base=20) + seq("B", [(30, 4), (60, 4)], base=20)
            + seq("C", [(30, 0), (60, 6)], base=20))
    r = derive_response(build(rows), R11)
    assert tp_of(r, "A") == [None, "CR", "CR"]
    assert tp_of(r, "B") == [None, "PR", "PR"]
    assert tp_of(r, "C") == [None, "CR", "PD"]


def test_pharmaverse_fixture_default_differs_only_by_footnote_a():
    from test_recist_reference import compare

    cmp = compare(ResponseConfig(criteria="RECIST1.1"))
    diff = cmp.filter(pl.col("got") != pl.col("expected"))
    assert diff.select("subject_id", "assessment_date", "got", "expected").rows() == [
        ("01-701-1133|RADIOLOGIST 2", date(2012, 12, 30), "PD", "PR")]


# --- 3. duplicate keys --------------------------------------------------------------------------

def test_duplicate_measurement_is_an_input_error():
    rows = seq("A", [(30, 60), (60, 60)]) + [("A", "T1", 60, 60, None, None)] * 2
    with pytest.raises(InputError) as err:
        derive_response(build(rows), R11)
    (p,) = err.value.problems  # a key present three times is listed once
    assert (p.file, p.row, p.field, p.reason) == (
        "measurement", None, "subject_id, lesion_id, assessment_date", "duplicate measurement")
    assert p.value == f"A, T1, {day(60)}"


def test_duplicate_baseline_measurements_of_several_subjects():
    rows = (seq("A", [(30, 60)]) + seq("B", [(30, 60)]) + [("B", "T1", -3, 100, None, None)]
            + [("A", "T1", -3, 90, None, None)])
    with pytest.raises(InputError) as err:
        derive_response(build(rows), R11)
    assert [p.value for p in err.value.problems] == [f"A, T1, {day(-3)}", f"B, T1, {day(-3)}"]
    assert "2 duplicated key(s) in 'measurement'" in str(err.value)


def test_duplicate_tumour_assessment_is_an_input_error():
    f = build(seq("A", [(30, 60)]), assessments=[("A", 30, "CR", False), ("A", 30, "PD", False)])
    with pytest.raises(InputError) as err:
        derive_response(f, R11)
    (p,) = err.value.problems
    assert (p.file, p.field, p.value, p.reason) == (
        "tumour_assessment", "subject_id, assessment_date", f"A, {day(30)}",
        "duplicate tumour assessment")


def test_many_duplicates_are_counted_and_the_first_listed():
    from radiotrial.criteria.response.derive import MAX_LISTED_DUPLICATES

    rows = []
    for i in range(MAX_LISTED_DUPLICATES + 5):
        rows += seq(f"S{i:03d}", [(30, 60)]) + [(f"S{i:03d}", "T1", 30, 60, None, None)]
    with pytest.raises(InputError) as err:
        derive_response(build(rows), R11)
    assert len(err.value.problems) == MAX_LISTED_DUPLICATES
    assert err.value.problems[0].value == f"S000, T1, {day(30)}"
    assert f"{MAX_LISTED_DUPLICATES + 5} duplicated key(s)" in str(err.value)


def test_same_lesion_on_different_dates_or_subjects_is_fine():
    rows = seq("A", [(30, 60), (60, 60)]) + seq("B", [(30, 60), (60, 60)])
    r = derive_response(build(rows), R11)
    assert r.timepoints.filter(pl.col("subject_id") == "A")["sum"].to_list() == [100, 60, 60]
