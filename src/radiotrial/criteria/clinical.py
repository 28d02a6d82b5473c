"""Clinical (symptom) response from the ``clinical`` record type.

Rules (issue #4 item 6; ARCHITECTURE 'Time'):
- treatment start = UTC date of the earliest administration; post-baseline assessments are those
  after treatment start and on or before a new anti-cancer therapy (``follow_up``);
- a subject is evaluable when treated and assessed at least once post-baseline (and, for the
  performance-status rule, has a baseline ECOG = the last one on or before treatment start);
- improved when any post-baseline assessment records ``symptom_status = improved`` or, with
  ``performance_status_counts``, an ECOG at least ``ps_improvement_points`` below baseline.
The denominator is stated per subject (``evaluable``); the model study reports 14/23 over all
treated patients.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from radiotrial.errors import RadiotrialError
from radiotrial.treatment import first_administration

CLINICAL_COLUMNS = (
    "subject_id", "evaluable", "improved", "first_improvement_date", "reason",
    "baseline_performance_status", "best_performance_status",
)
_SCHEMA = {"subject_id": pl.String, "assessment_date": pl.Date, "symptom_status": pl.String,
           "performance_status": pl.Int64}


class ClinicalConfig(BaseModel):
    """Clinical response rule."""

    model_config = ConfigDict(extra="forbid")

    performance_status_counts: bool = Field(
        False,
        description="Protocol option: an ECOG performance-status improvement of at least "
        "ps_improvement_points from baseline also counts as clinical improvement. Off by default: "
        "the model study reports symptom improvement (abstract, 'clinical improvement').",
    )
    ps_improvement_points: int = Field(
        1, ge=1, le=4, description="ECOG points of improvement needed (issue #4: >= 1 point)."
    )


def derive_clinical_response(
    frames: Mapping[str, pl.DataFrame], config: ClinicalConfig
) -> pl.DataFrame:
    """One row per treated subject (or subject with clinical data).

    Columns: subject_id, evaluable, improved, first_improvement_date, reason (why not evaluable),
    baseline_performance_status, best_performance_status.
    """
    df = frames.get("clinical")
    if df is None or df.height == 0:
        df = pl.DataFrame(schema=_SCHEMA)
    missing = [c for c in ("subject_id", "assessment_date") if c not in df.columns]
    if missing:
        raise RadiotrialError(f"record type 'clinical' lacks column(s) {', '.join(missing)}")
    df = df.with_columns(
        pl.lit(None, _SCHEMA[c]).alias(c) for c in _SCHEMA if c not in df.columns
    ).select(list(_SCHEMA)).cast(_SCHEMA)
    bad = df.filter(
        pl.col("symptom_status").is_not_null()
        & ~pl.col("symptom_status").is_in(["improved", "stable", "worse"])
    )
    if bad.height:
        raise RadiotrialError(
            f"clinical: column 'symptom_status' (value {bad['symptom_status'][0]!r}) must be "
            "improved, stable or worse"
        )
    start = first_administration(frames.get("administration")).select("subject_id", "start_date")
    fu = frames.get("follow_up")
    if fu is not None and fu.height and "new_therapy_date" in fu.columns:
        start = start.join(
            fu.group_by("subject_id").agg(pl.col("new_therapy_date").cast(pl.Date).min()),
            on="subject_id", how="left")
    else:
        start = start.with_columns(new_therapy_date=pl.lit(None, pl.Date))
    subjects = pl.concat([start.select("subject_id"), df.select("subject_id")]).unique()
    d = pl.col("assessment_date")
    full = subjects.join(start, on="subject_id", how="left").join(df, on="subject_id", how="left")
    pre = (d <= pl.col("start_date")).fill_null(False)
    post = ((d > pl.col("start_date")) & (
        pl.col("new_therapy_date").is_null() | (d <= pl.col("new_therapy_date")))).fill_null(False)
    per = full.sort("subject_id", "assessment_date").group_by("subject_id").agg(
        has_start=pl.col("start_date").is_not_null().any(),
        n_post=post.sum(),
        baseline_performance_status=pl.col("performance_status").filter(pre).drop_nulls().last(),
        _post_ps=pl.col("performance_status").filter(post),
        _post_dates=d.filter(post),
        _post_improved=(pl.col("symptom_status") == "improved").filter(post).fill_null(False),
    )
    per = per.with_columns(best_performance_status=pl.col("_post_ps").list.min())
    exploded = per.select("subject_id", "baseline_performance_status", "_post_ps", "_post_dates",
                          "_post_improved").explode("_post_ps", "_post_dates", "_post_improved")
    hit = pl.col("_post_improved").fill_null(False)
    if config.performance_status_counts:
        hit = hit | (
            pl.col("baseline_performance_status") - pl.col("_post_ps")
            >= config.ps_improvement_points
        ).fill_null(False)
    first = exploded.filter(hit).group_by("subject_id").agg(
        first_improvement_date=pl.col("_post_dates").min())
    reason = (
        pl.when(~pl.col("has_start")).then(pl.lit("no administration (no treatment start)"))
        .when(pl.col("n_post") == 0).then(pl.lit("no post-baseline clinical assessment"))
    )
    out = per.join(first, on="subject_id", how="left").with_columns(reason=reason)
    return out.with_columns(
        evaluable=pl.col("reason").is_null(),
        improved=pl.col("reason").is_null() & pl.col("first_improvement_date").is_not_null(),
    ).select(CLINICAL_COLUMNS).sort("subject_id")
