"""Biologic (tumour-marker) response (issue #4 item 5): evaluability above ULN, thresholds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from pydantic import ValidationError

from radiotrial.criteria.markers import MarkerConfig, derive_marker_response, marker_changes

START = date(2020, 1, 6)


def frames(rows: list[tuple], new_therapy: dict[str, int] | None = None) -> dict:
    """rows: (subject, marker, day, value, uln)."""
    marker = pl.DataFrame(
        [{"subject_id": s, "marker": m, "sample_date": START + timedelta(days=d), "value": v,
          "unit": "ug/L", "uln": u} for s, m, d, v, u in rows])
    subjects = sorted({r[0] for r in rows})
    admin = pl.DataFrame({"subject_id": subjects, "admin_instant": [
        datetime(2020, 1, 6, 9, tzinfo=UTC)] * len(subjects)})
    out = {"marker": marker, "administration": admin}
    if new_therapy:
        out["follow_up"] = pl.DataFrame({
            "subject_id": list(new_therapy),
            "new_therapy_date": [START + timedelta(days=v) for v in new_therapy.values()]})
    return out


def one(df: pl.DataFrame, subject: str) -> dict:
    return df.filter(pl.col("subject_id") == subject).row(0, named=True)


@pytest.mark.parametrize("best,responder", [(50.1, False), (50.0, True), (20.0, True)])
def test_decrease_50_boundary(best, responder):
    r = derive_marker_response(frames([("S", "CgA", -5, 100.0, 40.0), ("S", "CgA", 60, best, 40.0),
                                       ("S", "CgA", 120, 90.0, 40.0)]), MarkerConfig())
    row = one(r, "S")
    assert row["responder"] is responder and row["evaluable"] is True
    assert row["best_value"] == best and row["best_date"] == START + timedelta(days=60)
    assert row["best_pct_change"] == pytest.approx(best - 100.0)


def test_baseline_must_exceed_uln():
    r = derive_marker_response(frames([("A", "CgA", -5, 40.0, 40.0), ("A", "CgA", 60, 1.0, 40.0),
                                       ("B", "CgA", -5, 40.1, 40.0), ("B", "CgA", 60, 1.0, 40.0),
                                       ("C", "CgA", 5, 400.0, 40.0), ("C", "CgA", 60, 1.0, 40.0),
                                       ("D", "CgA", -5, 400.0, 40.0)]), MarkerConfig())
    assert one(r, "A")["reason"] == "baseline not above ULN" and not one(r, "A")["responder"]
    assert one(r, "B")["evaluable"] and one(r, "B")["responder"]
    assert one(r, "C")["reason"] == "no sample on or before treatment start"
    assert one(r, "D")["reason"] == "no post-baseline sample"


def test_rules_any_decrease_and_custom():
    rows = [("S", "CgA", -5, 100.0, 40.0), ("S", "CgA", 60, 70.0, 40.0)]
    assert not one(derive_marker_response(frames(rows), MarkerConfig()), "S")["responder"]
    assert one(derive_marker_response(frames(rows), MarkerConfig(rule="any_decrease")),
               "S")["responder"]
    assert one(derive_marker_response(frames(rows), MarkerConfig(rule="custom", threshold_pct=30)),
               "S")["responder"]
    assert not one(derive_marker_response(frames(rows),
                                          MarkerConfig(rule="custom", threshold_pct=30.1)),
                   "S")["responder"]
    flat = [("S", "CgA", -5, 100.0, 40.0), ("S", "CgA", 60, 100.0, 40.0)]
    assert not one(derive_marker_response(frames(flat), MarkerConfig(rule="any_decrease")),
                   "S")["responder"]
    with pytest.raises(ValidationError):
        MarkerConfig(rule="custom")


def test_marker_selection_best_and_priority():
    rows = [("S", "CgA", -5, 100.0, 40.0), ("S", "CgA", 60, 80.0, 40.0),
            ("S", "5-HIAA", -5, 100.0, 50.0), ("S", "5-HIAA", 60, 40.0, 50.0),
            ("S", "NSE", -5, 10.0, 15.0), ("S", "NSE", 60, 1.0, 15.0)]
    best = one(derive_marker_response(frames(rows), MarkerConfig()), "S")
    assert (best["marker"], best["responder"]) == ("5-HIAA", True)
    prio = one(derive_marker_response(frames(rows), MarkerConfig(
        selection="priority", markers=["CgA", "5-HIAA"])), "S")
    assert (prio["marker"], prio["responder"]) == ("CgA", False)
    ch = marker_changes(frames(rows), MarkerConfig())
    assert ch.height == 3 and ch.filter(pl.col("marker") == "NSE")["evaluable"][0] is False


def test_samples_after_new_therapy_ignored():
    rows = [("S", "CgA", -5, 100.0, 40.0), ("S", "CgA", 60, 80.0, 40.0),
            ("S", "CgA", 90, 10.0, 40.0)]
    assert not one(derive_marker_response(frames(rows, {"S": 89}), MarkerConfig()), "S")[
        "responder"]
    assert one(derive_marker_response(frames(rows, {"S": 90}), MarkerConfig()), "S")["responder"]
