"""Readiness for the next cycle: may this subject receive a cycle on this date?

Every check of the protocol's retreatment section is run and reported; the subject is *ready*
only when none holds (a check that cannot be made for lack of data holds: missing data never
clears a patient). Checks (``config.retreatment``; :class:`~radiotrial.protocol.config.ProtocolConfig`):

- ``status``: subject died or started a new anti-cancer therapy on or before the date.
- ``disposition``: an ``end of treatment`` or ``end of study`` record (CDISC SDTM DS,
  docs/import-format.md) dated on or before the date: "treatment ended on DATE (REASON)" /
  "study ended on DATE (REASON)". Read by
  :func:`~radiotrial.protocol.schedule.disposition_as_of`, as in the schedule.
- ``eligibility`` (first cycle only): the entry criteria, with the date as first treatment.
- ``max_cycles``: cycles given already reach ``max_cycles``.
- ``interval``: fewer than ``cycle_interval_days - cycle_tolerance_days`` days since the last
  cycle (56 - 7 = 49 by default: day 49 is on time, day 48 too early).
- ``progression``: progression documented after first treatment (tumour assessment with
  non-target PD or new lesions, or the optional ``progression`` frame), if
  ``hold_on_progression``.
- ``lab <analyte>``: the last value within ``lab_within_days`` before the date fails its
  retreatment threshold, or there is none.
- ``toxicity``: an adverse event of a related attribution still ongoing with grade >
  ``max_toxicity_grade``, or a last lab value graded above it (toxicity engine).
- ``cumulative activity``: given + planned activity above ``max_cumulative_activity_gbq``
  (calibrated activities, which bound the administered activity when calibrated at or before
  injection).
- ``dose``: cumulative absorbed dose / BED with the planned activity above an organ limit
  (dosimetry engine, ``dose_check``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl

from radiotrial.errors import RadiotrialError
from radiotrial.protocol import _engines
from radiotrial.protocol._frames import get
from radiotrial.protocol.config import LabThreshold, ProtocolConfig
from radiotrial.protocol.schedule import disposition_as_of, progression_frame
from radiotrial.treatment import first_administration

OK, HOLD, NOT_CHECKED = "ok", "hold", "not checked"

_OPS = {">=": float.__ge__, "<=": float.__le__, ">": float.__gt__, "<": float.__lt__}


@dataclass(frozen=True)
class Check:
    """One readiness check: ``name``, ``status`` (ok / hold / not checked) and its detail."""

    name: str
    status: str
    detail: str

    def __str__(self) -> str:
        return f"{self.name}: {self.detail}"


@dataclass(frozen=True)
class Readiness:
    """Result of :func:`check_readiness`. ``reasons`` are the checks that hold."""

    subject_id: str
    on: date
    next_cycle: int
    ready: bool
    reasons: list[Check]
    checks: list[Check] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (dates as ISO strings)."""
        def c(x: Check) -> dict[str, str]:
            return {"check": x.name, "status": x.status, "detail": x.detail}

        return {
            "subject_id": self.subject_id, "on": self.on.isoformat(),
            "next_cycle": self.next_cycle, "ready": self.ready,
            "reasons": [c(x) for x in self.reasons], "checks": [c(x) for x in self.checks],
        }


def _subset(frames: Mapping[str, Any], name: str, subject_id: str) -> pl.DataFrame:
    return get(frames, name).filter(pl.col("subject_id") == subject_id)


