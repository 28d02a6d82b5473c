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
- a PR after a CR is a data issue, reported, never recoded here (admiralonco signal_crpr, spec
  §4a); under ``after_cr='pd'`` :func:`~.derive.derive_response` has already made disease seen
  after a CR a PD time point, so only e.g. target CR with non-target not evaluated remains.
"""

from __future__ import annotations

import polars as pl

from radiotrial.criteria.response.options import ResponseConfig
from radiotrial.criteria.response.segments import starts
from radiotrial.criteria.response.timepoint import CR, MR, NE, NON_CR_NON_PD, PD, PR, RANK, SD

_KEY_STRIDE = 10_000_000  # days; > any study span, so (subject, day) maps to one sorted integer
_DAY_SPAN = 1 << 32  # (rank, date) packed in one Int64: rank * 2**32 + days since 1970 + 2**31
_DAY_OFFSET = 1 << 31
#: Responses are handled as their integer rank (best first). Any other text gets _OTHER and is
#: treated as such text always was: not NE, not PD, no response, counted as adequate.
_OTHER = len(RANK)
_R_CR, _R_PR, _R_MR, _R_SD, _R_NON, _R_PD, _R_NE = (
    RANK[x] for x in (CR, PR, MR, SD, NON_CR_NON_PD, PD, NE)
)


def _within_subject_before(flag: pl.Expr) -> pl.Expr:
    """Count of ``flag`` rows earlier in the same subject (frame sorted; ``start`` column)."""
    f = flag.cast(pl.Int64)
    before = f.cum_sum() - f
    return before - pl.when(pl.col("start")).then(before).forward_fill()


def _confirmed(
    df: pl.DataFrame, first: int, confirmers: list[int], config: ResponseConfig,
    no_pr_after_cr: bool,
) -> pl.Series:
    """For each row: is it a ``first`` response confirmed per the rules above.

    A forward as-of join on the packed (subject, day) key finds, for each response, the first
    confirming response >= ``confirm_days`` later; running counts compare what lies in between.
    """
    r = pl.col("r")
    bad = f"cum_bad_{first}"
    left = df.filter(r == first).select(
        "i", "s", target=pl.col("key") + config.confirm_days,
        next_cr=pl.col("next_cr"), cne_i=pl.col("cum_ne"), cbad_i=pl.col(bad),
    )
    right = df.filter(r.is_in(confirmers)).select(
        rkey=pl.col("key"), j=pl.col("i"), s_j=pl.col("s"),
        cne_j=pl.col("cum_ne"), cbad_j=pl.col(bad), last_pr_j=pl.col("last_pr"),
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
    return pl.repeat(False, df.height, dtype=pl.Boolean, eager=True).scatter(m["i"], m["ok"])


def _sorted_by_subject_date(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` sorted by subject_id, assessment_date (skips the sort when already in order)."""
    subj, date = pl.col("subject_id"), pl.col("assessment_date")
    in_order = (subj > subj.shift(1)) | ((subj == subj.shift(1)) & (date >= date.shift(1)))
    if df.height > 1 and df.select(in_order.slice(1).all()).item():
        return df
    return df.sort("subject_id", "assessment_date")


def _pack(rank: pl.Expr, date: pl.Expr) -> pl.Expr:
    """(rank, date) as one Int64 whose minimum is the best rank at its earliest date.

    A null date sorts last within its rank and unpacks to null (as a filtered ``min`` gives).
    """
    day = (date.cast(pl.Int32).cast(pl.Int64) + _DAY_OFFSET).fill_null(_DAY_SPAN - 1)
    return rank.cast(pl.Int64) * _DAY_SPAN + day


def _unpack_date(packed: pl.Expr) -> pl.Expr:
    day = packed % _DAY_SPAN
    return pl.when(day < _DAY_SPAN - 1).then(day - _DAY_OFFSET).cast(pl.Int32).cast(pl.Date)


