"""Per subject and term: worst post-baseline grade, treatment emergence and reversibility.

Definitions (issue #5 item 3; options in :class:`ToxicityConfig`):

- worst grade = highest gradable post-baseline grade; its date = first date it occurred (UTC).
- treatment-emergent = worst grade > baseline grade (a missing baseline grade counts as 0).
- recovery target = grade <= 1 (``recovery_target='grade1'``) or <= baseline grade.
- recovery date = first value at or below the target after the last value above it
  (``recovery_after='last_above_target'``) or after the first occurrence of the worst grade
  (``first_worst``); days to recovery are counted from the date of the worst grade.
- status: ``recovered``, ``not recovered by last value``, or ``not applicable`` (worst grade
  never above the target).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from radiotrial.criteria.toxicity.config import ToxicityConfig

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

KEYS = ["subject_id", "term"]

RECOVERED = "recovered"
NOT_RECOVERED = "not recovered by last value"
NOT_APPLICABLE = "not applicable"


def _target(config: ToxicityConfig) -> pl.Expr:
    import polars as pl

    if config.recovery_target == "grade1":
        return pl.lit(1, dtype=pl.Int8)
    return pl.col("baseline_grade").fill_null(0).cast(pl.Int8)


def _status(worst: pl.Expr, target: pl.Expr, recovery: pl.Expr) -> pl.Expr:
    import polars as pl

    return (
        pl.when(worst <= target).then(pl.lit(NOT_APPLICABLE))
        .when(recovery.is_not_null()).then(pl.lit(RECOVERED))
        .otherwise(pl.lit(NOT_RECOVERED))
    )


def worst_lab_grades(graded: pl.DataFrame, config: ToxicityConfig) -> pl.DataFrame:
    """One row per subject × term with a gradable post-baseline value (see module docstring)."""
    import polars as pl

    post = graded.filter((pl.col("phase") == "post") & pl.col("gradable") & pl.col("term").is_not_null())
    post = post.with_columns(_target(config).alias("recovery_target"))
    g, t, inst = pl.col("grade"), pl.col("recovery_target"), pl.col("instant")
    if config.recovery_after == "last_above_target":
        anchor = inst.filter(g > t).max().over(KEYS)
    else:
        anchor = inst.filter(g == g.max()).min().over(KEYS)
    post = post.with_columns(anchor.alias("__anchor")).with_columns(
        inst.filter((g <= t) & (inst > pl.col("__anchor"))).min().over(KEYS).alias("__recovery")
    )
    out = post.group_by(KEYS).agg(
        pl.col("analyte").first(),
        pl.col("category").first(),
        g.max().alias("worst_grade"),
        inst.filter(g == g.max()).min().dt.date().alias("worst_date"),
        pl.col("baseline_grade").first(),
        t.first().alias("recovery_target"),
        pl.col("__recovery").first().dt.date().alias("__rec"),
        g.sort_by(inst).last().alias("last_grade"),
        inst.max().dt.date().alias("last_value_date"),
        pl.len().cast(pl.Int32).alias("n_values"),
    )
    worst, target = pl.col("worst_grade"), pl.col("recovery_target")
    above = worst > target
    return out.with_columns(
        (worst > pl.col("baseline_grade").fill_null(0)).alias("treatment_emergent"),
        pl.when(above).then(pl.col("__rec").is_not_null()).otherwise(None).alias("recovered"),
        pl.when(above).then(pl.col("__rec")).otherwise(None).alias("recovery_date"),
        _status(worst, target, pl.col("__rec")).alias("recovery_status"),
        pl.lit("lab").alias("source"),
    ).with_columns(
        (pl.col("recovery_date") - pl.col("worst_date")).dt.total_days().cast(pl.Int32)
        .alias("days_to_recovery"),
    ).drop("__rec").sort(KEYS)


def worst_adverse_events(ae: pl.DataFrame, config: ToxicityConfig) -> pl.DataFrame:
    """One row per subject × (mapped) term from adverse-event records.

    An AE counts as recovered when every record above the recovery target has an ``end_date``
    (the latest one is the recovery date); the baseline grade of an AE is unknown (null) and a
    recorded AE is treatment-emergent by definition (only AEs starting on or after treatment
    start are passed in).
    """
    import polars as pl

    target = pl.lit(1, dtype=pl.Int8)  # AE records carry no baseline grade
    g = pl.col("grade").cast(pl.Int8)
    has_end = "end_date" in ae.columns
    end = pl.col("end_date") if has_end else pl.lit(None, dtype=pl.Date)
    out = ae.with_columns(g.alias("grade"), end.alias("end_date")).group_by(KEYS).agg(
        pl.col("category").first(),
        pl.col("grade").max().alias("worst_grade"),
        pl.col("start_date").filter(pl.col("grade") == pl.col("grade").max()).min().alias("worst_date"),
        pl.col("end_date").filter(pl.col("grade") > target).is_null().any().alias("__open"),
        pl.col("end_date").filter(pl.col("grade") > target).max().alias("__end"),
        pl.len().cast(pl.Int32).alias("n_values"),
    )
    worst = pl.col("worst_grade")
    rec = pl.when(pl.col("__open")).then(None).otherwise(pl.col("__end"))
    return out.with_columns(
        target.alias("recovery_target"),
        pl.lit(None, dtype=pl.Int8).alias("baseline_grade"),
        pl.lit(True).alias("treatment_emergent"),
        pl.when(worst > target).then(rec.is_not_null()).otherwise(None).alias("recovered"),
        pl.when(worst > target).then(rec).otherwise(None).alias("recovery_date"),
        _status(worst, target, rec).alias("recovery_status"),
        pl.lit("adverse_event").alias("source"),
    ).with_columns(
        (pl.col("recovery_date") - pl.col("worst_date")).dt.total_days().cast(pl.Int32)
        .alias("days_to_recovery"),
    ).drop("__open", "__end").sort(KEYS)


def merge_worst(lab: pl.DataFrame, ae: pl.DataFrame | None) -> pl.DataFrame:
    """Merge lab and AE worst grades per subject × term: the higher grade wins (lab on ties).

    ``source`` lists where the term was seen (``lab``, ``adverse_event``, ``adverse_event+lab``);
    the other columns come from the row with the worst grade.
    """
    import polars as pl

    if ae is None or ae.height == 0:
        return lab
    both = pl.concat([lab, ae], how="diagonal_relaxed").with_columns(
        (pl.col("source") != "lab").cast(pl.Int8).alias("__rank")
    )
    sources = both.group_by(KEYS).agg(pl.col("source").unique().sort().str.join("+").alias("__src"))
    best = (
        both.sort(["worst_grade", "__rank"], descending=[True, False], nulls_last=True)
        .group_by(KEYS, maintain_order=True).first()
    )
    return (
        best.join(sources, on=KEYS).with_columns(pl.col("__src").alias("source"))
        .drop("__src", "__rank").select(lab.columns).sort(KEYS)
    )


def worst_by_category(worst: pl.DataFrame) -> pl.DataFrame:
    """Per subject × category: worst grade, its terms and date, any treatment-emergent, recovered.

    ``recovered`` is true when every term of the category above its recovery target recovered
    (null when none was above it).
    """
    import polars as pl

    w, above = pl.col("worst_grade"), pl.col("worst_grade") > pl.col("recovery_target")
    return worst.group_by(["subject_id", "category"]).agg(
        w.max().alias("worst_grade"),
        pl.col("term").filter(w == w.max()).sort().str.join(", ").alias("terms"),
        pl.col("worst_date").filter(w == w.max()).min().alias("worst_date"),
        pl.col("treatment_emergent").any().alias("treatment_emergent"),
        pl.when(above.any()).then(pl.col("recovered").filter(above).all()).otherwise(None)
        .alias("recovered"),
    ).sort(["subject_id", "category"])
