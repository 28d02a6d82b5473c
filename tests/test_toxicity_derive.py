"""Worst grade per subject and term, reversibility, summaries and AE merge (derive_toxicity)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from test_toxicity_helpers import START, at, labs

from radiotrial.criteria.toxicity import ToxicityConfig, derive_toxicity


def _admin(*subjects: str) -> pl.DataFrame:
    return pl.DataFrame({"subject_id": list(subjects), "cycle": [1] * len(subjects),
                         "admin_instant": [at(0, 10)] * len(subjects)})


def _series(subject: str, analyte: str, values: list[tuple[int, float]], lln=150.0, uln=400.0):
    return [(subject, at(day), analyte, v, "10^9/L", lln, uln) for day, v in values]


def _study(criteria: str = "ctc-v2", ae: pl.DataFrame | None = None, **options):
    rows = (
        _series("P1", "PLAT", [(-3, 200), (20, 40), (30, 60), (40, 120)])   # G3 -> recovers day 40
        + _series("P2", "PLAT", [(-3, 200), (20, 40), (40, 45)])            # G3, not recovered
        + _series("P3", "PLAT", [(-3, 200), (20, 9.9), (30, 100), (50, 45), (60, 160)])  # recurs
        + _series("P4", "PLAT", [(-3, 200), (20, 100)])                     # G1 only
        + _series("P5", "NEUT", [(-3, 1.2), (20, 0.4), (30, 1.2)], lln=2.0, uln=7.5)  # baseline G2
    )
    frames = {"lab": labs(rows), "administration": _admin("P1", "P2", "P3", "P4", "P5", "P6")}
    if ae is not None:
        frames["adverse_event"] = ae
    return derive_toxicity(frames, ToxicityConfig(criteria=criteria, **options))


def _row(frame: pl.DataFrame, subject: str, term: str | None = None) -> dict:
    f = frame.filter(pl.col("subject_id") == subject)
    if term is not None:
        f = f.filter(pl.col("term") == term)
    assert f.height == 1
    return f.row(0, named=True)


def test_worst_grade_date_and_recovery():
    r = _study()
    p1 = _row(r.worst, "P1", "Platelets")
    assert p1["worst_grade"] == 3 and p1["worst_date"] == START + dt.timedelta(days=20)
    assert p1["baseline_grade"] == 0 and p1["treatment_emergent"]
    # day 30: 60 = grade 2 (> target 1); day 40: 120 = grade 1 -> recovered on day 40
    assert p1["recovered"] is True and p1["recovery_status"] == "recovered"
    assert p1["recovery_date"] == START + dt.timedelta(days=40) and p1["days_to_recovery"] == 20
    p2 = _row(r.worst, "P2")
    assert p2["recovered"] is False and p2["recovery_status"] == "not recovered by last value"
    assert p2["recovery_date"] is None and p2["last_grade"] == 3
    p4 = _row(r.worst, "P4")
    assert p4["worst_grade"] == 1 and p4["recovered"] is None
    assert p4["recovery_status"] == "not applicable"


def test_recurrence_uses_last_value_above_target_by_default():
    r = _study()
    p3 = _row(r.worst, "P3")
    assert p3["worst_grade"] == 4
    assert p3["recovery_date"] == START + dt.timedelta(days=60)  # after the recurrence on day 50
    r = _study(recovery_after="first_worst")
    assert _row(r.worst, "P3")["recovery_date"] == START + dt.timedelta(days=30)


def test_recovery_to_baseline_option():
    # P5: baseline neutrophils 1.2 = v2.0 grade 2; worst 0.4 = grade 4; back to 1.2 on day 30
    r = _study()
    p5 = _row(r.worst, "P5")
    assert p5["baseline_grade"] == 2 and p5["worst_grade"] == 4
    assert p5["recovered"] is False  # grade 2 is above the default target (grade 1)
    r = _study(recovery_target="baseline")
    p5 = _row(r.worst, "P5")
    assert p5["recovered"] is True and p5["days_to_recovery"] == 10


def test_haematological_ge3_summary():
    h = _study().haematological_ge3.row(0, named=True)
    assert h["n_grade_ge3"] == 4  # P1, P2, P3, P5
    assert h["n_reversible"] == 2 and h["reversible_subject_ids"] == ["P1", "P3"]
    assert h["n_not_reversible"] == 2 and h["n_treated"] == 6 and h["n_evaluable"] == 5


def test_incidence_summary_counts_by_worst_grade():
    s = _study().summary
    plat = s.filter(pl.col("term") == "Platelets").row(0, named=True)
    assert (plat["n_evaluable"], plat["any_grade"], plat["grade_ge3"], plat["grade_4"]) == (4, 4, 3, 1)
    assert (plat["grade_1"], plat["grade_3"]) == (1, 2)
    neut = s.filter(pl.col("category") == "haematological").filter(
        pl.col("term").str.starts_with("Neutrophils")).row(0, named=True)
    assert neut["grade_4"] == 1


def test_treatment_emergent_basis():
    # P5 baseline grade 2 and worst 4 is emergent; a subject at baseline grade == worst is not
    rows = _series("Q", "NEUT", [(-3, 1.2), (20, 1.3)], lln=2.0, uln=7.5)
    frames = {"lab": labs(rows), "administration": _admin("Q")}
    r = derive_toxicity(frames, ToxicityConfig(criteria="ctc-v2"))
    assert _row(r.worst, "Q")["treatment_emergent"] is False
    assert r.summary["any_grade"].to_list() == [1]
    r = derive_toxicity(frames, ToxicityConfig(criteria="ctc-v2", incidence_basis="treatment_emergent"))
    assert r.summary["any_grade"].to_list() == [0]


def test_adverse_events_merged_with_lab_terms():
    ae = pl.DataFrame({
        "subject_id": ["P4", "P6", "P6", "P1"],
        "term": ["thrombocytopenia", "Nausea", "Anaemia", "Fatigue"],
        "grade": [3, 2, 3, 1],
        "start_date": [START + dt.timedelta(days=25)] * 3 + [START - dt.timedelta(days=5)],
        "end_date": [START + dt.timedelta(days=35), None, None, None],
    })
    r = _study(ae=ae)
    p4 = _row(r.worst, "P4", "Platelets")
    assert p4["worst_grade"] == 3 and p4["source"] == "adverse_event+lab" and p4["recovered"]
    assert _row(r.worst, "P6", "Nausea")["category"] == "other"
    assert _row(r.worst, "P6", "Hemoglobin")["recovered"] is False
    assert r.worst.filter(pl.col("term") == "Fatigue").height == 0  # started before treatment
    h = r.haematological_ge3.row(0, named=True)
    assert h["n_grade_ge3"] == 6 and h["n_reversible"] == 3
    r = _study(ae=ae, include_adverse_events=False)
    assert r.haematological_ge3["n_grade_ge3"].to_list() == [4]


def test_by_category():
    rows = _series("C", "PLAT", [(-3, 200), (20, 40), (40, 160)]) + [
        ("C", at(-3), "ALT", 20.0, "U/L", None, 40.0), ("C", at(20), "ALT", 300.0, "U/L", None, 40.0)]
    r = derive_toxicity({"lab": labs(rows), "administration": _admin("C")}, ToxicityConfig(criteria="ctc-v2"))
    cats = {row["category"]: row for row in r.by_category.iter_rows(named=True)}
    assert cats["haematological"]["worst_grade"] == 3 and cats["haematological"]["recovered"] is True
    assert cats["hepatic"]["worst_grade"] == 3 and cats["hepatic"]["recovered"] is False


@pytest.mark.parametrize("frames", [{}, {"lab": labs([])}, {"administration": _admin("A")}])
def test_empty_frames(frames):
    r = derive_toxicity(frames, ToxicityConfig())
    assert r.worst.height == 0 and r.haematological_ge3["n_grade_ge3"].to_list() == [0]