def _lab_check(labs: pl.DataFrame, t: LabThreshold, on: date, days: int) -> Check:
    name = f"lab {t.analyte}"
    rows = labs.filter(
        (pl.col("analyte") == t.analyte) & pl.col("value").is_not_null()
        & (pl.col("instant").dt.date() >= on - timedelta(days=days))
    ).sort("instant")
    if rows.height == 0:
        return Check(name, HOLD, f"no {t.analyte} value within {days} days before {on} "
                                 f"(needed: {t.label()})")
    last = rows.row(-1, named=True)
    when = last["instant"].strftime("%Y-%m-%d")
    value = float(last["value"])
    limit = t.threshold
    if t.relative_to != "absolute":
        ref = last[t.relative_to] if last[t.relative_to] is not None else t.fallback_limit
        if ref is None:
            return Check(name, HOLD, f"{t.analyte} {value:g} on {when} has no "
                                     f"{t.relative_to.upper()} to compare with {t.label()}")
        limit = t.threshold * float(ref)
    if _OPS[t.op](value, float(limit)):
        return Check(name, OK, f"{t.analyte} {value:g} {last['unit'] or ''} on {when} meets "
                               f"{t.label()}")
    return Check(name, HOLD, f"{t.analyte} {value:g} {last['unit'] or ''} on {when} fails the "
                             f"retreatment threshold {t.label()} (limit {limit:g})")


def _disposition_checks(frames: Mapping[str, Any], subject_id: str, on: date) -> list[Check]:
    """HOLD for each end of treatment / end of study recorded on or before ``on``."""
    d = disposition_as_of(frames, on).filter(pl.col("subject_id") == subject_id)
    row = d.row(0, named=True) if d.height else {}
    out = [Check("disposition", HOLD, f"{what} ended on {row[f'{pre}_date']} "
                                      f"({row[f'{pre}_reason']})")
           for pre, what in (("eot", "treatment"), ("eos", "study"))
           if row.get(f"{pre}_date") is not None]
    return out or [Check("disposition", OK, "no end of treatment or end of study recorded")]


def _progression_date(frames: Mapping[str, Any], subject_id: str, first: date, on: date,
                      progression: Any | None) -> date | None:
    ta = _subset(frames, "tumour_assessment", subject_id).filter(
        (pl.col("non_target_status") == "PD") | pl.col("new_lesions").fill_null(False))
    dates = [d for d in ta["assessment_date"].to_list() if d is not None]
    if progression is not None:
        p = progression_frame(progression)
        dates += [d for d in p.filter(pl.col("subject_id") == subject_id)["date"].to_list()
                  if d is not None]
    dates = [d for d in dates if first < d <= on]
    return min(dates) if dates else None


