"""Builders of small study frames for the tumour-response tests (no tests here)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl

START = date(2020, 1, 6)


def day(n: int) -> date:
    """Calendar date ``n`` days after treatment start (day 0 = start date)."""
    return START + timedelta(days=n)


def _role(lesion_id: str) -> str:
    if lesion_id.startswith("NEW"):
        return "new"
    if lesion_id.startswith("NT"):
        return "non-target"
    return "target"


def build(
    measurements: list[tuple],
    *,
    nodal: set[str] = frozenset(),
    organs: dict[str, str] | None = None,
    assessments: list[tuple] = (),
    new_therapy: dict[str, int] | None = None,
    starts: dict[str, int | None] | None = None,
    extra_subjects: tuple[str, ...] = (),
) -> dict[str, pl.DataFrame]:
    """Frames from compact rows.

    measurements: (subject, lesion, day, longest, perpendicular, short_axis[, state]).
    assessments: (subject, day, non_target_status, new_lesions).
    Lesion role from the id prefix (T = target, NT = non-target, NEW = new).
    """
    rows = []
    for m in measurements:
        subject, lesion, d, ld, perp, sa, *rest = m
        state = rest[0] if rest else ("present" if ld is not None or sa is not None else "absent")
        rows.append(
            {"subject_id": subject, "lesion_id": lesion, "assessment_date": day(d),
             "longest_diameter": ld, "perpendicular_diameter": perp, "short_axis": sa,
             "unit": "mm", "state": state}
        )
    measurement = pl.DataFrame(
        rows,
        schema={"subject_id": pl.String, "lesion_id": pl.String, "assessment_date": pl.Date,
                "longest_diameter": pl.Float64, "perpendicular_diameter": pl.Float64,
                "short_axis": pl.Float64, "unit": pl.String, "state": pl.String},
    )
    lesions = measurement.select("subject_id", "lesion_id").unique(maintain_order=True)
    organs = organs or {}
    lesion = lesions.with_columns(
        organ=pl.col("lesion_id").replace_strict(organs, default="liver", return_dtype=pl.String),
        role=pl.col("lesion_id").map_elements(_role, return_dtype=pl.String),
        nodal=pl.col("lesion_id").is_in(list(nodal)),
        method=pl.lit("CT"),
    )
    subjects = sorted(set(measurement["subject_id"].to_list())
                      | {a[0] for a in assessments} | set(extra_subjects))
    starts = starts if starts is not None else {}
    admin = [
        {"subject_id": s, "cycle": 1,
         "admin_instant": datetime.combine(day(starts.get(s, 0)), datetime.min.time(),
                                           tzinfo=UTC) + timedelta(hours=10)}
        for s in subjects if starts.get(s, 0) is not None
    ]
    frames = {
        "subject": pl.DataFrame({"subject_id": subjects}),
        "lesion": lesion,
        "measurement": measurement,
        "administration": pl.DataFrame(
            admin, schema={"subject_id": pl.String, "cycle": pl.Int64,
                           "admin_instant": pl.Datetime("us", "UTC")}),
        "tumour_assessment": pl.DataFrame(
            [{"subject_id": s, "assessment_date": day(d), "non_target_status": nt,
              "new_lesions": new} for s, d, nt, new in assessments],
            schema={"subject_id": pl.String, "assessment_date": pl.Date,
                    "non_target_status": pl.String, "new_lesions": pl.Boolean}),
    }
    if new_therapy:
        frames["follow_up"] = pl.DataFrame(
            {"subject_id": list(new_therapy),
             "last_known_alive_date": [day(400)] * len(new_therapy),
             "new_therapy_date": [day(v) for v in new_therapy.values()]})
    return frames


def who_series(points: list[tuple[int, float, float]], subject: str = "S1") -> list[tuple]:
    """One WHO target lesion T01 measured (day, longest, perpendicular) at each point."""
    return [(subject, "T01", d, ld, perp, None) for d, ld, perp in points]


def seq(subject: str, points: list[tuple[int, float | str]], base: float = 100.0,
        lesion: str = "T1") -> list[tuple]:
    """One target lesion: ``base`` mm at day -3, then (day, mm | "NE"); 0 mm = absent."""
    rows: list[tuple] = [(subject, lesion, -3, base, None, None)]
    for d, v in points:
        if v == "NE":
            rows.append((subject, lesion, d, None, None, None, "not_evaluated"))
        else:
            rows.append((subject, lesion, d, v, None, None, "absent" if v == 0 else "present"))
    return rows
