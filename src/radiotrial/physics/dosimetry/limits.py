"""Organ-at-risk limits: table as data, headroom and exceedance (issue 6, item 5).

Limits come from ``physics/data/organ_limits.yaml`` (sources there) or from study.yaml. Each limit
says how its source words it: "<=" (reaching the value is allowed; exceeded when above) or "<"
(reaching it is already a violation). Values within a relative 1e-9 of the limit count as equal
to it, so that sums of per-cycle doses that land on the limit are treated as on it, not as
floating-point noise above or below.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from radiotrial.physics._data import load
from radiotrial.physics.config import DosimetryConfig

#: Relative tolerance for "equal to the limit".
REL_TOL = 1e-9

LIMIT_SCHEMA = {
    "organ": pl.String, "quantity": pl.String, "scope": pl.String, "limit_gy": pl.Float64,
    "comparison": pl.String, "condition": pl.String, "source": pl.String,
}


def exceeds(value_gy: Any, limit_gy: Any, comparison: Any = "<=") -> np.ndarray:
    """True where ``value`` violates ``limit`` under ``comparison`` ('<=' or '<'); see module doc."""
    v, lim = np.asarray(value_gy, float), np.asarray(limit_gy, float)
    strict = np.asarray(comparison) == "<"
    on = np.abs(v - lim) <= REL_TOL * np.abs(lim)
    return np.where(on, strict, v > lim)


def limits_table(config: DosimetryConfig | None = None) -> pl.DataFrame:
    """The limits that apply under ``config`` (risk-factor condition resolved), one row each."""
    config = config or DosimetryConfig()
    rows = ([lim.model_dump() for lim in config.limits] if config.limits is not None
            else load("organ_limits")["limits"])
    wanted = {"always", "risk_factors" if config.kidney_risk_factors else "no_risk_factors"}
    return pl.DataFrame(
        [{"organ": r["organ"], "quantity": r["quantity"], "scope": r["scope"],
          "limit_gy": float(r["value_gy"]), "comparison": r["comparison"],
          "condition": r["condition"], "source": r["source"]}
         for r in rows if r["condition"] in wanted],
        schema=LIMIT_SCHEMA,
    )


def evaluate_limits(values: pl.DataFrame, limits: pl.DataFrame) -> pl.DataFrame:
    """Join values (organ, quantity, scope, value_gy, ...) with limits; add headroom and flags.

    ``headroom_gy`` = limit - value (negative when over); ``exceeded`` per :func:`exceeds`
    (null where the value is unknown); ``warning`` a readable sentence where exceeded.
    """
    out = values.join(limits, on=["organ", "quantity", "scope"], how="inner")
    lim, val, cmp_ = pl.col("limit_gy"), pl.col("value_gy"), pl.col("comparison")
    on = (val - lim).abs() <= REL_TOL * lim.abs()
    exceeded = pl.when(val.is_null()).then(None).when(on).then(cmp_ == "<").otherwise(val > lim)
    out = out.with_columns(headroom_gy=lim - val, exceeded=exceeded)
    label = pl.when(pl.col("quantity") == "bed").then(pl.lit("BED")).otherwise(pl.lit("absorbed dose"))
    scope = pl.when(pl.col("scope") == "cumulative").then(pl.lit("cumulative")).otherwise(pl.lit("per-treatment"))
    return out.with_columns(
        warning=pl.when(pl.col("exceeded")).then(pl.format(
            "{} {} {} {} Gy violates the limit {} {} Gy ({})",
            pl.col("organ"), scope, label, val.round(3), cmp_, lim, pl.col("source"),
        ))
    )