def check_readiness(
    frames: Mapping[str, Any],
    config: ProtocolConfig | None,
    subject_id: str,
    on: date,
    planned_activity_gbq: float | None = None,
    *,
    toxicity_config: Any = None,
    dosimetry_config: Any = None,
    progression: Any | None = None,
    grader: _engines.Grader | None = None,
    dose_checker: _engines.DoseChecker | None = None,
) -> Readiness:
    """Ready or hold, with every reason, for ``subject_id``'s next cycle on ``on``.

    Only records dated on or before ``on`` are used. ``grader`` / ``dose_checker`` override the
    toxicity / dosimetry engines (by default imported lazily when installed); without a grader
    the lab-toxicity part is "not checked" (adverse events are still checked).
    ``toxicity_config``: the study's ``ToxicityConfig`` (its ``criteria`` picks the grading
    version; default ``ctcae-v5``).
    """
    cfg = config or ProtocolConfig()
    rt = cfg.retreatment
    if planned_activity_gbq is not None and not planned_activity_gbq > 0:
        raise RadiotrialError(f"planned activity must be > 0 GBq, got {planned_activity_gbq!r}")
    subj = _subset(frames, "subject", subject_id)
    adm_all = _subset(frames, "administration", subject_id)
    if subj.height == 0 and adm_all.height == 0:
        raise RadiotrialError(f"unknown subject_id {subject_id!r}: no subject record")
    adm = adm_all.filter(pl.col("admin_instant").dt.date() <= on).sort("admin_instant")
    n_given = adm.height
    checks: list[Check] = []

    # -- status: death / new therapy ------------------------------------------------------------
    fu = _subset(frames, "follow_up", subject_id)
    death = [d for d in fu["death_date"].to_list() if d is not None and d <= on]
    newt = [d for d in fu["new_therapy_date"].to_list() if d is not None and d <= on]
    if death:
        checks.append(Check("status", HOLD, f"subject died on {min(death)}"))
    elif newt:
        checks.append(Check("status", HOLD, f"new anti-cancer therapy started {min(newt)}"))
    else:
        checks.append(Check("status", OK, "alive, no new therapy recorded"))

    # -- disposition: end of treatment / end of study -------------------------------------------
    checks.extend(_disposition_checks(frames, subject_id, on))

    # -- first cycle: eligibility -----------------------------------------------------------------
    if n_given == 0:
        from radiotrial.protocol.eligibility import (
            ELIGIBLE,
            assess_eligibility,
            eligibility_summary,
        )

        instant = datetime.combine(on, time(23, 59, 59), tzinfo=UTC)
        sub = {k: _subset(frames, k, subject_id) for k in ("subject", "scintigraphy", "lab",
                                                             "eligibility")}
        sub["administration"] = pl.DataFrame(
            {"subject_id": [subject_id], "cycle": [1], "admin_instant": [instant]},
            schema={"subject_id": pl.String, "cycle": pl.Int64,
                    "admin_instant": pl.Datetime("us", "UTC")})
        summ = eligibility_summary(assess_eligibility(sub, cfg))
        if summ.height and summ["status"][0] == ELIGIBLE:
            checks.append(Check("eligibility", OK, "all entry criteria met"))
        else:
            why = summ["reason"][0] if summ.height else "no subject record"
            status = summ["status"][0] if summ.height else "not assessable"
            checks.append(Check("eligibility", HOLD, f"{status}: {why}"))

    # -- maximum cycles ---------------------------------------------------------------------------
    if n_given >= cfg.max_cycles:
        checks.append(Check("max_cycles", HOLD,
                            f"maximum cycles reached ({n_given} of {cfg.max_cycles} given)"))
    else:
        checks.append(Check("max_cycles", OK, f"{n_given} of {cfg.max_cycles} cycles given"))

    # -- interval ---------------------------------------------------------------------------------
    if n_given:
        last = adm["admin_instant"][-1].date()
        days = (on - last).days
        min_days = cfg.cycle_interval_days - cfg.cycle_tolerance_days
        earliest = last + timedelta(days=min_days)
        if days < min_days:
            checks.append(Check("interval", HOLD, (
                f"interval too short: {days} days since cycle {n_given} on {last}; earliest "
                f"{earliest} ({cfg.cycle_interval_days} - {cfg.cycle_tolerance_days} days)")))
        else:
            checks.append(Check("interval", OK, f"{days} days since cycle {n_given} on {last}"))

    # -- progression -------------------------------------------------------------------------------
    if rt.hold_on_progression and n_given:
        pd_date = _progression_date(frames, subject_id, adm["admin_instant"][0].date(), on,
                                    progression)
        if pd_date is not None:
            checks.append(Check("progression", HOLD, f"progression documented on {pd_date}"))
        else:
            checks.append(Check("progression", OK, "no progression documented"))

    # -- labs ---------------------------------------------------------------------------------------
    labs = _subset(frames, "lab", subject_id).filter(pl.col("instant").dt.date() <= on)
    for t in rt.labs:
        checks.append(_lab_check(labs, t, on, rt.lab_within_days))

    # -- toxicity ------------------------------------------------------------------------------------
    checks.extend(_toxicity_checks(frames, subject_id, on, cfg, labs, toxicity_config, grader,
                                   n_given))

    # -- cumulative activity and dose ------------------------------------------------------------------
    checks.extend(_dose_checks(frames, subject_id, cfg, adm, planned_activity_gbq,
                               dosimetry_config, dose_checker))

    reasons = [c for c in checks if c.status == HOLD]
    return Readiness(subject_id=subject_id, on=on, next_cycle=n_given + 1, ready=not reasons,
                     reasons=reasons, checks=checks)


