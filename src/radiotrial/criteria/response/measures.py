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

from itertools import pairwise

import numpy as np
import polars as pl

from radiotrial.criteria.response.options import ResponseConfig
from radiotrial.criteria.response.segments import any_in, broadcast, prior_min, starts
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
    return _value_expr(config, pl.col("nodal"))


def _value_expr(config: ResponseConfig, nodal: pl.Expr) -> pl.Expr:
    c = config
    state = pl.col("state")
    ld, perp, sa = pl.col("longest_diameter"), pl.col("perpendicular_diameter"), pl.col("short_axis")
    if c.criteria == "WHO":
        one_d = ld * ld if c.who_unidimensional == "square" else pl.lit(None, pl.Float64)
        present = pl.when(perp.is_not_null()).then(ld * perp).otherwise(one_d)
        small = c.too_small_mm**2
    elif c.criteria == "RECIST1.1":
        present = pl.when(nodal).then(pl.coalesce(sa, perp)).otherwise(ld)
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


_DAY_SPAN = 1 << 32  # Date is Int32 days since 1970; shifted into [0, 2**32) below a code
_DAY_OFFSET = 1 << 31
_CHUNK_ROWS = 1 << 22  # lesion rows per chunk of whole subjects (bounds temporary memory)


def _day_key(code: pl.Expr, date: str = "assessment_date") -> pl.Expr:
    """One Int64 sort/group key ordering by a non-negative integer ``code``, then by date."""
    day = pl.col(date).cast(pl.Int32).cast(pl.Int64) + _DAY_OFFSET
    return code.cast(pl.Int64) * _DAY_SPAN + day


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

    Returns subject_id, assessment_date, n_targets, n_measured, measured_sum, all_gone,
    any_present (some target measured and not gone: disease seen, for ``after_cr``),
    any_lesion_pd, complete, sum (null unless complete), baseline_sum, nadir_prior. Targets not
    measured at baseline are dropped (they were never valid targets; reported by
    :func:`target_issues`).

    Sort-based: targets get dense codes in (subject, lesion) order, the measured rows are sorted
    once by (lesion code, date), and per-lesion / per-subject scans run on those sorted segments
    (:mod:`.segments`); a grid cell without a measurement row counts as not measured. One
    measurement row per subject, lesion and date is assumed (the store's record key).
    """
    return _target_sums(targets, measurement, dates, config, restricted=False)


def _target_sums(
    targets: pl.DataFrame,
    measurement: pl.DataFrame,
    dates: pl.DataFrame,
    config: ResponseConfig,
    restricted: bool,
) -> pl.DataFrame:
    c = config
    date, base_date = pl.col("assessment_date"), pl.col("baseline_date")
    # Subjects with a baseline time point; target lesions coded in (subject, lesion) order.
    base = dates.filter(date == base_date).select("subject_id", "baseline_date")
    tx = (
        targets.select("subject_id", "lesion_id", "nodal")
        .sort("subject_id", "lesion_id")
        .with_columns(t=pl.int_range(pl.len(), dtype=pl.Int64),
                      s=starts(pl.col("subject_id")).cum_sum().cast(pl.Int64))
        .join(base, on="subject_id", how="inner", maintain_order="left")
    )
    # Lesion values before the join (both variants where RECIST 1.1 depends on nodal status).
    if c.criteria == "RECIST1.1":
        values = {"v_plain": _value_expr(c, pl.lit(False)), "v_node": _value_expr(c, pl.lit(True))}
        value = pl.when(pl.col("nodal")).then(pl.col("v_node")).otherwise(pl.col("v_plain"))
    else:
        values = {"v_plain": _value_expr(c, pl.lit(False))}
        value = pl.col("v_plain")
    keep = ["nodal"] if c.criteria == "RECIST1.1" else []
    # phase: -1 before, 0 at, 1 after the subject's baseline date.
    phase = (date > base_date).cast(pl.Int8) - (date < base_date).cast(pl.Int8)
    les = (
        measurement.lazy()
        .select("subject_id", "lesion_id", "assessment_date", **values)
        .join(tx.lazy(), on=["subject_id", "lesion_id"], how="inner")
        .select(*keep, key=_day_key(pl.col("t")), day_key=_day_key(pl.col("s")), phase=phase,
                value=value)
        .sort("key")
        .collect()
    )
    # Lesion segments: equal t = key >> 32, dates ascending within; whole-subject row chunks
    # bound the temporaries of the per-lesion rules (a Python loop over a handful of row ranges,
    # not over rows or subjects); a subject x date cell never spans two chunks.
    lesion = les["key"].to_numpy() >> 32
    start = np.ones(lesion.size, dtype=bool)
    np.not_equal(lesion[1:], lesion[:-1], out=start[1:])
    les = les.drop("key").with_columns(start=pl.Series(start))
    subject = les["day_key"].to_numpy() >> 32
    bounds = [*np.searchsorted(subject, subject[::_CHUNK_ROWS], "left").tolist(), les.height]
    del lesion, start, subject
    cells = pl.concat(
        [_lesion_cells(les.slice(lo, hi - lo), c) for lo, hi in pairwise(bounds)]
        or [_lesion_cells(les, c)]
    )
    del les
    # Per subject x date grid (every date of the subject, measured or not), sorted by day_key.
    subj = tx.select("subject_id", "s", "baseline_date").unique("s", keep="first")
    grid = (
        dates.lazy().select("subject_id", "assessment_date")
        .join(subj.lazy(), on="subject_id", how="inner")
        .with_columns(day_key=_day_key(pl.col("s")))
        .join(cells.lazy(), on="day_key", how="left")
        .sort("day_key")
        .collect()
    )
    if not restricted and grid["n_measured"].is_not_null().sum() != cells.height:
        # Some measurements lie off the date grid: drop them first (they never count).
        on_grid = measurement.join(dates.select("subject_id", "assessment_date"),
                                   on=["subject_id", "assessment_date"], how="semi")
        return _target_sums(targets, on_grid, dates, c, restricted=True)
    at_base = date == base_date
    grid = grid.with_columns(
        start=starts(pl.col("s")),
        n_measured=pl.col("n_measured").fill_null(0),
        measured_sum=pl.col("measured_sum").fill_null(0.0),
        n_gone=pl.col("n_gone").fill_null(0),
        any_lesion_pd=pl.col("any_lesion_pd").fill_null(False),
        any_present=pl.col("any_present").fill_null(False),
    )
    # Every valid target is measured at baseline, so n_measured there is the number of targets.
    grid = grid.with_columns(n_targets=broadcast("n_measured", at_base, "start"))
    grid = grid.filter(pl.col("n_targets") > 0).with_columns(
        complete=pl.col("n_measured") == pl.col("n_targets"),
        all_gone=pl.col("n_gone") == pl.col("n_targets"),
    )
    grid = grid.with_columns(sum=pl.when(pl.col("complete")).then(pl.col("measured_sum")))
    grid = grid.with_columns(baseline_sum=broadcast("sum", at_base, "start"))
    counted = grid.select(pl.when(date >= base_date).then(pl.col("sum"))).to_series()
    grid = grid.with_columns(nadir_prior=prior_min(counted, grid["start"]))
    return grid.select(
        "subject_id", "assessment_date", "n_targets", "n_measured", "measured_sum", "all_gone",
        "any_present", "any_lesion_pd", "complete", "sum", "baseline_sum", "nadir_prior",
    )


def _lesion_cells(les: pl.DataFrame, c: ResponseConfig) -> pl.DataFrame:
    """Per subject x date cell: measured count and sum, gone count, any lesion present, any
    per-lesion PD.

    ``les``: start, day_key, phase, value[, nodal], sorted by lesion then date (whole subjects).
    Lesions without a baseline value are not valid targets and are dropped here.
    """
    phase = pl.col("phase")
    at_base = phase == 0
    valid = les.select(any_in(at_base & pl.col("value").is_not_null(), "start")).to_series()
    if not valid.all():
        les = les.filter(valid)
    if c.pd_reference == "nadir":
        on_study = les.select(pl.when(phase >= 0).then(pl.col("value"))).to_series()
        ref = prior_min(on_study, les["start"])
    else:
        ref = les.select(broadcast("value", at_base, "start")).to_series()
    les = les.with_columns(ref.alias("lesion_ref"))
    lesion_pd = (phase > 0) & increase_reaches(
        pl.col("value"), pl.col("lesion_ref"), c.pd_threshold_pct, 0.0).fill_null(False)
    return les.group_by("day_key").agg(
        n_measured=pl.col("value").is_not_null().sum(),
        measured_sum=pl.col("value").sum(),
        n_gone=lesion_gone_expr(c).sum(),
        any_present=(pl.col("value").is_not_null() & ~lesion_gone_expr(c)).any(),
        any_lesion_pd=lesion_pd.any(),
    )


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
