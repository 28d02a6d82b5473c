"""``derive_response``: study frames in, time-point and subject-level tumour response out.

Conventions (spec §1, §2, §4a; ARCHITECTURE 'Time'):
- treatment start = UTC date of the subject's earliest ``admin_instant``;
- baseline = the last assessment on or before treatment start (``baseline_rule``);
- study day per CDISC (day 1 = treatment start, no day 0);
- assessments after a new anti-cancer therapy (``follow_up.new_therapy_date``; an assessment on
  that date still counts) and after the first PD are ignored for best response (spec §5 items 7-8);
- a subject is response-evaluable with measurable disease at baseline and at least one adequate
  (non-NE) post-baseline assessment;
- disease seen again after an overall CR is PD (``after_cr='pd'``; RECIST 1.1 Table 3 footnote a);
- a response without progression is censored at the last adequate (non-NE) assessment (FDA 2018
  guidance "Clinical Trial Endpoints for the Approval of Cancer Drugs and Biologics";
  admiralonco; spec §5 item 7);
- one measurement per (subject, lesion, date) and one tumour assessment per (subject, date), the
  store's record keys: duplicates raise :class:`~radiotrial.errors.InputError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from radiotrial.treatment import first_administration

from radiotrial.criteria.response.bor import best_overall_response
from radiotrial.criteria.response.measures import (
    new_lesions_from_measurements,
    non_target_from_lesions,
    target_issues,
    target_sums,
)
from radiotrial.criteria.response.options import ResponseConfig
from radiotrial.criteria.response.timepoint import (
    CR,
    NE,
    NON_CR_NON_PD,
    PD,
    overall_response_expr,
    pct_change,
    target_response_expr,
)
from radiotrial.errors import InputError, Problem, RadiotrialError

_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "lesion": {"subject_id": pl.String, "lesion_id": pl.String, "organ": pl.String,
               "role": pl.String, "nodal": pl.Boolean},
    "measurement": {"subject_id": pl.String, "lesion_id": pl.String, "assessment_date": pl.Date,
                    "longest_diameter": pl.Float64, "perpendicular_diameter": pl.Float64,
                    "short_axis": pl.Float64, "state": pl.String},
    "tumour_assessment": {"subject_id": pl.String, "assessment_date": pl.Date,
                          "non_target_status": pl.String, "new_lesions": pl.Boolean},
    "administration": {"subject_id": pl.String, "admin_instant": pl.Datetime("us", "UTC")},
    "follow_up": {"subject_id": pl.String, "new_therapy_date": pl.Date},
    "subject": {"subject_id": pl.String},
}

TIMEPOINT_COLUMNS = (
    "subject_id", "assessment_date", "study_day", "sum", "pct_change_baseline",
    "pct_change_nadir", "target_response", "non_target_response", "new_lesions",
    "overall_response", "is_baseline", "in_bor_window",
)
SUBJECT_COLUMNS = (
    "subject_id", "evaluable", "not_evaluable_reason", "bor", "bor_confirmed", "baseline_sum",
    "nadir_sum", "best_pct_change", "first_response_date", "duration_of_response_days",
    "response_censored", "progression_date", "data_issue",
)


@dataclass(frozen=True)
class ResponseResult:
    """Time-point rows (one per subject x assessment date) and one row per subject.

    ``sum`` is the SPD (mm2) under WHO and the sum of diameters (mm) under RECIST.
    ``first_response_date`` and ``duration_of_response_days`` follow ``config.confirm``
    (confirmed response when True); ``duration_of_response_days`` runs to progression, or to the
    last adequate (non-NE) assessment in the best-response window when ``response_censored``
    (FDA 2018 endpoints guidance; admiralonco).
    """

    timepoints: pl.DataFrame
    subjects: pl.DataFrame
    config: ResponseConfig


def _frame(frames: Mapping[str, pl.DataFrame], name: str) -> pl.DataFrame:
    schema = _SCHEMAS[name]
    df = frames.get(name)
    if df is None or df.height == 0:
        return pl.DataFrame(schema=schema)
    missing = [col for col in schema if col not in df.columns and col != "nodal"]
    if missing:
        raise RadiotrialError(
            f"record type '{name}' lacks column(s) {', '.join(missing)} needed for tumour response"
        )
    if name == "lesion" and "nodal" not in df.columns:
        df = df.with_columns(nodal=pl.lit(False))
    return df.select(list(schema)).with_columns(pl.col(c).cast(t) for c, t in schema.items())


#: At most this many duplicated keys are listed in the error (the count is always given).
MAX_LISTED_DUPLICATES = 50


def reject_duplicates(df: pl.DataFrame, keys: list[str], file: str, reason: str) -> None:
    """Raise :class:`InputError` naming every duplicated ``keys`` combination of ``df``.

    The response rules assume one row per key (the store's record key; duplicates would double
    sums). One hash pass over the key columns; nothing else is done when there is no duplicate.
    """
    dup = df.select(keys).is_duplicated()
    if not dup.any():
        return
    found = df.select(keys).filter(dup).unique().sort(keys)
    problems = [
        Problem(file=file, row=None, field=", ".join(keys),
                value=", ".join(str(v) for v in row), reason=reason)
        for row in found.head(MAX_LISTED_DUPLICATES).iter_rows()
    ]
    listed = "" if found.height <= MAX_LISTED_DUPLICATES else (
        f"; the first {MAX_LISTED_DUPLICATES} are listed")
    raise InputError(problems, summary=f"{found.height} duplicated key(s) in '{file}' "
                     f"({', '.join(keys)}){listed}")


def treatment_start(administration: pl.DataFrame) -> pl.DataFrame:
    """subject_id, start_date: UTC date of the earliest administration (ARCHITECTURE; spec §2)."""
    return first_administration(administration).select("subject_id", "start_date")


def study_day_expr(date: pl.Expr, start: pl.Expr) -> pl.Expr:
    """CDISC study day: day 1 = treatment start, no day 0."""
    delta = (date - start).dt.total_days()
    return pl.when(delta >= 0).then(delta + 1).otherwise(delta)


def derive_response(frames: Mapping[str, pl.DataFrame], config: ResponseConfig) -> ResponseResult:
    """Time-point response and best overall response for every subject (WHO or RECIST)."""
    c = config
    lesion = _frame(frames, "lesion")
    meas = _frame(frames, "measurement")
    reject_duplicates(meas, ["subject_id", "lesion_id", "assessment_date"], "measurement",
                      "duplicate measurement")
    ta = _frame(frames, "tumour_assessment")
    reject_duplicates(ta, ["subject_id", "assessment_date"], "tumour_assessment",
                      "duplicate tumour assessment")
    meas = meas.join(
        lesion.select("subject_id", "lesion_id", "nodal"), on=["subject_id", "lesion_id"],
        how="left",
    ).with_columns(pl.col("nodal").fill_null(False))
    start = treatment_start(_frame(frames, "administration"))
    nact = _frame(frames, "follow_up").group_by("subject_id").agg(pl.col("new_therapy_date").min())

    ids = [f.select("subject_id") for f in (
        _frame(frames, "subject"), lesion, meas, ta, start)]
    subjects = pl.concat(ids).unique().sort("subject_id")

    dates = (
        pl.concat([meas.select("subject_id", "assessment_date"),
                   ta.select("subject_id", "assessment_date")])
        .unique()
        .join(start, on="subject_id", how="left")
    )
    if c.baseline_rule == "last_on_or_before_start":
        base_date = pl.col("assessment_date").filter(
            pl.col("assessment_date") <= pl.col("start_date")).max()
    else:
        base_date = pl.col("assessment_date").min()
    baseline = dates.group_by("subject_id").agg(baseline_date=base_date)
    dates = dates.join(baseline, on="subject_id", how="left").sort("subject_id", "assessment_date")

    targets = lesion.filter(pl.col("role") == "target")
    has_base = dates.filter(pl.col("baseline_date").is_not_null())
    sums = target_sums(targets, meas, has_base, c)
    nt_lesions = lesion.filter(pl.col("role") == "non-target")
    nt_derived = non_target_from_lesions(nt_lesions, meas, dates, c)
    new_meas = new_lesions_from_measurements(lesion.filter(pl.col("role") == "new"), meas)
    has_nt = pl.concat([
        nt_lesions.select("subject_id"),
        ta.filter(pl.col("non_target_status").is_not_null()).select("subject_id"),
    ]).unique().with_columns(has_nt=pl.lit(True))

    tp = (
        dates.join(sums, on=["subject_id", "assessment_date"], how="left")
        .join(ta, on=["subject_id", "assessment_date"], how="left")
        .join(nt_derived, on=["subject_id", "assessment_date"], how="left")
        .join(new_meas, on=["subject_id", "assessment_date"], how="left")
        .join(has_nt, on="subject_id", how="left")
        .join(nact, on="subject_id", how="left")
        .sort("subject_id", "assessment_date")
    )
    date = pl.col("assessment_date")
    post = (date > pl.col("baseline_date")).fill_null(False)
    tp = tp.with_columns(
        is_baseline=(date == pl.col("baseline_date")).fill_null(False),
        study_day=study_day_expr(date, pl.col("start_date")),
        days_from_start=(date - pl.col("start_date")).dt.total_days(),
        pct_change_baseline=pct_change(pl.col("sum"), pl.col("baseline_sum")),
        pct_change_nadir=pct_change(pl.col("sum"), pl.col("nadir_prior")),
        target_response=pl.when(post).then(target_response_expr(c)),
        non_target_response=pl.when(post & pl.col("has_nt").fill_null(False)).then(
            pl.coalesce("non_target_status", "nt_derived", pl.lit(NE))),
        new_lesions=pl.when(post).then(
            pl.col("new_lesions").fill_null(False) | pl.col("new_measured").fill_null(False)),
    ).with_columns(overall_response=overall_response_expr())
    if c.after_cr == "pd":
        tp = _disease_after_cr_is_pd(tp)
    in_window = post & pl.col("start_date").is_not_null() & (
        pl.col("new_therapy_date").is_null() | (date <= pl.col("new_therapy_date")))
    tp = tp.with_columns(
        in_bor_window=in_window
        & ((pl.col("overall_response") == PD) & in_window).cum_sum().shift(1, fill_value=0)
        .over("subject_id").eq(0)
    )
    bor = best_overall_response(tp.filter(pl.col("in_bor_window")), c)
    subj = _subject_table(subjects, start, baseline, tp, bor, targets, meas, c)
    return ResponseResult(tp.select(TIMEPOINT_COLUMNS), subj, c)


def _disease_after_cr_is_pd(tp: pl.DataFrame) -> pl.DataFrame:
    """Disease seen after an overall CR is PD (RECIST 1.1 Table 3 footnote a; WHO CR).

    ``tp`` sorted by subject and date. At a time point after an earlier overall CR, a target
    lesion present again (``any_present``: measured and not gone, i.e. non-nodal > 0 or too
    small, RECIST 1.1 node >= ``normal_node_mm``) makes the target response PD, and a non-target
    status NON-CR/NON-PD makes the non-target response PD; the overall response is recomputed
    (Table 1), so it is PD dated at that time point. NE components are not disease seen.
    """
    cr = (pl.col("overall_response") == CR).fill_null(False)
    after_cr = cr.cum_sum().shift(1, fill_value=0).over("subject_id") > 0
    target, nt = pl.col("target_response"), pl.col("non_target_response")
    target_back = after_cr & pl.col("any_present").fill_null(False) & target.is_not_null()
    nt_back = after_cr & (nt == NON_CR_NON_PD).fill_null(False)
    return tp.with_columns(
        target_response=pl.when(target_back).then(pl.lit(PD)).otherwise(target),
        non_target_response=pl.when(nt_back).then(pl.lit(PD)).otherwise(nt),
    ).with_columns(overall_response=overall_response_expr())


def _subject_table(
    subjects: pl.DataFrame, start: pl.DataFrame, baseline: pl.DataFrame, tp: pl.DataFrame,
    bor: pl.DataFrame, targets: pl.DataFrame, meas: pl.DataFrame, c: ResponseConfig,
) -> pl.DataFrame:
    win = pl.col("in_bor_window") | pl.col("is_baseline")
    sums = tp.group_by("subject_id").agg(
        baseline_sum=pl.col("baseline_sum").first(),
        nadir_sum=pl.col("sum").filter(win).min(),
        best_pct_change=pl.col("pct_change_baseline").filter(pl.col("in_bor_window")).min(),
    )
    issues = target_issues(targets, meas, baseline.drop_nulls("baseline_date"), c)
    issues = pl.concat([
        issues,
        bor.select("subject_id", issue=pl.col("crpr_issue")).drop_nulls("issue"),
    ]).group_by("subject_id").agg(data_issue=pl.col("issue").str.join("; "))
    df = (
        subjects.join(start, on="subject_id", how="left")
        .join(baseline, on="subject_id", how="left")
        .join(sums, on="subject_id", how="left")
        .join(bor, on="subject_id", how="left")
        .join(issues, on="subject_id", how="left")
    )
    reason = (
        pl.when(pl.col("start_date").is_null()).then(pl.lit("no administration (no treatment start)"))
        .when(pl.col("baseline_date").is_null())
        .then(pl.lit("no tumour assessment on or before treatment start"))
        .when(pl.col("baseline_sum").is_null()).then(pl.lit("no measurable disease at baseline"))
        .when(pl.col("n_adequate").fill_null(0) == 0)
        .then(pl.lit("no adequate post-baseline assessment"))
    )
    first = "first_confirmed_response_date" if c.confirm else "first_response_date"
    origin = pl.col(first) if c.effective_dor_origin() == "first_response" else pl.col("start_date")
    end = pl.coalesce("progression_date", "last_adequate_date")
    return df.with_columns(
        not_evaluable_reason=reason,
        bor=pl.col("bor").fill_null(NE),
        bor_confirmed=pl.col("bor_confirmed").fill_null(NE),
        first_response_date=pl.col(first),
        duration_of_response_days=pl.when(pl.col(first).is_not_null())
        .then((end - origin).dt.total_days()),
        response_censored=pl.when(pl.col(first).is_not_null())
        .then(pl.col("progression_date").is_null()),
    ).with_columns(evaluable=pl.col("not_evaluable_reason").is_null()).select(SUBJECT_COLUMNS)
