"""Treatment and assessment schedule: planned vs actual, deviations, and an "as of" worklist.

Rules (options in :class:`~radiotrial.protocol.config.ProtocolConfig`):

- **Cycles.** Cycle 1 is the actual first treatment. Planned date of cycle k+1 = actual cycle k
  + interval (``cycle_anchor="previous_cycle"``) or first treatment + k x interval
  (``"first_treatment"``). A cycle is *early* / *late* when ``actual - planned`` is beyond
  ± ``cycle_tolerance_days`` (the tolerance itself is on time: 49 and 63 days for 56 ± 7).
  Cycles are counted in order of administration; one beyond ``max_cycles`` is a deviation.
- **Assessments.** The window of cycle k is [cycle + start, cycle + end] (inclusive). Windows
  may overlap the next cycle (56 +- 7-day cycles, 56-84-day window): an assessment date (from
  ``assessment_sources``) satisfies the earliest cycle whose window contains it and that has no
  assessment yet (an assessment on the day of the next cycle, its pre-treatment assessment,
  thus counts for the previous cycle). Only an assessment in no window is *outside window*,
  for the latest cycle before it without an assessment (``days_off`` to the nearest window
  edge; never reaching back past a cycle already assessed earlier; per cycle the earliest).
  Baseline assessments (on or before cycle 1) are not attributed. None at all once the
  window has closed is *missing*, unless the subject died, started a new therapy or ended the
  study (disposition) before the window closed.
- **Progression** (ends treatment): the first tumour assessment after first treatment with
  non-target ``PD`` or new lesions, or a date in the optional ``progression`` frame (e.g. from
  the response engine). A cycle given after it is a deviation.
- **As of.** Only records dated on or before ``as_of`` are used, so the worklist is the one
  the team would have seen that day. ``as_of=None`` uses the data cut-off (latest record date).
  An open event is *planned* before its window, *due* inside it and *overdue* after it
  (``days_overdue`` counted from the window's last day).
- **Disposition** (``disposition`` records, CDISC SDTM DS; only those dated on or before
  ``as_of``). An *end of treatment* makes the subject off treatment from its date,
  "off: <reason>" ("off: progression" for ``progressive disease``, "off: died" for ``death``);
  no next cycle is planned, and an assessment of the last cycle whose window has closed leaves
  the worklist (it stays a deviation). An *end of study* (without end of treatment: the same
  "off: <reason>") ends everything: no open event at all, and an assessment whose window had
  not closed by then is *not expected*. A recorded disposition wins over the derived reasons
  below; death wins over both.
- **Stale events** (subjects without an end-of-treatment record only). A next cycle or
  assessment overdue by more than ``stale_after_days`` past its window leaves the worklist; such
  a subject is "off: cycles stopped".
- **Follow-up.** After treatment ends (end of treatment, maximum cycles, progression, new
  therapy, cycles stopped) and until an end of study, the next visit is ``follow_up_interval_days`` after the latest of: the last cycle's
  assessment (or its window end when not done), the last contact (any dated record: imaging,
  clinical visit, lab, marker, ``last_known_alive_date``).
- **Study day** follows CDISC: day 1 = first treatment, no day 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from radiotrial.protocol._frames import _to_polars, get
from radiotrial.protocol.config import ProtocolConfig

#: Deviation kinds.
CYCLE_EARLY = "cycle early"
CYCLE_LATE = "cycle late"
CYCLE_AFTER_PROGRESSION = "cycle after progression"
CYCLE_BEYOND_MAX = "cycle beyond maximum"
ASSESSMENT_OUTSIDE = "assessment outside window"
ASSESSMENT_MISSING = "assessment missing"

#: Disposition events (``disposition.event``, docs/import-format.md; the same strings as
#: ``radiotrial.store.dictionary``, which engines may not import: ARCHITECTURE.md, Layers).
END_OF_TREATMENT = "end of treatment"
END_OF_STUDY = "end of study"
#: Disposition reasons whose treatment status reads like the derived one (one label per cause).
_REASON_LABEL = {"progressive disease": "progression", "death": "died"}

DEVIATION_SCHEMA = {
    "subject_id": pl.String, "kind": pl.String, "event": pl.String, "planned": pl.Date,
    "actual": pl.Date, "days_off": pl.Int64,
}
TIMELINE_COLUMNS = ["subject_id", "event", "kind", "cycle", "planned", "window_start",
                    "window_end", "actual", "days_off", "study_day", "status"]
WORKLIST_COLUMNS = ["subject_id", "event", "kind", "cycle", "planned", "window_start",
                    "window_end", "status", "days_until", "days_overdue", "next"]


@dataclass(frozen=True)
class Schedule:
    """Result of :func:`build_schedule`.

    - ``timeline``: one row per subject x event (cycles given, their assessments, the next cycle
      or follow-up visit): ``event, kind, cycle, planned, window_start, window_end, actual,
      days_off, study_day, status``.
    - ``deviations``: ``subject_id, kind, event, planned, actual, days_off``.
    - ``worklist``: open events as of ``as_of``: ``status`` planned / due / overdue,
      ``days_until`` the planned date, ``days_overdue`` past the window, ``next`` = the
      subject's earliest open event.
    - ``subjects``: one row per treated subject: cycles given, progression, treatment status.
    """

    as_of: date
    timeline: pl.DataFrame
    deviations: pl.DataFrame
    worklist: pl.DataFrame
    subjects: pl.DataFrame


def data_cutoff(frames: Mapping[str, Any]) -> date | None:
    """The latest date in the records the schedule reads (``None`` when there are none)."""
    cands: list[date] = []
    probes = {
        "administration": [pl.col("admin_instant").dt.date()],
        "tumour_assessment": [pl.col("assessment_date")],
        "measurement": [pl.col("assessment_date")],
        "clinical": [pl.col("assessment_date")],
        "marker": [pl.col("sample_date")],
        "lab": [pl.col("instant").dt.date()],
        "follow_up": [pl.col("last_known_alive_date"), pl.col("death_date")],
        "disposition": [pl.col("date")],
    }
    for name, exprs in probes.items():
        df = _disposition_frame(frames) if name == "disposition" else get(frames, name)
        if df.height:
            vals = df.select(pl.max_horizontal([e.max() for e in exprs])).item()
            if vals is not None:
                cands.append(vals)
    return max(cands) if cands else None


def _disposition_frame(frames: Mapping[str, Any]) -> pl.DataFrame:
    """``subject_id, event, date, reason`` of the disposition records (empty when absent)."""
    schema = {"subject_id": pl.String, "event": pl.String, "date": pl.Date, "reason": pl.String}
    df = frames.get("disposition")
    if df is None:
        return pl.DataFrame(schema=schema)
    df = _to_polars(df, "disposition")
    if df.height == 0:
        return pl.DataFrame(schema=schema)
    return df.select([pl.col(c).cast(t) for c, t in schema.items()])


def disposition_as_of(frames: Mapping[str, Any], as_of: date) -> pl.DataFrame:
    """``subject_id, eot_date, eot_reason, eos_date, eos_reason``: disposition known on ``as_of``.

    The first ``end of treatment`` / ``end of study`` record (CDISC SDTM DS; ADaM ADSL
    EOTSTT/DCTREAS, EOSSTT/DCSREAS) dated on or before ``as_of``, one row per subject with
    either. The one reading of disposition shared by the schedule and readiness.
    """
    d = _disposition_frame(frames).filter(pl.col("date") <= as_of)
    out = []
    for event, pre in ((END_OF_TREATMENT, "eot"), (END_OF_STUDY, "eos")):
        out.append(
            d.filter(pl.col("event") == event).sort("date").group_by("subject_id")
            .agg(pl.col("date").first().alias(f"{pre}_date"),
                 pl.col("reason").first().alias(f"{pre}_reason")))
    return out[0].join(out[1], on="subject_id", how="full", coalesce=True)


def _off_label(reason: pl.Expr) -> pl.Expr:
    """Treatment status of a recorded disposition reason ("off: <reason>")."""
    return pl.format("off: {}", reason.replace(_REASON_LABEL))


def _days(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    return (a - b).dt.total_days().cast(pl.Int64)


def _add_days(d: pl.Expr, n: int | pl.Expr) -> pl.Expr:
    return d + pl.duration(days=n)


def progression_frame(progression: Any) -> pl.DataFrame:
    """``subject_id, date`` of documented progression from a frame (or mapping) with exactly
    those columns, e.g. the response engine's PD time points (``study.engines.progression_dates``).
    """
    p = progression if isinstance(progression, pl.DataFrame) else pl.DataFrame(progression)
    missing = {"subject_id", "date"} - set(p.columns)
    if missing:
        raise TypeError(f"progression frame needs columns subject_id and date; missing {missing}")
    return p.select(pl.col("subject_id").cast(pl.String), pl.col("date").cast(pl.Date))


def _progression_dates(frames: Mapping[str, Any], cycles: pl.DataFrame, as_of: date,
                       progression: Any | None) -> pl.DataFrame:
    """``subject_id, pd_date``: first documented progression after first treatment."""
    first = cycles.group_by("subject_id").agg(pl.col("actual").min().alias("first"))
    ta = get(frames, "tumour_assessment").filter(
        (pl.col("non_target_status") == "PD") | pl.col("new_lesions").fill_null(False)
    ).select("subject_id", pl.col("assessment_date").alias("d"))
    parts = [ta]
    if progression is not None:
        parts.append(progression_frame(progression).rename({"date": "d"}))
    return (
        pl.concat(parts).join(first, on="subject_id", how="inner")
        .filter((pl.col("d") > pl.col("first")) & (pl.col("d") <= as_of))
        .group_by("subject_id").agg(pl.col("d").min().alias("pd_date"))
    )


def _last_contact(frames: Mapping[str, Any], as_of: date) -> pl.DataFrame:
    """``subject_id, last_contact``: latest dated record of any kind (a visit) on/before as_of."""
    probes = {
        "tumour_assessment": pl.col("assessment_date"), "measurement": pl.col("assessment_date"),
        "clinical": pl.col("assessment_date"), "marker": pl.col("sample_date"),
        "lab": pl.col("instant").dt.date(), "follow_up": pl.col("last_known_alive_date"),
    }
    parts = [get(frames, name).select("subject_id", e.alias("d")) for name, e in probes.items()]
    return (
        pl.concat(parts).filter(pl.col("d") <= as_of)
        .group_by("subject_id").agg(pl.col("d").max().alias("last_contact"))
    )


def _assessment_dates(frames: Mapping[str, Any], cfg: ProtocolConfig, as_of: date) -> pl.DataFrame:
    cols = {"tumour_assessment": "assessment_date", "measurement": "assessment_date",
            "clinical": "assessment_date", "marker": "sample_date"}
    parts = [get(frames, src).select("subject_id", pl.col(cols[src]).alias("date"))
             for src in cfg.assessment_sources]
    return (
        pl.concat(parts).filter(pl.col("date").is_not_null() & (pl.col("date") <= as_of))
        .unique().sort("date")
    )


def _attribute_assessments(ass: pl.DataFrame, cycles: pl.DataFrame) -> pl.DataFrame:
    """``subject_id, k, a_date, a_last``: the assessment of each cycle ``k`` (module rules).

    ``ass``: ``subject_id, date``; ``cycles``: ``subject_id, k, actual, ws, we`` (window).
    Windows of consecutive cycles may overlap the next cycle (8-week cycles, 8-12-week window),
    so an assessment is not simply the latest cycle's: it satisfies the *earliest* cycle whose
    window contains it and that has no assessment yet. Processed in date order, that greedy
    matching is monotone (later assessments fill later cycles), so cycle k takes the earliest
    assessment in its window after the one taken by the last filled cycle before k: one
    vectorised step per cycle number (at most ``max_cycles`` + a few), never per subject or row.
    An assessment in no window is *outside window* for the latest cycle before it that has no
    assessment (not reaching back past a cycle filled by an earlier assessment); per cycle the
    earliest such one counts. Baseline assessments (on or before cycle 1) are not attributed.
    ``a_last`` is the subject's latest assessment after first treatment.
    """
    sid = "subject_id"
    first = cycles.group_by(sid).agg(pl.col("actual").min().alias("first"))
    ass = (ass.join(first, on=sid, how="inner").filter(pl.col("date") > pl.col("first"))
           .select(sid, "date"))
    in_win = (pl.col("date") >= pl.col("ws")) & (pl.col("date") <= pl.col("we"))
    pairs = ass.join(cycles, on=sid, how="inner").filter(in_win)
    filled: list[pl.DataFrame] = []
    taken = pl.DataFrame(schema={sid: pl.String, "taken": pl.Date})
    k_max = int(cycles["k"].max() or 0)
    for k in range(1, k_max + 1):  # per cycle number, each step over all subjects at once
        got = (pairs.filter(pl.col("k") == k).join(taken, on=sid, how="left")
               .filter(pl.col("taken").is_null() | (pl.col("date") > pl.col("taken")))
               .group_by(sid).agg(pl.col("date").min().alias("a_in"))
               .with_columns(pl.lit(k, dtype=pl.Int64).alias("k")))
        filled.append(got)
        taken = pl.concat([taken, got.select(sid, pl.col("a_in").alias("taken"))]).group_by(
            sid).agg(pl.col("taken").max())
    a_in = pl.concat(filled) if filled else pl.DataFrame(
        schema={sid: pl.String, "a_in": pl.Date, "k": pl.Int64})
    # assessments in no window: latest preceding cycle without an assessment, not before the
    # last cycle already filled by an earlier assessment
    outside = ass.join(pairs.select(sid, "date").unique(), on=[sid, "date"], how="anti")
    reach = (outside.join(a_in, on=sid, how="inner").filter(pl.col("a_in") < pl.col("date"))
             .group_by(sid, "date").agg(pl.col("k").max().alias("k_filled")))
    a_out = (
        outside.join(cycles.select(sid, "k", "actual").join(a_in, on=[sid, "k"], how="anti"),
                     on=sid, how="inner")
        .filter(pl.col("actual") < pl.col("date"))
        .join(reach, on=[sid, "date"], how="left")
        .filter(pl.col("k_filled").is_null() | (pl.col("k") > pl.col("k_filled")))
        .group_by(sid, "date").agg(pl.col("k").max())
        .group_by(sid, "k").agg(pl.col("date").min().alias("a_out"))
    )
    return (
        cycles.select(sid, "k")
        .join(a_in.select(sid, "k", "a_in"), on=[sid, "k"], how="left")
        .join(a_out, on=[sid, "k"], how="left")
        .join(ass.group_by(sid).agg(pl.col("date").max().alias("a_last")), on=sid, how="left")
        .select(sid, "k", pl.coalesce("a_in", "a_out").alias("a_date"), "a_last")
    )


def build_schedule(frames: Mapping[str, Any], config: ProtocolConfig | None = None,
                   as_of: date | None = None, *, progression: Any | None = None) -> Schedule:
    """Planned vs actual cycles and assessments, deviations and the worklist as of ``as_of``.

    ``progression``: optional frame ``subject_id, date`` of documented progression (e.g. PD
    time-points from the response engine), added to the tumour assessments with PD.
    """
    cfg = config or ProtocolConfig()
    if as_of is None:
        as_of = data_cutoff(frames) or date.today()
    interval, tol = cfg.cycle_interval_days, cfg.cycle_tolerance_days
    w0, w1 = cfg.assessment_window_start_days, cfg.assessment_window_end_days
    sid = "subject_id"

    # ---- cycles -------------------------------------------------------------------------
    adm = (
        get(frames, "administration")
        .filter(pl.col("admin_instant").is_not_null())
        .with_columns(pl.col("admin_instant").dt.date().alias("actual"))
        .filter(pl.col("actual") <= as_of)
        .sort(sid, "admin_instant")
    )
    cyc = adm.with_columns(
        (pl.int_range(pl.len()).over(sid) + 1).cast(pl.Int64).alias("k"),
        pl.col("actual").min().over(sid).alias("first"),
        pl.col("actual").shift(1).over(sid).alias("prev"),
        pl.col("actual").shift(-1).over(sid).alias("next_actual"),
    )
    if cfg.cycle_anchor == "previous_cycle":
        planned = pl.when(pl.col("k") == 1).then(pl.col("actual")).otherwise(
            _add_days(pl.col("prev"), interval))
    else:
        planned = _add_days(pl.col("first"), (pl.col("k") - 1) * interval)
    cyc = cyc.with_columns(planned.alias("planned")).with_columns(
        _days(pl.col("actual"), pl.col("planned")).alias("days_off"),
        _add_days(pl.col("actual"), w0).alias("ws"),
        _add_days(pl.col("actual"), w1).alias("we"),
    )
    pd_dates = _progression_dates(frames, cyc, as_of, progression)
    fu = get(frames, "follow_up").group_by(sid).agg(
        pl.col("death_date").filter(pl.col("death_date") <= as_of).min(),
        pl.col("new_therapy_date").filter(pl.col("new_therapy_date") <= as_of).min(),
        pl.col("last_known_alive_date").filter(pl.col("last_known_alive_date") <= as_of).max(),
    )
    disp = disposition_as_of(frames, as_of)
    cyc = (cyc.join(pd_dates, on=sid, how="left").join(fu, on=sid, how="left")
           .join(disp, on=sid, how="left"))

    # ---- assessments attributed to cycles -------------------------------------------------
    per_cycle = _attribute_assessments(_assessment_dates(frames, cfg, as_of),
                                       cyc.select(sid, "k", "actual", "ws", "we"))
    cyc = cyc.join(per_cycle.drop("a_last"), on=[sid, "k"], how="left").join(
        per_cycle.group_by(sid).agg(pl.col("a_last").max()), on=sid, how="left")
    a = pl.col("a_date")
    stopped_before_close = (
        (pl.col("death_date") <= pl.col("we")).fill_null(False)
        | (pl.col("new_therapy_date") <= pl.col("we")).fill_null(False)
        | (pl.col("eos_date") <= pl.col("we")).fill_null(False))
    cyc = cyc.with_columns(
        pl.when(a.is_not_null() & (a < pl.col("ws"))).then(_days(a, pl.col("ws")))
        .when(a.is_not_null() & (a > pl.col("we"))).then(_days(a, pl.col("we")))
        .when(a.is_not_null()).then(pl.lit(0, dtype=pl.Int64))
        .alias("a_days_off"),
        pl.when(a.is_not_null() & (a >= pl.col("ws")) & (a <= pl.col("we"))).then(pl.lit("done"))
        .when(a.is_not_null()).then(pl.lit("outside window"))
        .when(stopped_before_close).then(pl.lit("not expected"))
        .when(pl.lit(as_of) > pl.col("we")).then(pl.lit("missing"))
        .when(pl.lit(as_of) >= pl.col("ws")).then(pl.lit("due"))
        .otherwise(pl.lit("planned"))
        .alias("a_status"),
        pl.when(pl.col("k") == 1).then(pl.lit("done"))
        .when(pl.col("days_off") < -tol).then(pl.lit("early"))
        .when(pl.col("days_off") > tol).then(pl.lit("late"))
        .otherwise(pl.lit("done")).alias("c_status"),
    )

    # ---- deviations -------------------------------------------------------------------------
    cycle_event = pl.format("cycle {}", pl.col("k"))
    assess_event = pl.format("assessment after cycle {}", pl.col("k"))
    dev_cols = [sid, "kind", "event", "planned", "actual", "days_off"]
    devs = [
        cyc.filter(pl.col("c_status").is_in(["early", "late"])).select(
            sid, pl.format("cycle {}", pl.col("c_status")).alias("kind"), cycle_event.alias("event"),
            "planned", "actual", "days_off"),
        cyc.filter(pl.col("actual") > pl.col("pd_date")).select(
            sid, pl.lit(CYCLE_AFTER_PROGRESSION).alias("kind"), cycle_event.alias("event"),
            pl.col("pd_date").alias("planned"), "actual",
            _days(pl.col("actual"), pl.col("pd_date")).alias("days_off")),
        cyc.filter(pl.col("k") > cfg.max_cycles).select(
            sid, pl.lit(CYCLE_BEYOND_MAX).alias("kind"), cycle_event.alias("event"),
            pl.lit(None, dtype=pl.Date).alias("planned"), "actual",
            pl.lit(None, dtype=pl.Int64).alias("days_off")),
        cyc.filter(pl.col("a_status") == "outside window").select(
            sid, pl.lit(ASSESSMENT_OUTSIDE).alias("kind"), assess_event.alias("event"),
            pl.col("ws").alias("planned"), pl.col("a_date").alias("actual"),
            pl.col("a_days_off").alias("days_off")),
        cyc.filter(pl.col("a_status") == "missing").select(
            sid, pl.lit(ASSESSMENT_MISSING).alias("kind"), assess_event.alias("event"),
            pl.col("ws").alias("planned"), pl.lit(None, dtype=pl.Date).alias("actual"),
            pl.lit(None, dtype=pl.Int64).alias("days_off")),
    ]
    deviations = (
        pl.concat([d.select(dev_cols).cast(DEVIATION_SCHEMA) for d in devs])  # type: ignore[arg-type]
        .sort(sid, pl.coalesce("actual", "planned"), "kind")
    )

    # ---- per-subject state and next events ----------------------------------------------------
    last = cyc.group_by(sid).agg(
        pl.col("first").first(), pl.col("k").max().alias("n_cycles"),
        pl.col("actual").last().alias("last_cycle"), pl.col("pd_date").first(),
        pl.col("death_date").first(), pl.col("new_therapy_date").first(),
        pl.col("last_known_alive_date").first(),
        pl.col("a_date").last().alias("last_a_date"), pl.col("we").last().alias("last_we"),
        pl.col("a_last").max().alias("any_a_last"),
        pl.col("eot_date").first(), pl.col("eot_reason").first(),
        pl.col("eos_date").first(), pl.col("eos_reason").first(),
    )
    status = (
        pl.when(pl.col("death_date").is_not_null()).then(pl.lit("off: died"))
        .when(pl.col("eot_date").is_not_null()).then(_off_label(pl.col("eot_reason")))
        .when(pl.col("eos_date").is_not_null()).then(_off_label(pl.col("eos_reason")))
        .when(pl.col("pd_date").is_not_null()).then(pl.lit("off: progression"))
        .when(pl.col("new_therapy_date").is_not_null()).then(pl.lit("off: new therapy"))
        .when(pl.col("n_cycles") >= cfg.max_cycles).then(pl.lit("off: maximum cycles"))
        .otherwise(pl.lit("on treatment"))
    )
    if cfg.cycle_anchor == "previous_cycle":
        next_planned = _add_days(pl.col("last_cycle"), interval)
    else:
        next_planned = _add_days(pl.col("first"), pl.col("n_cycles") * interval)
    if cfg.stale_after_days is not None:
        stale_cycle = pl.lit(as_of) > _add_days(next_planned, tol + cfg.stale_after_days)
        status = pl.when(status == "on treatment").then(
            pl.when(stale_cycle).then(pl.lit("off: cycles stopped")).otherwise(status)
        ).otherwise(status)
    last = last.with_columns(status.alias("treatment_status"))
    next_cycle = last.filter(pl.col("treatment_status") == "on treatment").select(
        sid, pl.format("cycle {}", pl.col("n_cycles") + 1).alias("event"),
        pl.lit("cycle").alias("kind"), (pl.col("n_cycles") + 1).alias("cycle"),
        next_planned.alias("planned"),
    ).with_columns(
        _add_days(pl.col("planned"), -tol).alias("window_start"),
        _add_days(pl.col("planned"), tol).alias("window_end"),
    )
    last = last.join(_last_contact(frames, as_of), on=sid, how="left")
    fu_anchor = pl.max_horizontal(
        pl.coalesce("last_a_date", "last_we"), "any_a_last", "last_contact")
    follow = last.filter(
        pl.col("treatment_status").str.starts_with("off: ")
        & (pl.col("treatment_status") != "off: died") & pl.col("death_date").is_null()
        & pl.col("eos_date").is_null()
    ).select(
        sid, pl.lit("follow-up").alias("event"), pl.lit("follow-up").alias("kind"),
        pl.lit(None, dtype=pl.Int64).alias("cycle"),
        _add_days(fu_anchor, cfg.follow_up_interval_days).alias("planned"),
    ).with_columns(
        _add_days(pl.col("planned"), -cfg.follow_up_tolerance_days).alias("window_start"),
        _add_days(pl.col("planned"), cfg.follow_up_tolerance_days).alias("window_end"),
    )
    # on study: alive and no end of study (nothing is open after it)
    alive = last.filter(pl.col("death_date").is_null() & pl.col("eos_date").is_null()).select(
        sid, "n_cycles", "eot_date")
    open_assess = cyc.drop("eot_date").join(alive, on=sid, how="inner").filter(
        (pl.col("k") == pl.col("n_cycles")) & pl.col("a_status").is_in(["planned", "due", "missing"])
    ).select(
        sid, assess_event.alias("event"), pl.lit("assessment").alias("kind"),
        pl.col("k").alias("cycle"), pl.col("ws").alias("planned"),
        pl.col("ws").alias("window_start"), pl.col("we").alias("window_end"), "eot_date",
    )
    # after a recorded end of treatment a closed window is a deviation, not a to-do; without one
    # the stale heuristic ends it
    ended = pl.col("eot_date").is_not_null()
    keep = ~ended | (pl.lit(as_of) <= pl.col("window_end"))
    if cfg.stale_after_days is not None:
        keep = keep & (ended | (
            pl.lit(as_of) <= _add_days(pl.col("window_end"), cfg.stale_after_days)))
    open_assess = open_assess.filter(keep)
    open_cols = [sid, "event", "kind", "cycle", "planned", "window_start", "window_end"]
    open_events = pl.concat(
        [e.select(open_cols).cast({"cycle": pl.Int64}) for e in (next_cycle, follow, open_assess)]
    )
    asof = pl.lit(as_of)
    worklist = (
        open_events.with_columns(
            pl.when(asof < pl.col("window_start")).then(pl.lit("planned"))
            .when(asof <= pl.col("window_end")).then(pl.lit("due"))
            .otherwise(pl.lit("overdue")).alias("status"),
            _days(pl.col("planned"), asof).alias("days_until"),
            pl.when(asof > pl.col("window_end")).then(_days(asof, pl.col("window_end")))
            .alias("days_overdue"),
        )
        .sort(sid, "planned", "kind")
        .with_columns((pl.int_range(pl.len()).over(sid) == 0).alias("next"))
        .select(WORKLIST_COLUMNS)
    )

    # ---- timeline -----------------------------------------------------------------------------
    def study_day(col: str) -> pl.Expr:
        d = _days(pl.col(col), pl.col("first"))
        return pl.when(d >= 0).then(d + 1).otherwise(d)

    firsts = last.select(sid, "first")
    tl_cycles = cyc.select(
        sid, cycle_event.alias("event"), pl.lit("cycle").alias("kind"), pl.col("k").alias("cycle"),
        "planned",
        pl.when(pl.col("k") > 1).then(_add_days(pl.col("planned"), -tol)).otherwise(
            pl.col("planned")).alias("window_start"),
        pl.when(pl.col("k") > 1).then(_add_days(pl.col("planned"), tol)).otherwise(
            pl.col("planned")).alias("window_end"),
        "actual", "days_off", pl.col("c_status").alias("status"),
    )
    tl_assess = cyc.select(
        sid, assess_event.alias("event"), pl.lit("assessment").alias("kind"),
        pl.col("k").alias("cycle"), pl.col("ws").alias("planned"),
        pl.col("ws").alias("window_start"), pl.col("we").alias("window_end"),
        pl.col("a_date").alias("actual"), pl.col("a_days_off").alias("days_off"),
        pl.col("a_status").alias("status"),
    )  # an open assessment past its window reads "missing" here, "overdue" on the worklist
    tl_open = worklist.filter(pl.col("kind") != "assessment").select(
        sid, "event", "kind", "cycle", "planned", "window_start", "window_end",
        pl.lit(None, dtype=pl.Date).alias("actual"), pl.lit(None, dtype=pl.Int64).alias("days_off"),
        "status",
    )
    timeline = (
        pl.concat([t.cast({"cycle": pl.Int64, "days_off": pl.Int64})
                   for t in (tl_cycles, tl_assess, tl_open)])
        .join(firsts, on=sid, how="left")
        .with_columns(study_day("actual").alias("study_day"))
        .sort(sid, pl.coalesce("actual", "planned"), "kind")
        .select(TIMELINE_COLUMNS)
    )
    nxt = worklist.filter(pl.col("next")).select(
        sid, pl.col("event").alias("next_event"), pl.col("planned").alias("next_planned"),
        pl.col("status").alias("next_status"), pl.col("days_overdue").alias("next_days_overdue"))
    subjects = (
        last.select(sid, pl.col("first").alias("first_treatment"), "n_cycles", "last_cycle",
                    pl.col("pd_date").alias("progression_date"), "treatment_status")
        .join(nxt, on=sid, how="left")
        .sort(sid)
    )
    return Schedule(as_of=as_of, timeline=timeline, deviations=deviations, worklist=worklist,
                    subjects=subjects)
