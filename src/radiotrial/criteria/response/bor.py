"""Best overall response (BOR), unconfirmed and confirmed, vectorised over all subjects.

Rules (spec §2 'Best overall response', Table 3; admiralonco events, spec §4a):
- only assessments up to and including the first PD count (the caller removes baseline and those
  after a new anti-cancer therapy);
- SD, NON-CR/NON-PD and MR count only at >= ``sd_min_days`` after treatment start; an unconfirmed
  CR/PR at that time counts as SD (MR when ``minor_response``), earlier it counts as NE;
- a CR is confirmed by the first CR >= ``confirm_days`` later when everything in between is CR or
  NE with at most ``max_ne_between`` NE; a PR by the first CR/PR >= ``confirm_days`` later with
  only CR/PR/NE in between, at most ``max_ne_between`` NE, and no PR after a CR;
- ranking CR > PR > MR > SD > NON-CR/NON-PD > PD > NE; the earliest date of the best class;
- a PR after a CR is a data issue, reported, never recoded (admiralonco signal_crpr, spec §4a).
"""

from __future__ import annotations

import polars as pl

from radiotrial.criteria.response.options import ResponseConfig
from radiotrial.criteria.response.timepoint import CR, MR, NE, NON_CR_NON_PD, PD, PR, RANK, SD

_KEY_STRIDE = 10_000_000  # days; > any study span, so (subject, day) maps to one sorted integer


def _rank(code: pl.Expr) -> pl.Expr:
    return code.replace_strict(RANK, return_dtype=pl.Int8)


def _confirmed(
    df: pl.DataFrame, first: str, confirmers: list[str], config: ResponseConfig,
    no_pr_after_cr: bool,
) -> pl.Series:
    """For each row: is it a ``first`` response confirmed per the rules above."""
    resp = pl.col("overall_response")
    left = df.filter(resp == first).select(
        "i", "s", "key", target=pl.col("key") + config.confirm_days,
        next_cr=pl.col("next_cr"), cne_i=pl.col("cum_ne"), cbad_i=pl.col(f"cum_bad_{first}"),
    )
    right = df.filter(resp.is_in(confirmers)).select(
        rkey=pl.col("key"), j=pl.col("i"), s_j=pl.col("s"),
        cne_j=pl.col("cum_ne"), cbad_j=pl.col(f"cum_bad_{first}"), last_pr_j=pl.col("last_pr"),
    )
    m = left.sort("target").join_asof(
        right, left_on="target", right_on="rkey", strategy="forward", check_sortedness=False
    )
    ok = (
        (pl.col("s_j") == pl.col("s"))
        & (pl.col("cbad_j") == pl.col("cbad_i"))
        & ((pl.col("cne_j") - pl.col("cne_i")) <= config.max_ne_between)
    )
    if no_pr_after_cr:
        cr_inside = pl.col("next_cr").is_not_null() & (pl.col("next_cr") <= pl.col("j"))
        ok = ok & (~cr_inside | (pl.col("last_pr_j") < pl.col("next_cr")))
    m = m.select("i", ok=ok.fill_null(False))
    return df.select("i").join(m, on="i", how="left")["ok"].fill_null(False)


