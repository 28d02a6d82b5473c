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


def run_engines(frames: dict[str, pl.DataFrame], config: Any) -> EngineOutputs:
    """Call every engine on ``frames`` with its section of ``config`` (a ``StudyConfig``).

    The engines' own column names are mapped here, once, onto the internal shape above.
    """
    from radiotrial.criteria.clinical import derive_clinical_response
    from radiotrial.criteria.markers import derive_marker_response
    from radiotrial.criteria.response import derive_response
    from radiotrial.criteria.toxicity import derive_toxicity
    from radiotrial.physics import derive_dosimetry
    from radiotrial.protocol import assess_eligibility, build_schedule, eligibility_summary

    resp = derive_response(frames, config.response)
    progression = progression_from_timepoints(resp.timepoints)
    tp = resp.timepoints.rename({"overall_response": "response"})
    subj = resp.subjects.rename({"bor_confirmed": "cbor", "not_evaluable_reason": "reason"})
    mk = derive_marker_response(frames, config.markers)
    cl = derive_clinical_response(frames, config.clinical)

    tox = derive_toxicity(frames, config.toxicity)
    # ADLB.ATOXGR sign convention: grades in the low direction are negative.
    sign = pl.when(pl.col("direction") == "low").then(-1).otherwise(1)
    labs = tox.graded.with_columns(
        grade=pl.col("grade").cast(pl.Int64) * sign,
        baseline_grade=pl.col("baseline_grade").cast(pl.Int64) * sign,
    )
    worst = tox.worst.rename({"recovered": "reversible"}).with_columns(
        haematological=pl.col("category") == "haematological"
    )

    dose = derive_dosimetry(frames, config.dosimetry).administrations.rename(
        {"administered_activity_gbq": "administered_gbq"}
    )

    eligibility = eligibility_summary(assess_eligibility(frames, config.protocol)).select(
        "subject_id", "status", "eligible", "reason"
    )
    deviations = build_schedule(frames, config.protocol, data_cutoff(frames),
                                progression=progression).deviations

    return EngineOutputs(
        response_tp=tp, response_subj=subj, marker_subj=mk, clinical_subj=cl,
        tox_labs=labs, tox_worst=worst, dose_admin=dose,
        eligibility=eligibility, deviations=deviations,
    )


def progression_from_timepoints(timepoints: pl.DataFrame) -> pl.DataFrame:
    """``subject_id, date`` of every time point whose overall response is PD.

    This is how documented progression by the study's response criteria (e.g. WHO SPD growth
    >= 25 %) reaches the protocol engine, which on its own only sees non-target PD and new
    lesions recorded in the tumour assessments.
    """
    return timepoints.filter(pl.col("overall_response") == "PD").select(
        "subject_id", pl.col("assessment_date").alias("date"))


def progression_dates(frames: dict[str, pl.DataFrame], config: Any) -> pl.DataFrame:
    """PD time points of a study under its response criteria (see :func:`progression_from_timepoints`)."""
    from radiotrial.criteria.response import derive_response

    return progression_from_timepoints(derive_response(frames, config.response).timepoints)


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