def best_overall_response(timepoints: pl.DataFrame, config: ResponseConfig) -> pl.DataFrame:
    """Best overall response per subject from post-baseline time-point responses.

    ``timepoints``: subject_id, assessment_date, days_from_start (assessment date minus treatment
    start, in days), overall_response (codes of :data:`~.timepoint.RESPONSES`; null rows are
    ignored). Returns one row per subject present: subject_id, bor, bor_date, bor_confirmed,
    bor_confirmed_date, first_response_date, first_confirmed_response_date, progression_date,
    last_assessment_date, last_adequate_date (last non-NE assessment: where a response without
    progression is censored, FDA 2018 endpoints guidance / admiralonco), n_adequate (non-NE
    assessments), crpr_issue (text or null).

    Sort-based: rows sorted by subject and date once; responses become integer ranks; per-subject
    counts are running sums minus their value at the subject's first row; confirmation is an
    as-of join; the per-subject result is one group-by on the sorted subject index.
    """
    c = config
    df = timepoints.filter(pl.col("overall_response").is_not_null()).select(
        "subject_id", "assessment_date", "days_from_start",
        r=pl.col("overall_response").replace_strict(RANK, default=_OTHER, return_dtype=pl.Int8),
    )
    df = _sorted_by_subject_date(df).with_columns(start=starts(pl.col("subject_id")))
    r = pl.col("r")
    # Up to and including the first PD (admiralonco ANL02FL; spec §4a).
    df = df.filter(_within_subject_before(r == _R_PD) == 0)
    idx = pl.col("i")
    df = df.with_columns(
        i=pl.int_range(pl.len(), dtype=pl.Int64), s=pl.col("start").cum_sum().cast(pl.Int64)
    ).with_columns(
        key=pl.col("s") * _KEY_STRIDE + pl.col("days_from_start").cast(pl.Int64),
        cum_ne=(r == _R_NE).cum_sum(),
        cum_bad_0=(~r.is_in([_R_CR, _R_NE])).cum_sum(),
        cum_bad_1=(~r.is_in([_R_CR, _R_PR, _R_NE])).cum_sum(),
        last_pr=pl.when(r == _R_PR).then(idx).forward_fill(),
        next_cr=pl.when(r == _R_CR).then(idx).backward_fill().shift(-1),
        crpr=(r == _R_PR) & (_within_subject_before(r == _R_CR) > 0),
    )
    cr_ok = _confirmed(df, _R_CR, [_R_CR], c, no_pr_after_cr=False)
    pr_ok = _confirmed(df, _R_PR, [_R_CR, _R_PR], c, no_pr_after_cr=True)
    late = pl.col("days_from_start") >= c.sd_min_days
    stable = _R_MR if (c.criteria == "WHO" and c.minor_response) else _R_SD
    tail = (
        pl.when(late & r.is_in([_R_CR, _R_PR, _R_MR]))
        .then(pl.lit(stable, pl.Int8))
        .when(late & r.is_in([_R_SD, _R_NON]))
        .then(r)
        .when(r == _R_PD)
        .then(pl.lit(_R_PD, pl.Int8))
        .otherwise(pl.lit(_R_NE, pl.Int8))
    )
    df = df.with_columns(
        u_rank=pl.when(r.is_in([_R_CR, _R_PR])).then(r).otherwise(tail),
        c_rank=pl.when(cr_ok).then(pl.lit(_R_CR, pl.Int8)).when(pr_ok)
        .then(pl.lit(_R_PR, pl.Int8)).otherwise(tail),
    )
    date = pl.col("assessment_date")
    out = df.group_by(pl.col("s").set_sorted()).agg(
        pl.col("subject_id").first(),
        u=_pack(pl.col("u_rank"), date).min(),
        c=_pack(pl.col("c_rank"), date).min(),
        first_response_date=pl.when(r.is_in([_R_CR, _R_PR])).then(date).min(),
        first_confirmed_response_date=pl.when(pl.col("c_rank") <= _R_PR).then(date).min(),
        progression_date=pl.when(r == _R_PD).then(date).min(),
        last_assessment_date=date.max(),
        last_adequate_date=date.filter(r != _R_NE).max(),
        n_adequate=(r != _R_NE).sum(),
        first_cr_date=pl.when(r == _R_CR).then(date).min(),
        crpr_date=pl.when(pl.col("crpr")).then(date).min(),
    )
    codes = {rank: code for code, rank in RANK.items()}
    return out.with_columns(
        bor=(pl.col("u") // _DAY_SPAN).replace_strict(codes, return_dtype=pl.String),
        bor_date=_unpack_date(pl.col("u")),
        bor_confirmed=(pl.col("c") // _DAY_SPAN).replace_strict(codes, return_dtype=pl.String),
        bor_confirmed_date=_unpack_date(pl.col("c")),
        crpr_issue=pl.when(pl.col("crpr_date").is_not_null()).then(
            pl.format("CR on {} followed by PR on {} (data issue, not recoded)",
                      pl.col("first_cr_date"), pl.col("crpr_date"))
        ),
    ).select(
        "subject_id", "bor", "bor_date", "bor_confirmed", "bor_confirmed_date",
        "first_response_date", "first_confirmed_response_date", "progression_date",
        "last_assessment_date", "last_adequate_date", "n_adequate", "crpr_issue",
    )
