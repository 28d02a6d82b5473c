"""Readiness of the next cycle against organ limits (issue 6, item 5; Euratom 2013/59 art. 56).

``planned_cycle_check(prior, planned, config)`` projects a planned activity onto each organ using
the subject's most recent administration with a known dose for that organ (dose per administered
GBq is linear in activity for every model here: same masses, T/N, LSF and kinetics), adds it to
the cumulative dose and BED so far, and compares each with the limits. It also gives the largest
activity that keeps every limit (absorbed: headroom / (Gy per GBq); BED: solved from
D + G D^2/(alpha/beta) = headroom). Vectorised over subjects (Polars).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from radiotrial.errors import RadiotrialError
from radiotrial.physics.config import DosimetryConfig
from radiotrial.physics.derive import DosimetryResult
from radiotrial.physics.dosimetry.limits import REL_TOL, limits_table


def planned_cycle_check(
    prior: DosimetryResult,
    planned: Mapping[str, float] | pl.DataFrame,
    config: DosimetryConfig | None = None,
) -> pl.DataFrame:
    """Would a planned cycle exceed an organ limit, and by how much?

    ``prior``: the :class:`DosimetryResult` of the study (its ``cycles`` table holds each prior
    administration's organ doses and G factors). ``planned``: subject_id -> planned administered
    activity (GBq), or a frame with columns ``subject_id``, ``planned_activity_gbq``.

    Returns one row per subject x applicable limit: subject_id, organ, quantity, scope,
    planned_activity_gbq, dose_per_gbq (from the latest known cycle), value_before_gy (cumulative,
    or the largest single treatment), planned_gy (the planned cycle's dose or BED), value_after_gy,
    limit_gy, comparison, headroom_after_gy, would_exceed (null when unknown), excess_gy (>= 0),
    max_activity_gbq (largest activity within this limit; for a "<" limit the supremum: stay
    strictly below it), warning, source. A subject without
    prior cycles has no per-GBq dose: its rows are null and ``would_exceed`` is null.
    """
    config = config or DosimetryConfig()
    if isinstance(planned, pl.DataFrame):
        plan = planned.select("subject_id", pl.col("planned_activity_gbq").cast(pl.Float64))
    else:
        plan = pl.DataFrame({"subject_id": list(planned), "planned_activity_gbq": [float(v) for v in planned.values()]},
                            schema={"subject_id": pl.String, "planned_activity_gbq": pl.Float64})
    if plan.filter(pl.col("planned_activity_gbq") < 0).height:
        bad = plan.filter(pl.col("planned_activity_gbq") < 0).row(0)
        raise RadiotrialError(f"planned_activity_gbq: must be >= 0, got {bad[1]!r} for subject {bad[0]!r}")
    cyc = prior.cycles
    if cyc.height == 0 or "organ" not in cyc.columns:
        cyc = pl.DataFrame(schema={"subject_id": pl.String, "organ": pl.String, "cycle": pl.Int64,
                                   "admin_instant": pl.Datetime("us", "UTC"), "administered_activity_gbq": pl.Float64,
                                   "dose_gy": pl.Float64, "alpha_beta_gy": pl.Float64, "g_factor": pl.Float64,
                                   "bed_gy": pl.Float64})
    cyc = cyc.join(plan.select("subject_id"), on="subject_id", how="inner")
    per_gbq = (cyc.filter(pl.col("dose_gy").is_not_null() & (pl.col("administered_activity_gbq") > 0))
               .sort("admin_instant").group_by("subject_id", "organ")
               .agg(dose_per_gbq=(pl.col("dose_gy") / pl.col("administered_activity_gbq")).last(),
                    g_factor=pl.col("g_factor").last(), alpha_beta_gy=pl.col("alpha_beta_gy").last()))
    sums = cyc.group_by("subject_id", "organ").agg(
        dose=pl.when(pl.col("dose_gy").null_count() == 0).then(pl.col("dose_gy").sum()),
        bed=pl.when(pl.col("bed_gy").null_count() == 0).then(pl.col("bed_gy").sum()),
        max_dose=pl.when(pl.col("dose_gy").null_count() == 0).then(pl.col("dose_gy").max()),
    )
    limits = limits_table(config)
    organs = limits.select("organ").unique()
    grid = plan.join(organs, how="cross").join(limits, on="organ")
    df = grid.join(per_gbq, on=["subject_id", "organ"], how="left").join(sums, on=["subject_id", "organ"], how="left")
    a, k = pl.col("planned_activity_gbq"), pl.col("dose_per_gbq")
    d_plan = a * k
    bed_plan = d_plan + pl.col("g_factor") * d_plan * d_plan / pl.col("alpha_beta_gy")
    is_bed, is_cum = pl.col("quantity") == "bed", pl.col("scope") == "cumulative"
    # Before: cumulative sum (0 with no prior cycles), or the largest single treatment so far.
    before = (pl.when(is_cum & is_bed).then(pl.col("bed")).when(is_cum).then(pl.col("dose"))
              .otherwise(pl.col("max_dose")))
    df = df.with_columns(
        dose_per_gbq=k,
        value_before_gy=before,
        planned_gy=pl.when(is_bed).then(bed_plan).otherwise(d_plan),
    ).with_columns(
        value_after_gy=pl.when(is_cum).then(pl.col("value_before_gy") + pl.col("planned_gy"))
        .otherwise(pl.col("planned_gy")),
    )
    lim, after = pl.col("limit_gy"), pl.col("value_after_gy")
    on = (after - lim).abs() <= REL_TOL * lim.abs()
    # Headroom for the planned cycle alone: the whole limit per treatment, limit - before if cumulative.
    room = pl.when(is_cum).then(lim - pl.col("value_before_gy")).otherwise(lim)
    c = pl.col("g_factor") / pl.col("alpha_beta_gy")
    room_pos = pl.max_horizontal(room, pl.lit(0.0))
    d_max = pl.when(is_bed).then(((1 + 4 * c * room_pos).sqrt() - 1) / (2 * c)).otherwise(room_pos)
    df = df.with_columns(
        headroom_after_gy=lim - after,
        would_exceed=pl.when(after.is_null()).then(None).when(on).then(pl.col("comparison") == "<").otherwise(after > lim),
        excess_gy=pl.max_horizontal(after - lim, pl.lit(0.0)),
        max_activity_gbq=pl.when(k > 0).then(d_max / k),
    )
    label = pl.when(is_bed).then(pl.lit("BED")).otherwise(pl.lit("absorbed dose"))
    df = df.with_columns(warning=pl.when(pl.col("would_exceed")).then(pl.format(
        "planned {} GBq: {} {} {} would reach {} Gy, over the limit {} {} Gy by {} Gy; at most {} GBq keeps it",
        a.round(3), pl.col("organ"), pl.col("scope"), label, after.round(3), pl.col("comparison"), lim,
        pl.col("excess_gy").round(3), pl.col("max_activity_gbq").round(3),
    )))
    return df.select(
        "subject_id", "organ", "quantity", "scope", "planned_activity_gbq", "dose_per_gbq", "value_before_gy",
        "planned_gy", "value_after_gy", "limit_gy", "comparison", "headroom_after_gy", "would_exceed",
        "excess_gy", "max_activity_gbq", "warning", "source",
    ).sort("subject_id", "organ", "quantity", "scope")
