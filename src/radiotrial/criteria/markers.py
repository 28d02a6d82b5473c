"""Biologic (tumour-marker) response: per-marker % change from baseline, responders.

Rules (issue #4 item 5; spec §1 "modified WHO" practice for NET series; ARCHITECTURE 'Time'):
- treatment start = UTC date of the earliest administration; baseline = the last sample of that
  marker on or before treatment start; post-baseline = samples after treatment start and on or
  before a new anti-cancer therapy (``follow_up.new_therapy_date``);
- a marker is evaluable when its baseline value exceeds its ULN (the ULN recorded with the
  baseline sample) and it has at least one post-baseline sample;
- best value = the lowest post-baseline value (earliest date on ties); best change in % of baseline;
- response when the best decrease reaches ``MarkerConfig.rule``.
Markers are compared only with themselves (units are kept, never converted).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from radiotrial.errors import RadiotrialError
from radiotrial.treatment import first_administration

MARKER_COLUMNS = (
    "subject_id", "evaluable", "reason", "marker", "baseline", "best_value", "best_pct_change",
    "best_date", "responder",
)


class MarkerConfig(BaseModel):
    """Marker response rule."""

    model_config = ConfigDict(extra="forbid")

    rule: Literal["decrease_50", "any_decrease", "custom"] = Field(
        "decrease_50",
        description="Response when the best decrease from baseline is >= 50 % (decrease_50, the "
        "usual protocol threshold for chromogranin A and urinary 5-HIAA in NET series), any "
        "decrease (< 0 %), or >= threshold_pct (custom). Inclusive thresholds.",
    )
    threshold_pct: float | None = Field(
        None, gt=0, lt=100, description="Decrease in % required when rule = custom."
    )
    markers: list[str] | None = Field(
        None,
        description="Markers to use, by name as recorded (e.g. ['CgA', '5-HIAA']); null = all.",
    )
    selection: Literal["best", "priority"] = Field(
        "best",
        description="Which evaluable marker represents a subject: 'best' = the one with the "
        "largest decrease (a subject responds when any evaluable marker responds), or "
        "'priority' = the first evaluable marker in `markers` order. Default best: the model "
        "study reports 'a reduction in biologic marker levels' without naming one marker "
        "(radiotrial's reading).",
    )

    @model_validator(mode="after")
    def _check(self) -> MarkerConfig:
        if self.rule == "custom" and self.threshold_pct is None:
            raise ValueError("markers.rule 'custom' needs markers.threshold_pct (e.g. 30)")
        if self.selection == "priority" and not self.markers:
            raise ValueError("markers.selection 'priority' needs the markers list in order")
        return self

    def required_decrease_pct(self) -> float:
        """The decrease (%) that makes a response; 0 for any_decrease (strict)."""
        if self.rule == "decrease_50":
            return 50.0
        if self.rule == "custom":
            assert self.threshold_pct is not None
            return self.threshold_pct
        return 0.0


_MARKER_SCHEMA = {"subject_id": pl.String, "marker": pl.String, "sample_date": pl.Date,
                  "value": pl.Float64, "uln": pl.Float64}


def _start_and_cutoff(frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """subject_id, start_date, new_therapy_date (null when none)."""
    start = first_administration(frames.get("administration")).select("subject_id", "start_date")
    fu = frames.get("follow_up")
    if fu is not None and fu.height and "new_therapy_date" in fu.columns:
        cut = fu.group_by("subject_id").agg(pl.col("new_therapy_date").cast(pl.Date).min())
        return start.join(cut, on="subject_id", how="left")
    return start.with_columns(new_therapy_date=pl.lit(None, pl.Date))


def marker_changes(frames: Mapping[str, pl.DataFrame], config: MarkerConfig) -> pl.DataFrame:
    """One row per subject x marker: baseline, uln, best post-baseline value, change, evaluable."""
    df = frames.get("marker")
    if df is None or df.height == 0:
        df = pl.DataFrame(schema=_MARKER_SCHEMA)
    missing = [c for c in _MARKER_SCHEMA if c not in df.columns]
    if missing:
        raise RadiotrialError(f"record type 'marker' lacks column(s) {', '.join(missing)}")
    df = df.select(list(_MARKER_SCHEMA)).cast(_MARKER_SCHEMA)
    if config.markers is not None:
        df = df.filter(pl.col("marker").is_in(config.markers))
    df = df.join(_start_and_cutoff(frames), on="subject_id", how="left")
    d = pl.col("sample_date")
    pre = d <= pl.col("start_date")
    post = (d > pl.col("start_date")) & (
        pl.col("new_therapy_date").is_null() | (d <= pl.col("new_therapy_date")))
    per = df.sort("sample_date").group_by("subject_id", "marker").agg(
        has_start=pl.col("start_date").is_not_null().any(),
        baseline=pl.col("value").filter(pre).last(),
        uln=pl.col("uln").filter(pre).last(),
        best_value=pl.col("value").filter(post).min(),
        best_date=d.filter(post).sort_by(pl.col("value").filter(post), d.filter(post)).first(),
        n_post=post.fill_null(False).sum(),
    )
    pct = ((pl.col("best_value") - pl.col("baseline")) / pl.col("baseline") * 100).round(9)
    reason = (
        pl.when(~pl.col("has_start")).then(pl.lit("no administration (no treatment start)"))
        .when(pl.col("baseline").is_null()).then(pl.lit("no sample on or before treatment start"))
        .when(pl.col("uln").is_null()).then(pl.lit("no ULN with the baseline sample"))
        .when(pl.col("baseline") <= pl.col("uln")).then(pl.lit("baseline not above ULN"))
        .when(pl.col("n_post") == 0).then(pl.lit("no post-baseline sample"))
    )
    need = config.required_decrease_pct()
    responder = (pct < 0) if need == 0 else (pct <= -need)
    return per.with_columns(best_pct_change=pct, reason=reason).with_columns(
        evaluable=pl.col("reason").is_null(),
        responder=pl.when(pl.col("reason").is_null()).then(responder.fill_null(False))
        .otherwise(False),
    ).sort("subject_id", "marker")


def derive_marker_response(
    frames: Mapping[str, pl.DataFrame], config: MarkerConfig
) -> pl.DataFrame:
    """One row per subject with marker data: the marker used and the subject's response.

    Columns: subject_id, evaluable, reason (why not evaluable; for a subject with no evaluable
    marker, the reason of its first marker by name), marker, baseline, best_value,
    best_pct_change, best_date, responder.
    """
    ch = marker_changes(frames, config)
    if config.selection == "priority":
        order = {m: i for i, m in enumerate(config.markers or [])}
        key = pl.col("marker").replace_strict(order, default=len(order), return_dtype=pl.Int64)
    else:
        key = pl.col("best_pct_change")
    ranked = ch.with_columns(_ev=(~pl.col("evaluable")).cast(pl.Int8), _key=key).sort(
        "subject_id", "_ev", "_key", "marker", nulls_last=True
    )
    return ranked.group_by("subject_id", maintain_order=True).first().select(MARKER_COLUMNS)
