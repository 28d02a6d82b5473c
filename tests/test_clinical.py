"""Clinical response (issue #4 item 6): symptom improvement, optional ECOG rule, denominators."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from radiotrial.criteria.clinical import ClinicalConfig, derive_clinical_response
from radiotrial.errors import RadiotrialError

START = date(2020, 1, 6)


def frames(rows: list[tuple], treated: list[str], new_therapy: dict | None = None) -> dict:
    """rows: (subject, day, symptom_status, performance_status)."""
    clinical = pl.DataFrame(
        [{"subject_id": s, "assessment_date": START + timedelta(days=d), "symptom_status": st,
          "performance_status": ps, "notes": None} for s, d, st, ps in rows],
        schema={"subject_id": pl.String, "assessment_date": pl.Date, "symptom_status": pl.String,
                "performance_status": pl.Int64, "notes": pl.String})
    admin = pl.DataFrame({"subject_id": treated, "admin_instant": [
        datetime(2020, 1, 6, 9, tzinfo=UTC)] * len(treated)})
    out = {"clinical": clinical, "administration": admin}
    if new_therapy:
        out["follow_up"] = pl.DataFrame({"subject_id": list(new_therapy), "new_therapy_date": [
            START + timedelta(days=v) for v in new_therapy.values()]})
    return out


def rows_of(df: pl.DataFrame) -> dict:
    return {r["subject_id"]: r for r in df.iter_rows(named=True)}


ROWS = [
    ("A", -3, None, 2), ("A", 60, "stable", 2), ("A", 120, "improved", 1),
    ("B", -3, None, 2), ("B", 60, "stable", 1),
    ("C", -3, None, 1), ("C", 0, "improved", 1),   # on the start date: not post-baseline
    ("D", 60, "worse", 3),
]


def test_symptom_improvement_default():
    r = rows_of(derive_clinical_response(frames(ROWS, ["A", "B", "C", "D", "E"]),
                                         ClinicalConfig()))
    assert {k: v["improved"] for k, v in r.items()} == {
        "A": True, "B": False, "C": False, "D": False, "E": False}
    assert r["A"]["first_improvement_date"] == START + timedelta(days=120)
    assert {k for k, v in r.items() if v["evaluable"]} == {"A", "B", "D"}
    assert r["C"]["reason"] == "no post-baseline clinical assessment"
    assert r["E"]["reason"] == "no post-baseline clinical assessment"


def test_performance_status_option():
    cfg = ClinicalConfig(performance_status_counts=True)
    r = rows_of(derive_clinical_response(frames(ROWS, ["A", "B", "C", "D"]), cfg))
    assert r["B"]["improved"] is True  # ECOG 2 -> 1
    assert r["A"]["first_improvement_date"] == START + timedelta(days=120)
    assert r["D"]["improved"] is False  # no baseline ECOG
    r2 = rows_of(derive_clinical_response(frames(ROWS, ["B"]), cfg.model_copy(
        update={"ps_improvement_points": 2})))
    assert r2["B"]["improved"] is False


def test_untreated_and_new_therapy():
    r = rows_of(derive_clinical_response(frames(ROWS, ["B"], {"B": 59}), ClinicalConfig()))
    assert r["A"]["reason"] == "no administration (no treatment start)"
    assert r["B"]["evaluable"] is False


def test_bad_symptom_status():
    bad = frames([("A", 60, "better", 1)], ["A"])
    with pytest.raises(RadiotrialError, match="symptom_status"):
        derive_clinical_response(bad, ClinicalConfig())
