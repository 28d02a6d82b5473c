"""Lesion values and per-time-point sums (SPD for WHO, sum of diameters for RECIST).

Lesion value rules (spec §1, §2):
- WHO: longest x perpendicular diameter (mm2); one-dimensional lesions per ``who_unidimensional``.
- RECIST 1.1: longest diameter, or short axis for nodes (falls back to ``perpendicular_diameter``,
  the SDTM LPERP of a node, when ``short_axis`` is empty). RECIST 1.0: longest diameter always.
- state ``absent`` = 0; ``too_small`` = ``too_small_mm`` (WHO: its square); ``not_evaluated`` or
  no measurement row = missing.
The target set of a subject is the declared target lesions measured at its baseline; the
non-target and new-lesion status of a time point come from ``tumour_assessment`` when recorded,
otherwise from the non-target / new lesion measurements.
"""

from __future__ import annotations

import polars as pl

from radiotrial.criteria.response.options import ResponseConfig
from radiotrial.criteria.response.timepoint import CR, NE, NON_CR_NON_PD, increase_reaches

_MEASUREMENT_COLUMNS = (
    "subject_id",
    "lesion_id",
    "assessment_date",
    "longest_diameter",
    "perpendicular_diameter",
    "short_axis",
    "state",
)


def lesion_value_expr(config: ResponseConfig) -> pl.Expr:
    """Value of one lesion measurement under the chosen criteria (mm2 for WHO, mm for RECIST)."""
    c = config
    state = pl.col("state")
    ld, perp, sa = pl.col("longest_diameter"), pl.col("perpendicular_diameter"), pl.col("short_axis")
    if c.criteria == "WHO":
        one_d = ld * ld if c.who_unidimensional == "square" else pl.lit(None, pl.Float64)
        present = pl.when(perp.is_not_null()).then(ld * perp).otherwise(one_d)
        small = c.too_small_mm**2
    elif c.criteria == "RECIST1.1":
        present = pl.when(pl.col("nodal")).then(pl.coalesce(sa, perp)).otherwise(ld)
        small = c.too_small_mm
    else:
        present = ld
        small = c.too_small_mm
    return (
        pl.when(state == "absent")
        .then(pl.lit(0.0))
        .when(state == "too_small")
        .then(pl.lit(float(small)))
        .when(state == "present")
        .then(present.cast(pl.Float64))
        .otherwise(pl.lit(None, pl.Float64))
    )


def lesion_gone_expr(config: ResponseConfig, value: str = "value") -> pl.Expr:
    """A target lesion counts as gone for CR: 0, or (RECIST 1.1) a node below ``normal_node_mm``."""
    v = pl.col(value)
    if config.criteria == "RECIST1.1":
        return pl.when(pl.col("nodal")).then(v < config.normal_node_mm).otherwise(v == 0).fill_null(
            False
        )
    return (v == 0).fill_null(False)


def _measurements(measurement: pl.DataFrame) -> pl.DataFrame:
    return measurement.select(_MEASUREMENT_COLUMNS)


def target_sums(
    targets: pl.DataFrame,
    measurement: pl.DataFrame,
    dates: pl.DataFrame,
    config: ResponseConfig,
) -> pl.DataFrame:
    """Per subject x assessment date: the target sum and what the response rules need.

    ``targets``: subject_id, lesion_id, nodal (declared target lesions). ``measurement``: the
    documented measurement columns. ``dates``: subject_id, assessment_date, baseline_date (one row
    per subject and date; the grid of time points).

    Returns subject_id, assessment_date, n_targets, n_measured, measured_sum, sum (null unless
    complete), complete, all_gone, any_lesion_pd, baseline_sum, nadir_prior. Targets not measured
    at baseline are dropped (they were never valid targets; reported by :func:`target_issues`).
    """
    c = config
    meas = _measurements(measurement)
    grid = dates.join(targets.select("subject_id", "lesion_id", "nodal"), on="subject_id")
    grid = grid.join(meas, on=["subject_id", "lesion_id", "assessment_date"], how="left")
    grid = grid.with_columns(value=lesion_value_expr(c)).drop(
        "longest_diameter", "perpendicular_diameter", "short_axis", "state"
    )
    base_vals = grid.filter(pl.col("assessment_date") == pl.col("baseline_date")).select(
        "subject_id", "lesion_id", lesion_baseline=pl.col("value")
    )
    grid = grid.join(base_vals, on=["subject_id", "lesion_id"], how="inner").filter(
        pl.col("lesion_baseline").is_not_null()
    )
    grid = grid.sort("subject_id", "lesion_id", "assessment_date")
    on_study = pl.when(pl.col("assessment_date") >= pl.col("baseline_date")).then(pl.col("value"))
    grid = grid.with_columns(
        lesion_nadir=on_study.cum_min().forward_fill().shift(1).over("subject_id", "lesion_id"),
        gone=lesion_gone_expr(c),
    )
    ref = pl.col("lesion_nadir") if c.pd_reference == "nadir" else pl.col("lesion_baseline")
    grid = grid.with_columns(
        lesion_pd=(pl.col("assessment_date") > pl.col("baseline_date"))
        & increase_reaches(pl.col("value"), ref, c.pd_threshold_pct, 0.0).fill_null(False)
    )
    sums = grid.group_by("subject_id", "assessment_date", "baseline_date").agg(
        n_targets=pl.len(),
        n_measured=pl.col("value").is_not_null().sum(),
        measured_sum=pl.col("value").sum(),
        all_gone=pl.col("gone").all(),
        any_lesion_pd=pl.col("lesion_pd").any(),
    )
    sums = sums.with_columns(complete=pl.col("n_measured") == pl.col("n_targets"))
    sums = sums.with_columns(sum=pl.when(pl.col("complete")).then(pl.col("measured_sum")))
    sums = sums.sort("subject_id", "assessment_date")
    at_base = pl.col("assessment_date") == pl.col("baseline_date")
    counted = pl.when(pl.col("assessment_date") >= pl.col("baseline_date")).then(pl.col("sum"))
    return sums.with_columns(
        baseline_sum=pl.when(at_base).then(pl.col("sum")).max().over("subject_id"),
        nadir_prior=counted.cum_min().forward_fill().shift(1).over("subject_id"),
    ).drop("baseline_date")


