"""Treatment start: one definition for every engine.

A subject's treatment starts at its earliest administration (``admin_instant``, stored in UTC);
the start *date* is that instant's UTC date (ARCHITECTURE.md, Conventions: instants in UTC; study
day 1 = first treatment, CDISC SDTMIG RFXSTDTC / ADaM TRTSDT).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl


def first_administration(administration: pl.DataFrame | None) -> pl.DataFrame:
    """``subject_id, first_instant, start_date`` per treated subject (empty frame when none)."""
    import polars as pl

    schema = {"subject_id": pl.String, "first_instant": pl.Datetime("us", "UTC"),
              "start_date": pl.Date}
    if administration is None or administration.height == 0:
        return pl.DataFrame(schema=schema)
    return (
        administration.filter(pl.col("admin_instant").is_not_null())
        .group_by("subject_id")
        .agg(first_instant=pl.col("admin_instant").min().dt.convert_time_zone("UTC"))
        .with_columns(start_date=pl.col("first_instant").dt.date())
    )