def best_overall_response(timepoints: pl.DataFrame, config: ResponseConfig) -> pl.DataFrame:
    """Best overall response per subject from post-baseline time-point responses.

    ``timepoints``: subject_id, assessment_date, days_from_start (assessment date minus treatment
    start, in days), overall_response (codes of :data:`~.timepoint.RESPONSES`; null rows are
    ignored). Returns one row per subject present: subject_id, bor, bor_date, bor_confirmed,
    bor_confirmed_date, first_response_date, first_confirmed_response_date, progression_date,
    last_assessment_date, n_adequate (non-NE assessments), crpr_issue (text or null).
    """
    c = config
    resp = pl.col("overall_response")
    df = (
        timepoints.select("subject_id", "assessment_date", "days_from_start", "overall_response")
        .filter(resp.is_not_null())
        .sort("subject_id", "assessment_date")
    )
    # Up to and including the first PD (admiralonco ANL02FL; spec §4a).
    df = df.filter((resp == PD).cum_sum().shift(1, fill_value=0).over("subject_id") == 0)
    s = (pl.col("subject_id") != pl.col("subject_id").shift(1)).fill_null(True).cum_sum()
    df = df.with_columns(i=pl.int_range(pl.len(), dtype=pl.Int64), s=s.cast(pl.Int64))
    idx = pl.col("i")
    df = df.with_columns(
        key=pl.col("s") * _KEY_STRIDE + pl.col("days_from_start").cast(pl.Int64),
        cum_ne=(resp == NE).cum_sum(),
        cum_bad_CR=(~resp.is_in([CR, NE])).cum_sum(),
        cum_bad_PR=(~resp.is_in([CR, PR, NE])).cum_sum(),
        last_pr=pl.when(resp == PR).then(idx).forward_fill(),
        next_cr=pl.when(resp == CR).then(idx).backward_fill().shift(-1),
        cr_before=(resp == CR).cum_sum().shift(1, fill_value=0).over("subject_id"),
    )
    cr_ok = _confirmed(df, CR, [CR], c, no_pr_after_cr=False)
    pr_ok = _confirmed(df, PR, [CR, PR], c, no_pr_after_cr=True)
    late = pl.col("days_from_start") >= c.sd_min_days
    stable = MR if (c.criteria == "WHO" and c.minor_response) else SD
    tail = (
        pl.when(late & resp.is_in([CR, PR, MR]))
        .then(pl.lit(stable))
        .when(late & resp.is_in([SD, NON_CR_NON_PD]))
        .then(resp)
        .when(resp == PD)
        .then(pl.lit(PD))
        .otherwise(pl.lit(NE))
    )
    df = df.with_columns(cr_ok=cr_ok, pr_ok=pr_ok).with_columns(
        u_class=pl.when(resp.is_in([CR, PR])).then(resp).otherwise(tail),
        c_class=pl.when(pl.col("cr_ok")).then(pl.lit(CR)).when(pl.col("pr_ok")).then(pl.lit(PR))
        .otherwise(tail),
    ).with_columns(u_rank=_rank(pl.col("u_class")), c_rank=_rank(pl.col("c_class")))
    date = pl.col("assessment_date")
    issue_rows = (resp == PR) & (pl.col("cr_before") > 0)
    out = df.group_by("subject_id").agg(
        u_rank=pl.col("u_rank").min(),
        c_rank=pl.col("c_rank").min(),
        bor_date=date.filter(pl.col("u_rank") == pl.col("u_rank").min()).min(),
        bor_confirmed_date=date.filter(pl.col("c_rank") == pl.col("c_rank").min()).min(),
        first_response_date=date.filter(resp.is_in([CR, PR])).min(),
        first_confirmed_response_date=date.filter(pl.col("c_class").is_in([CR, PR])).min(),
        progression_date=date.filter(resp == PD).min(),
        last_assessment_date=date.max(),
        n_adequate=(resp != NE).sum(),
        first_cr_date=date.filter(resp == CR).min(),
        crpr_date=date.filter(issue_rows).min(),
    )
    codes = {rank: code for code, rank in RANK.items()}
    return out.with_columns(
        bor=pl.col("u_rank").replace_strict(codes, return_dtype=pl.String),
        bor_confirmed=pl.col("c_rank").replace_strict(codes, return_dtype=pl.String),
        crpr_issue=pl.when(pl.col("crpr_date").is_not_null()).then(
            pl.format("CR on {} followed by PR on {} (data issue, not recoded)",
                      pl.col("first_cr_date"), pl.col("crpr_date"))
        ),
    ).select(
        "subject_id", "bor", "bor_date", "bor_confirmed", "bor_confirmed_date",
        "first_response_date", "first_confirmed_response_date", "progression_date",
        "last_assessment_date", "n_adequate", "crpr_issue",
    )
