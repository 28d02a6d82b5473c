"""Run the engines on a study's frames and bring their results into one internal shape.

The engines (response, markers, clinical, toxicity, dosimetry, protocol) each own their output
columns; this module is the one place that knows them, so the ADaM assembly in
:mod:`radiotrial.study.derive` reads a stable, documented shape (:class:`EngineOutputs`).
Tests of the assembly build an :class:`EngineOutputs` directly.

Internal shapes (all keyed by ``subject_id``; dates are ``pl.Date``):

* ``response_tp``: ``subject_id, assessment_date, sum, response`` (time-point response
  CR/PR/SD/PD/NE; ``sum`` = WHO sum of products in mm² or RECIST sum of diameters in mm)
* ``response_subj``: ``subject_id, bor, cbor, evaluable, reason``
* ``marker_subj``: ``subject_id, evaluable, responder, reason``
* ``clinical_subj``: ``subject_id, evaluable, improved, reason``
* ``tox_labs``: ``subject_id, instant, analyte, value, unit, lln, uln, term, grade,
  baseline_grade, baseline`` (``grade`` signed as ADLB.ATOXGR: negative = low direction)
* ``tox_worst``: ``subject_id, analyte, term, worst_grade, reversible, haematological``
* ``dose_admin``: ``subject_id, cycle, administered_gbq`` plus any ``*_gy`` dose columns
* ``eligibility``: ``subject_id, eligible, reason``
* ``deviations``: whatever the protocol engine reports (``subject_id`` first)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from radiotrial.errors import RadiotrialError

#: CDISC LBTESTCD codes counted as haematological (NCI CTC v2.0 "Blood/Bone marrow" category).
HAEMATOLOGICAL = ("HGB", "WBC", "NEUT", "LYMPH", "PLAT")


@dataclass
class EngineOutputs:
    """Engine results in the internal shape documented in the module docstring."""

    response_tp: pl.DataFrame
    response_subj: pl.DataFrame
    marker_subj: pl.DataFrame
    clinical_subj: pl.DataFrame
    tox_labs: pl.DataFrame
    tox_worst: pl.DataFrame
    dose_admin: pl.DataFrame
    eligibility: pl.DataFrame | None = None
    deviations: pl.DataFrame | None = None


def frame(frames: dict[str, pl.DataFrame], name: str) -> pl.DataFrame | None:
    """The record type ``name`` or None when it is missing or has no rows."""
    df = frames.get(name)
    if df is None or df.height == 0:
        return None
    return df


def _rename(df: pl.DataFrame, candidates: dict[str, tuple[str, ...]]) -> pl.DataFrame:
    """Rename the first present candidate column to each target name."""
    mapping: dict[str, str] = {}
    for target, names in candidates.items():
        if target in df.columns:
            continue
        for name in names:
            if name in df.columns and name not in mapping:
                mapping[name] = target
                break
    return df.rename(mapping)


def _require(df: pl.DataFrame, cols: tuple[str, ...], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise RadiotrialError(
            f"{what}: the engine's result lacks column(s) {missing}; has {df.columns}"
        )


def _as_frame(obj: Any, *attrs: str) -> pl.DataFrame:
    if isinstance(obj, pl.DataFrame):
        return obj
    for attr in attrs:
        val = getattr(obj, attr, None)
        if isinstance(val, pl.DataFrame):
            return val
    raise RadiotrialError(f"engine result {type(obj).__name__} has none of {attrs}")


def run_engines(frames: dict[str, pl.DataFrame], config: Any) -> EngineOutputs:
    """Call every engine on ``frames`` with its section of ``config`` (a ``StudyConfig``)."""
    from radiotrial.criteria.clinical import derive_clinical_response
    from radiotrial.criteria.markers import derive_marker_response
    from radiotrial.criteria.response import derive_response
    from radiotrial.criteria.toxicity import derive_toxicity
    from radiotrial.physics import derive_dosimetry

    resp = derive_response(frames, config.response)
    tp = _rename(
        _as_frame(resp, "timepoints"),
        {"assessment_date": ("date", "ADT", "adt"),
         "sum": ("spd", "sum_of_products", "sod", "sum_diameters", "tumour_sum"),
         "response": ("overall", "overall_response", "ovr", "timepoint_response")},
    )
    _require(tp, ("subject_id", "assessment_date", "sum", "response"), "tumour response")
    subj = _rename(
        _as_frame(resp, "subjects"),
        {"bor": ("best_response", "best_overall_response"),
         "cbor": ("bor_confirmed", "confirmed_bor", "confirmed_best_response"),
         "reason": ("not_evaluable_reason", "evaluability_reason", "ne_reason")},
    )
    _require(subj, ("subject_id", "bor"), "tumour response")

    mk = _rename(
        _as_frame(derive_marker_response(frames, config.markers), "subjects"),
        {"responder": ("response", "reduced", "reduction"),
         "reason": ("not_evaluable_reason",)},
    )
    _require(mk, ("subject_id", "evaluable", "responder"), "marker response")
    cl = _rename(
        _as_frame(derive_clinical_response(frames, config.clinical), "subjects"),
        {"improved": ("improvement", "responder", "response"),
         "reason": ("not_evaluable_reason",)},
    )
    _require(cl, ("subject_id", "evaluable", "improved"), "clinical response")

    tox = derive_toxicity(frames, config.toxicity)
    labs = _rename(_as_frame(tox, "graded", "labs"), {"grade": ("atoxgr", "toxgr")})
    _require(labs, ("subject_id", "analyte", "value", "grade"), "toxicity")
    if "direction" in labs.columns:  # ADLB.ATOXGR sign convention: low direction negative
        sign = pl.when(pl.col("direction") == "low").then(-1).otherwise(1)
        labs = labs.with_columns(
            grade=pl.col("grade").cast(pl.Int64) * sign,
            baseline_grade=(pl.col("baseline_grade").cast(pl.Int64) * sign
                            if "baseline_grade" in labs.columns else pl.lit(None, pl.Int64)))
    worst = _rename(_as_frame(tox, "worst", "worst_grades"),
                    {"worst_grade": ("grade",), "reversible": ("recovered",)})
    _require(worst, ("subject_id", "term", "worst_grade"), "toxicity")
    if "haematological" not in worst.columns and "category" in worst.columns:
        worst = worst.with_columns(haematological=pl.col("category") == "haematological")

    dose = _rename(
        _as_frame(derive_dosimetry(frames, config.dosimetry), "administrations"),
        {"administered_gbq": ("administered_activity_gbq", "administered_activity",
                              "net_activity_gbq")},
    )
    _require(dose, ("subject_id", "cycle", "administered_gbq"), "dosimetry")

    eligibility = deviations = None
    try:
        from radiotrial.protocol import assess_eligibility, build_schedule
    except ImportError:  # pragma: no cover - protocol engine not installed
        assess_eligibility = build_schedule = None
    if assess_eligibility is not None:
        el = _as_frame(assess_eligibility(frames, config.protocol), "subjects", "frame")
        if "result" in el.columns and "criterion" in el.columns:  # one row per criterion
            el = el.group_by("subject_id").agg(
                eligible=(pl.col("result") == "met").all(),
                reason=pl.col("criterion").filter(pl.col("result") != "met").sort()
                .str.join("; "))
            el = el.with_columns(reason=pl.when(pl.col("reason") != "").then(pl.col("reason")))
        eligibility = _rename(el, {"reason": ("reasons", "not_met")})
    if build_schedule is not None:
        sched = build_schedule(frames, config.protocol, data_cutoff(frames))
        dev = getattr(sched, "deviations", None)
        deviations = dev if isinstance(dev, pl.DataFrame) else None

    return EngineOutputs(
        response_tp=tp, response_subj=subj, marker_subj=mk, clinical_subj=cl,
        tox_labs=labs, tox_worst=worst, dose_admin=dose,
        eligibility=eligibility, deviations=deviations,
    )


def data_cutoff(frames: dict[str, pl.DataFrame]) -> dt.date:
    """The latest date anywhere in the study's records (the data cut-off used for schedules)."""
    latest: dt.date | None = None
    for df in frames.values():
        for name, dtype in df.schema.items():
            if dtype == pl.Date or isinstance(dtype, pl.Datetime):
                value = df.get_column(name).max()
                if value is None:
                    continue
                day = value.date() if isinstance(value, dt.datetime) else value
                latest = day if latest is None or day > latest else latest
    if latest is None:
        raise RadiotrialError("the study has no dated records; cannot set a data cut-off")
    return latest
