"""Shared helpers for the toxicity tests: build tiny lab frames and grade one value."""

from __future__ import annotations

import datetime as dt

import polars as pl

from radiotrial.criteria.toxicity import ToxicityConfig, grade_labs

UTC = dt.UTC
START = dt.date(2005, 3, 1)


def at(day: int, hour: int = 9) -> dt.datetime:
    """Instant ``day`` days after treatment start (day 0 = START), UTC."""
    return dt.datetime.combine(START, dt.time(hour), tzinfo=UTC) + dt.timedelta(days=day)


def labs(rows: list[tuple]) -> pl.DataFrame:
    """Rows (subject_id, instant, analyte, value, unit, lln, uln) → lab frame."""
    return pl.DataFrame(
        rows,
        schema={"subject_id": pl.String, "instant": pl.Datetime("us", "UTC"), "analyte": pl.String,
                "value": pl.Float64, "unit": pl.String, "lln": pl.Float64, "uln": pl.Float64},
        orient="row",
    )


def starts(*subjects: str) -> pl.DataFrame:
    return pl.DataFrame({"subject_id": list(subjects), "treatment_start": [START] * len(subjects)})


def grade_one(
    analyte: str, value: float | None, criteria: str, *, lln: float | None = None,
    uln: float | None = None, unit: str | None = None, base: float | None = None,
    base_uln: float | None = None, **options,
) -> pl.DataFrame:
    """Grade one post-baseline value (day 10); a baseline row (day -2) is added if ``base``."""
    from radiotrial.units import LAB_CANONICAL

    unit = unit or LAB_CANONICAL[analyte]
    rows = []
    if base is not None:
        rows.append(("S", at(-2), analyte, base, unit, lln, base_uln if base_uln is not None else uln))
    rows.append(("S", at(10), analyte, value, unit, lln, uln))
    cfg = ToxicityConfig(criteria=criteria, **options)
    out = grade_labs(labs(rows), criteria, treatment_start=starts("S"), config=cfg)
    return out.filter(pl.col("phase") == "post").row(0, named=True)
