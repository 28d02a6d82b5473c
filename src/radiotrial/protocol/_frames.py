"""Access to the record frames with the columns an engine needs (missing record type = no rows)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from radiotrial.errors import RadiotrialError
from radiotrial.treatment import first_administration

UTC = pl.Datetime("us", "UTC")

#: The columns (and dtypes) the protocol engines read, per record type (docs/import-format.md).
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "subject": {
        "subject_id": pl.String, "enrolment_date": pl.Date, "histology": pl.String,
        "liver_metastases": pl.Boolean, "progression_date": pl.Date,
        "performance_status": pl.Int64, "age": pl.Float64, "birth_year": pl.Int64,
    },
    "administration": {
        "subject_id": pl.String, "cycle": pl.Int64, "admin_instant": UTC,
        "calibrated_activity": pl.Float64,
    },
    "scintigraphy": {
        "subject_id": pl.String, "tracer": pl.String, "scan_date": pl.Date,
        "uptake_grade": pl.Int64,
    },
    "lab": {
        "subject_id": pl.String, "instant": UTC, "analyte": pl.String, "value": pl.Float64,
        "unit": pl.String, "lln": pl.Float64, "uln": pl.Float64,
    },
    "eligibility": {
        "subject_id": pl.String, "criterion": pl.String, "met": pl.Boolean,
        "assessed_date": pl.Date, "note": pl.String,
    },
    "tumour_assessment": {
        "subject_id": pl.String, "assessment_date": pl.Date, "non_target_status": pl.String,
        "new_lesions": pl.Boolean,
    },
    "measurement": {"subject_id": pl.String, "assessment_date": pl.Date},
    "clinical": {"subject_id": pl.String, "assessment_date": pl.Date},
    "marker": {"subject_id": pl.String, "sample_date": pl.Date},
    "adverse_event": {
        "subject_id": pl.String, "term": pl.String, "grade": pl.Int64, "start_date": pl.Date,
        "end_date": pl.Date, "attribution": pl.String,
    },
    "follow_up": {
        "subject_id": pl.String, "last_known_alive_date": pl.Date, "death_date": pl.Date,
        "new_therapy_date": pl.Date,
    },
}


def _to_polars(df: Any, name: str) -> pl.DataFrame:
    if isinstance(df, pl.DataFrame):
        return df
    try:
        if hasattr(df, "to_arrow") or type(df).__module__.startswith("pyarrow"):
            return pl.from_arrow(df)  # type: ignore[return-value]
        return pl.from_pandas(df)
    except Exception as exc:  # noqa: BLE001 - any conversion failure is a user input problem
        raise RadiotrialError(
            f"record type '{name}': cannot read {type(df).__name__}: {exc}"
        ) from exc


def get(frames: Mapping[str, Any], name: str) -> pl.DataFrame:
    """The ``name`` frame with (at least) the columns of :data:`SCHEMAS`, cast; empty if absent.

    A missing optional column is added as nulls; a missing ``subject_id`` is an error.
    """
    schema = SCHEMAS[name]
    df = frames.get(name)
    if df is None:
        return pl.DataFrame(schema=schema)
    df = _to_polars(df, name)
    if df.height and "subject_id" not in df.columns:
        raise RadiotrialError(f"record type '{name}' has no column 'subject_id'")
    exprs = []
    for col, dtype in schema.items():
        if col in df.columns:
            src = pl.col(col)
            if dtype == UTC and isinstance(df.schema[col], pl.Datetime):
                tz = df.schema[col].time_zone  # type: ignore[union-attr]
                src = src.dt.replace_time_zone("UTC") if tz is None else src
                exprs.append(src.dt.convert_time_zone("UTC").cast(UTC).alias(col))
            else:
                exprs.append(src.cast(dtype).alias(col))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(col))
    return df.select(exprs)


def first_treatment(frames: Mapping[str, Any]) -> pl.DataFrame:
    """``subject_id, first_instant, first_date``: each subject's earliest administration (UTC)."""
    return first_administration(get(frames, "administration")).rename(
        {"start_date": "first_date"})
