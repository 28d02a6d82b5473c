"""Eligibility: each subject against each declarative entry criterion of the protocol.

Every criterion gives ``met``, ``not met`` or ``not assessable`` with the record and value it
used, and the reason when it could not be assessed. Missing data is never "met": a value that
is absent, or recorded only outside the criterion's look-back window, makes the criterion
not assessable. A subject is *eligible* when all criteria are met, *not eligible* when at least
one is not met, otherwise *not assessable*. Vectorised over subjects (one Polars query per rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from radiotrial.protocol._frames import UTC, first_treatment, get
from radiotrial.protocol.config import (
    AgeRule,
    EligibilityConfig,
    HistologyRule,
    LabRule,
    LiverMetastasesRule,
    PerformanceStatusRule,
    ProgressionRule,
    ProtocolConfig,
    RecordedRule,
    ScintigraphyRule,
)

MET, NOT_MET, NOT_ASSESSABLE = "met", "not met", "not assessable"
ELIGIBLE, NOT_ELIGIBLE = "eligible", "not eligible"

RESULT_COLUMNS = ["subject_id", "criterion", "result", "record", "value", "reason"]

_OPS = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
}


def _end_of_day(col: str) -> pl.Expr:
    return (
        pl.col(col).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        + pl.duration(days=1)
        - pl.duration(microseconds=1)
    ).cast(UTC)


def _reference(frames: Mapping[str, Any], cfg: EligibilityConfig) -> pl.DataFrame:
    """Per subject: ``ref_date``, ``ref_instant`` (inclusive end) and ``ref_label``."""
    subj = get(frames, "subject").select("subject_id", "enrolment_date")
    df = subj.join(first_treatment(frames), on="subject_id", how="left")
    use_first = cfg.reference == "first_treatment"
    fallback = cfg.untreated_reference == "enrolment"
    if use_first:
        has = pl.col("first_date").is_not_null()
        ref_date = pl.when(has).then(pl.col("first_date"))
        ref_instant = pl.when(has).then(pl.col("first_instant"))
        ref_label = pl.when(has).then(pl.lit("first treatment"))
        if fallback:
            ref_date = ref_date.otherwise(pl.col("enrolment_date"))
            ref_instant = ref_instant.otherwise(_end_of_day("enrolment_date"))
            ref_label = ref_label.otherwise(pl.lit("enrolment (not treated)"))
    else:
        ref_date = pl.col("enrolment_date")
        ref_instant = _end_of_day("enrolment_date")
        ref_label = pl.lit("enrolment")
    return df.select(
        "subject_id",
        "enrolment_date",
        ref_date.alias("ref_date"),
        ref_instant.cast(UTC).alias("ref_instant"),
        ref_label.cast(pl.String).alias("ref_label"),
    )


def _result(expr_met: pl.Expr, expr_assessable: pl.Expr) -> pl.Expr:
    return (
        pl.when(~expr_assessable.fill_null(False))
        .then(pl.lit(NOT_ASSESSABLE))
        .when(expr_met.fill_null(False))
        .then(pl.lit(MET))
        .otherwise(pl.lit(NOT_MET))
    )


def _finish(df: pl.DataFrame, name: str, result: pl.Expr, record: pl.Expr, value: pl.Expr,
            reason: pl.Expr) -> pl.DataFrame:
    return df.select(
        pl.col("subject_id"),
        pl.lit(name).alias("criterion"),
        result.alias("result"),
        record.cast(pl.String).alias("record"),
        value.cast(pl.String).alias("value"),
        reason.cast(pl.String).alias("reason"),
    ).with_columns(
        # a met criterion needs no reason
        pl.when(pl.col("result") == MET).then(None).otherwise(pl.col("reason")).alias("reason")
    )


def _histology(subj: pl.DataFrame, rule: HistologyRule) -> pl.DataFrame:
    h = pl.col("histology").str.strip_chars()
    allowed = [a.strip().lower() for a in rule.allowed]
    if rule.match == "contains":
        ok = h.str.to_lowercase().str.contains_any(allowed)
    else:
        ok = h.str.to_lowercase().is_in(allowed)
    present = h.is_not_null() & (h != "")
    return _finish(
        subj, rule.name or "histology", _result(ok, present), pl.lit("subject.histology"), h,
        pl.when(~present.fill_null(False)).then(pl.lit("histology not recorded"))
        .otherwise(pl.format("histology '{}' is not one of {}", h, pl.lit(str(rule.allowed)))),
    )


def _liver(subj: pl.DataFrame, rule: LiverMetastasesRule) -> pl.DataFrame:
    lm = pl.col("liver_metastases")
    return _finish(
        subj, rule.name or "liver_metastases", _result(lm, lm.is_not_null()),
        pl.lit("subject.liver_metastases"), lm,
        pl.when(lm.is_null()).then(pl.lit("liver_metastases not recorded"))
        .otherwise(pl.lit("no liver metastases recorded (liver_metastases = false)")),
    )


def _progression(subj: pl.DataFrame, rule: ProgressionRule) -> pl.DataFrame:
    pdate, enr = pl.col("progression_date"), pl.col("enrolment_date")
    lower = enr.dt.offset_by(f"-{rule.within_months}mo")
    ok = (pdate >= lower) & (pdate <= enr)
    reason = (
        pl.when(pdate.is_null()).then(pl.lit("progression_date not recorded"))
        .when(pdate > enr).then(pl.format("progression {} is after enrolment {}", pdate, enr))
        .otherwise(pl.format(
            "progression {} is more than {} months before enrolment {}",
            pdate, pl.lit(rule.within_months), enr,
        ))
    )
    return _finish(subj, rule.name or "progression", _result(ok, pdate.is_not_null()),
                   pl.lit("subject.progression_date"), pdate, reason)


def _age(subj: pl.DataFrame, rule: AgeRule) -> pl.DataFrame:
    year = pl.col("enrolment_date").dt.year().cast(pl.Float64)
    by = pl.col("birth_year").cast(pl.Float64)
    lo = pl.coalesce(pl.col("age"), year - by - 1)
    hi = pl.coalesce(pl.col("age"), year - by)

    def inside(x: pl.Expr) -> pl.Expr:
        cond = pl.lit(True)
        if rule.min_years is not None:
            cond = cond & (x >= rule.min_years)
        if rule.max_years is not None:
            cond = cond & (x <= rule.max_years)
        return cond

    known = lo.is_not_null()
    decided = known & (inside(lo) == inside(hi))
    value = (
        pl.when(pl.col("age").is_not_null()).then(pl.col("age").cast(pl.String))
        .when(known).then(pl.format("{}-{} (birth_year {})", lo.cast(pl.Int64),
                                    hi.cast(pl.Int64), pl.col("birth_year")))
    )
    rng = f"[{rule.min_years if rule.min_years is not None else '-'}, " \
          f"{rule.max_years if rule.max_years is not None else '-'}]"
    reason = (
        pl.when(~known).then(pl.lit("neither age nor birth_year recorded"))
        .when(~decided).then(pl.lit(f"age from birth_year is ambiguous against range {rng}"))
        .otherwise(pl.format("age {} outside {}", value, pl.lit(rng)))
    )
    record = pl.when(pl.col("age").is_not_null()).then(pl.lit("subject.age")).otherwise(
        pl.lit("subject.birth_year"))
    return _finish(subj, rule.name or "age", _result(inside(lo) & inside(hi), decided), record,
                   value, reason)


def _ps(subj: pl.DataFrame, rule: PerformanceStatusRule) -> pl.DataFrame:
    ps = pl.col("performance_status")
    return _finish(
        subj, rule.name or "performance_status", _result(ps <= rule.max_ecog, ps.is_not_null()),
        pl.lit("subject.performance_status"), ps,
        pl.when(ps.is_null()).then(pl.lit("performance_status not recorded"))
        .otherwise(pl.format("ECOG {} > {}", ps, pl.lit(rule.max_ecog))),
    )


def _recorded(frames: Mapping[str, Any], subj: pl.DataFrame, rule: RecordedRule) -> pl.DataFrame:
    el = (
        get(frames, "eligibility")
        .filter(pl.col("criterion") == rule.criterion)
        .sort("subject_id", "assessed_date", nulls_last=False)
        .group_by("subject_id")
        .agg(pl.col("met").last(), pl.col("assessed_date").last(), pl.col("note").last())
    )
    df = subj.join(el, on="subject_id", how="left")
    met = pl.col("met")
    return _finish(
        df, rule.name or rule.criterion, _result(met, met.is_not_null()),
        pl.format("eligibility.{} {}", pl.lit(rule.criterion),
                  pl.col("assessed_date").cast(pl.String).fill_null("")).str.strip_chars(),
        met,
        pl.when(met.is_null()).then(pl.lit(f"criterion '{rule.criterion}' not recorded"))
        .otherwise(pl.format("recorded as not met{}",
                             pl.concat_str(pl.lit(": "), pl.col("note")).fill_null(""))),
    )


def _window_reason(what: str, days: int) -> pl.Expr:
    """Reason when no usable record lies in the look-back window."""
    return (
        pl.when(pl.col("ref_date").is_null())
        .then(pl.lit("no first treatment to anchor the look-back window"))
        .when(pl.col("n_any").fill_null(0) == 0)
        .then(pl.lit(f"no {what} recorded"))
        .when(pl.col("last_before").is_null())
        .then(pl.format("no {} on or before {} {}", pl.lit(what), pl.col("ref_label"),
                        pl.col("ref_date")))
        .otherwise(pl.format(
            "no {} within {} days before {} {} (latest before: {})", pl.lit(what), pl.lit(days),
            pl.col("ref_label"), pl.col("ref_date"), pl.col("last_before"),
        ))
    )


def _scintigraphy(frames: Mapping[str, Any], ref: pl.DataFrame,
                  rule: ScintigraphyRule) -> pl.DataFrame:
    tracer = rule.tracer.strip().lower()
    scans = (
        get(frames, "scintigraphy")
        .filter(pl.col("tracer").str.strip_chars().str.to_lowercase() == tracer)
        .join(ref, on="subject_id", how="inner")
        .sort("subject_id", "scan_date")
    )
    d = pl.col("scan_date")
    in_win = (d <= pl.col("ref_date")) & (d >= pl.col("ref_date") - pl.duration(days=rule.within_days))
    usable = in_win & pl.col("uptake_grade").is_not_null()
    agg = scans.group_by("subject_id").agg(
        pl.len().alias("n_any"),
        in_win.any().alias("any_in_win"),
        d.filter(usable).last().alias("scan"),
        pl.col("uptake_grade").filter(usable).last().alias("grade"),
        d.filter(d <= pl.col("ref_date")).last().alias("last_before"),
    )
    df = ref.join(agg, on="subject_id", how="left")
    g = pl.col("grade")
    reason = (
        pl.when(g.is_null() & pl.col("any_in_win").fill_null(False))
        .then(pl.lit("uptake_grade not recorded for the scan(s) within the window"))
        .when(g.is_null()).then(_window_reason(f"{rule.tracer} scan", rule.within_days))
        .otherwise(pl.format("uptake grade {} < {}", g, pl.lit(rule.min_uptake_grade)))
    )
    return _finish(
        df, rule.name or "scintigraphy", _result(g >= rule.min_uptake_grade, g.is_not_null()),
        pl.when(g.is_not_null()).then(pl.format("scintigraphy {} {}", pl.lit(rule.tracer),
                                                pl.col("scan"))),
        g, reason,
    )


def _lab(frames: Mapping[str, Any], ref: pl.DataFrame, rule: LabRule) -> pl.DataFrame:
    labs = (
        get(frames, "lab")
        .filter(pl.col("analyte") == rule.analyte)
        .join(ref, on="subject_id", how="inner")
        .sort("subject_id", "instant")
    )
    t = pl.col("instant")
    in_win = (t <= pl.col("ref_instant")) & (
        t.dt.date() >= pl.col("ref_date") - pl.duration(days=rule.within_days))
    usable = in_win & pl.col("value").is_not_null()
    agg = labs.group_by("subject_id").agg(
        pl.len().alias("n_any"),
        t.filter(usable).last().alias("lab_instant"),
        pl.col("value").filter(usable).last().alias("lab_value"),
        pl.col("unit").filter(usable).last().alias("lab_unit"),
        pl.col("uln").filter(usable).last().alias("lab_uln"),
        pl.col("lln").filter(usable).last().alias("lab_lln"),
        t.filter(t <= pl.col("ref_instant")).last().dt.date().alias("last_before"),
    )
    df = ref.join(agg, on="subject_id", how="left")
    v = pl.col("lab_value")
    limit_col = {"absolute": None, "uln": "lab_uln", "lln": "lab_lln"}[rule.relative_to]
    if limit_col is None:
        limit = pl.lit(rule.threshold, dtype=pl.Float64)
        have_limit = pl.lit(True)
        value = pl.format("{} {}", v, pl.col("lab_unit"))
    else:
        ref_limit = pl.col(limit_col)
        if rule.fallback_limit is not None:
            ref_limit = ref_limit.fill_null(rule.fallback_limit)
        limit = ref_limit * rule.threshold
        have_limit = ref_limit.is_not_null()
        value = pl.coalesce(
            pl.format("{} {} ({} {})", v, pl.col("lab_unit"), pl.lit(limit_col[4:].upper()),
                      ref_limit),
            pl.format("{} {}", v, pl.col("lab_unit")),
        )
    ok = _OPS[rule.op](v, limit)
    reason = (
        pl.when(v.is_null()).then(_window_reason(f"{rule.analyte} value", rule.within_days))
        .when(~have_limit).then(pl.lit(f"{limit_col[4:].upper() if limit_col else ''} missing "
                                       f"for {rule.analyte} on the value used"))
        .otherwise(pl.format("{} {} does not satisfy {} {} (limit {})", pl.lit(rule.analyte), v,
                             pl.lit(rule.op), pl.lit(rule.name), limit.round(4)))
    )
    record = pl.when(v.is_not_null()).then(
        pl.format("lab {} {}", pl.lit(rule.analyte), pl.col("lab_instant").dt.to_string(
            "%Y-%m-%dT%H:%MZ")))
    return _finish(df, rule.name or rule.analyte, _result(ok, v.is_not_null() & have_limit),
                   record, pl.when(v.is_not_null()).then(value), reason)


def _as_eligibility_config(config: ProtocolConfig | EligibilityConfig) -> EligibilityConfig:
    if isinstance(config, EligibilityConfig):
        return config
    if isinstance(config, ProtocolConfig):
        return config.eligibility
    inner = getattr(config, "protocol", None)  # a StudyConfig
    if isinstance(inner, ProtocolConfig):
        return inner.eligibility
    raise TypeError(f"expected ProtocolConfig or EligibilityConfig, got {type(config).__name__}")


def assess_eligibility(frames: Mapping[str, Any],
                       config: ProtocolConfig | EligibilityConfig | None = None) -> pl.DataFrame:
    """One row per subject x criterion: ``subject_id, criterion, result, record, value, reason``.

    ``result`` is ``met`` / ``not met`` / ``not assessable``; ``record`` and ``value`` name the
    data used; ``reason`` says why a criterion is not met or not assessable (null when met).
    Rows are ordered by subject, then by the protocol's rule order.
    """
    cfg = _as_eligibility_config(config or ProtocolConfig())
    subj = get(frames, "subject")
    ref = _reference(frames, cfg)
    parts: list[pl.DataFrame] = []
    for rule in cfg.rules:
        if isinstance(rule, HistologyRule):
            parts.append(_histology(subj, rule))
        elif isinstance(rule, LiverMetastasesRule):
            parts.append(_liver(subj, rule))
        elif isinstance(rule, ProgressionRule):
            parts.append(_progression(subj, rule))
        elif isinstance(rule, AgeRule):
            parts.append(_age(subj, rule))
        elif isinstance(rule, PerformanceStatusRule):
            parts.append(_ps(subj, rule))
        elif isinstance(rule, RecordedRule):
            parts.append(_recorded(frames, subj, rule))
        elif isinstance(rule, ScintigraphyRule):
            parts.append(_scintigraphy(frames, ref, rule))
        elif isinstance(rule, LabRule):
            parts.append(_lab(frames, ref, rule))
        else:  # pragma: no cover - the config union is closed
            raise TypeError(f"unknown eligibility rule {rule!r}")
    if not parts:
        return pl.DataFrame(schema={c: pl.String for c in RESULT_COLUMNS})
    order = pl.DataFrame({"criterion": [r.name for r in cfg.rules]}).with_row_index("_k")
    return (
        pl.concat(parts, how="vertical")
        .join(order, on="criterion", how="left")
        .sort("subject_id", "_k", maintain_order=True)
        .drop("_k")
    )


def eligibility_summary(results: pl.DataFrame) -> pl.DataFrame:
    """Per subject from :func:`assess_eligibility`: ``subject_id, status, eligible, n_met,
    n_not_met, n_not_assessable, not_met, not_assessable, reason``.

    ``not_met`` / ``not_assessable``: criterion names joined by "; "; ``reason``: "criterion:
    reason" for every criterion not met or not assessable (null when eligible); ``eligible``:
    True / False / null (not assessable), for ADSL.ELIGFL.

    ``status``: ``not eligible`` if any criterion is not met, else ``not assessable`` if any is
    not assessable, else ``eligible`` (missing data is never eligible).
    """
    r = pl.col("result")
    reasons = (
        results.filter(r != MET)
        .group_by("subject_id", maintain_order=True)
        .agg(pl.format("{}: {}", pl.col("criterion"), pl.col("reason")).str.join("; ")
             .alias("reason"))
    )
    return (
        results.group_by("subject_id", maintain_order=True)
        .agg(
            (r == MET).sum().alias("n_met"),
            (r == NOT_MET).sum().alias("n_not_met"),
            (r == NOT_ASSESSABLE).sum().alias("n_not_assessable"),
            pl.col("criterion").filter(r == NOT_MET).str.join("; ").alias("not_met"),
            pl.col("criterion").filter(r == NOT_ASSESSABLE).str.join("; ")
            .alias("not_assessable"),
        )
        .with_columns(
            pl.when(pl.col("n_not_met") > 0).then(pl.lit(NOT_ELIGIBLE))
            .when(pl.col("n_not_assessable") > 0).then(pl.lit(NOT_ASSESSABLE))
            .otherwise(pl.lit(ELIGIBLE)).alias("status"),
            pl.when(pl.col("n_not_met") > 0).then(False)
            .when(pl.col("n_not_assessable") > 0).then(None)
            .otherwise(True).alias("eligible"),
        )
        .join(reasons, on="subject_id", how="left")
        .select("subject_id", "status", "eligible", "n_met", "n_not_met", "n_not_assessable",
                "not_met", "not_assessable", "reason")
        .sort("subject_id")
    )