def target_issues(
    targets: pl.DataFrame,
    measurement: pl.DataFrame,
    baseline: pl.DataFrame,
    config: ResponseConfig,
) -> pl.DataFrame:
    """Target-selection checks per subject (spec §2): count limits, measurability, baseline value.

    ``targets`` needs subject_id, lesion_id, organ, nodal; ``baseline``: subject_id,
    baseline_date. Returns subject_id, issue (text; subjects without issues are absent).
    """
    c = config
    total, per_organ = c.effective_max_targets()
    meas = _measurements(measurement)
    t = targets.join(baseline, on="subject_id", how="inner").join(
        meas,
        left_on=["subject_id", "lesion_id", "baseline_date"],
        right_on=["subject_id", "lesion_id", "assessment_date"],
        how="left",
    )
    t = t.with_columns(value=lesion_value_expr(c))
    msgs: list[pl.Expr] = [
        pl.when(pl.col("value").is_null()).then(
            pl.format("target {} not measured at baseline (excluded)", pl.col("lesion_id"))
        )
    ]
    if c.criteria != "WHO":
        size = pl.col("short_axis") if c.criteria == "RECIST1.1" else pl.col("longest_diameter")
        limit = c.min_nodal_short_axis_mm if c.criteria == "RECIST1.1" else c.min_measurable_mm
        nodal_size = pl.coalesce(size, pl.col("perpendicular_diameter"))
        msgs.append(
            pl.when(pl.col("nodal") & (nodal_size < limit)).then(
                pl.format("nodal target {} below {} mm short axis", pl.col("lesion_id"), pl.lit(limit))
            )
        )
        msgs.append(
            pl.when(~pl.col("nodal") & (pl.col("longest_diameter") < c.min_measurable_mm)).then(
                pl.format(
                    "target {} below {} mm (not measurable)",
                    pl.col("lesion_id"),
                    pl.lit(c.min_measurable_mm),
                )
            )
        )
    per_lesion = t.select("subject_id", "organ", issue=pl.concat_list(msgs).list.drop_nulls())
    lesion_msgs = per_lesion.explode("issue").drop_nulls("issue").select("subject_id", "issue")
    counts = []
    if total is not None:
        counts.append(
            targets.group_by("subject_id")
            .agg(n=pl.len())
            .filter(pl.col("n") > total)
            .select("subject_id", issue=pl.format("{} targets (max {})", pl.col("n"), pl.lit(total)))
        )
    if per_organ is not None:
        counts.append(
            targets.group_by("subject_id", "organ")
            .agg(n=pl.len())
            .filter(pl.col("n") > per_organ)
            .select(
                "subject_id",
                issue=pl.format(
                    "{} targets in {} (max {} per organ)", pl.col("n"), pl.col("organ"),
                    pl.lit(per_organ),
                ),
            )
        )
    return pl.concat([lesion_msgs.cast({"issue": pl.String}), *counts], how="vertical_relaxed")


def non_target_from_lesions(
    non_targets: pl.DataFrame, measurement: pl.DataFrame, dates: pl.DataFrame, config: ResponseConfig
) -> pl.DataFrame:
    """Non-target status per subject x date derived from non-target lesion measurements.

    All non-target lesions absent (nodes: short axis < ``normal_node_mm``) = CR; any lesion not
    evaluated or not recorded = NE; otherwise NON-CR/NON-PD (spec §2, non-target response).
    Unequivocal PD is a reader's judgement and comes only from ``tumour_assessment``.
    Returns subject_id, assessment_date, nt_derived.
    """
    meas = _measurements(measurement)
    grid = dates.select("subject_id", "assessment_date").join(
        non_targets.select("subject_id", "lesion_id", "nodal"), on="subject_id"
    )
    grid = grid.join(meas, on=["subject_id", "lesion_id", "assessment_date"], how="left")
    size = pl.coalesce(pl.col("short_axis"), pl.col("perpendicular_diameter"))
    gone = (pl.col("state") == "absent") | (
        pl.col("nodal") & (pl.col("state") != "not_evaluated") & (size < config.normal_node_mm)
    )
    missing = pl.col("state").is_null() | (pl.col("state") == "not_evaluated")
    return grid.group_by("subject_id", "assessment_date").agg(
        nt_derived=pl.when(missing.any())
        .then(pl.lit(NE))
        .when(gone.fill_null(False).all())
        .then(pl.lit(CR))
        .otherwise(pl.lit(NON_CR_NON_PD))
    )


def new_lesions_from_measurements(news: pl.DataFrame, measurement: pl.DataFrame) -> pl.DataFrame:
    """Subject x date where a lesion of role ``new`` was recorded present (or too small).

    Returns subject_id, assessment_date, new_measured (True).
    """
    meas = _measurements(measurement)
    seen = meas.join(news.select("subject_id", "lesion_id"), on=["subject_id", "lesion_id"])
    return (
        seen.filter(pl.col("state").is_in(["present", "too_small"]))
        .select("subject_id", "assessment_date")
        .unique()
        .with_columns(new_measured=pl.lit(True))
    )