def _toxicity_checks(frames: Mapping[str, Any], subject_id: str, on: date, cfg: ProtocolConfig,
                     labs: pl.DataFrame, toxicity_config: Any, grader: Any,
                     n_given: int) -> list[Check]:
    rt = cfg.retreatment
    out: list[Check] = []
    ae = _subset(frames, "adverse_event", subject_id).filter(
        (pl.col("start_date") <= on)
        & (pl.col("end_date").is_null() | (pl.col("end_date") > on))
        & (pl.col("grade") > rt.max_toxicity_grade)
        & pl.col("attribution").fill_null("unknown").is_in(rt.toxicity_attributions)
    )
    for r in ae.iter_rows(named=True):
        out.append(Check("toxicity", HOLD, (
            f"adverse event '{r['term']}' grade {r['grade']} since {r['start_date']} not "
            f"recovered (> grade {rt.max_toxicity_grade})")))
    if n_given == 0:
        return out or [Check("toxicity", OK, "first cycle: no treatment toxicity to recover")]
    grade_fn = grader or _engines.toxicity_grader()
    recent = labs.filter(
        pl.col("value").is_not_null()
        & (pl.col("instant").dt.date() >= on - timedelta(days=rt.lab_within_days))
    ).sort("instant").group_by("analyte", maintain_order=True).agg(pl.all().last())
    if recent.height:
        criteria = getattr(toxicity_config, "criteria", None) or "ctcae-v5"
        adm = _subset(frames, "administration", subject_id)
        starts = first_administration(adm).select(
            "subject_id", treatment_start_instant="first_instant", treatment_start="start_date")
        graded = grade_fn(labs, criteria, starts, toxicity_config)
        graded = graded.join(recent.select("analyte", "instant"), on=["analyte", "instant"],
                             how="semi")
        for r in graded.filter(pl.col("grade").is_not_null()
                               & (pl.col("grade").cast(pl.Int64).abs() > rt.max_toxicity_grade)
                               ).iter_rows(named=True):
            out.append(Check("toxicity", HOLD, (
                f"{r['analyte']} {r['value']:g} on {r['instant']:%Y-%m-%d} is grade "
                f"{abs(int(r['grade']))} ({criteria}), not recovered to <= grade "
                f"{rt.max_toxicity_grade}")))
    if not any(c.status == HOLD for c in out):
        out.append(Check("toxicity", OK, f"no toxicity above grade {rt.max_toxicity_grade}"))
    return out


def _dose_checks(frames: Mapping[str, Any], subject_id: str, cfg: ProtocolConfig,
                 adm: pl.DataFrame, planned: float | None, dosimetry_config: Any,
                 checker: Any) -> list[Check]:
    rt = cfg.retreatment
    out: list[Check] = []
    given = float(adm["calibrated_activity"].fill_null(0.0).sum()) if adm.height else 0.0
    if rt.max_cumulative_activity_gbq is not None:
        if planned is None:
            out.append(Check("cumulative activity", NOT_CHECKED,
                             f"{given:g} GBq given; no planned activity to add"))
        elif given + planned > rt.max_cumulative_activity_gbq:
            out.append(Check("cumulative activity", HOLD, (
                f"{given:g} GBq given + {planned:g} GBq planned = {given + planned:g} GBq "
                f"exceeds the limit {rt.max_cumulative_activity_gbq:g} GBq")))
        else:
            out.append(Check("cumulative activity", OK, (
                f"{given:g} + {planned:g} = {given + planned:g} GBq within "
                f"{rt.max_cumulative_activity_gbq:g} GBq")))
    if rt.dose_check == "off":
        return out
    fn = checker or _engines.dose_checker()
    required = rt.dose_check == "required"
    if planned is None:
        out.append(Check("dose", HOLD if required else NOT_CHECKED,
                         "no planned activity given: cumulative dose and BED not checked"))
        return out
    # the subject's own rows with every original column (the dose models need them all)
    sub = {k: v.filter(pl.col("subject_id") == subject_id) if "subject_id" in v.columns else v
           for k, v in frames.items() if isinstance(v, pl.DataFrame)}
    results = fn(sub, subject_id, planned, dosimetry_config)
    if not results:
        out.append(Check("dose", HOLD if required else NOT_CHECKED,
                         "no organ limit could be evaluated"))
    for exceeds, msg in results:
        if exceeds is None:
            out.append(Check("dose", HOLD if required else NOT_CHECKED, msg))
        else:
            out.append(Check("dose", HOLD if exceeds else OK, msg))
    return out
