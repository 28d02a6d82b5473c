"""Time-point response: target response from sums, and the overall-response table.

Sources: WHO (Miller 1981) thresholds, spec §1; RECIST 1.1 target rules and Tables 1-2, spec §2;
RECIST 1.0 (no 5 mm rule), spec §2. All functions are Polars expressions or frame-in/frame-out,
vectorised over any number of subjects.
"""

from __future__ import annotations

import polars as pl

from radiotrial.criteria.response.options import ResponseConfig

CR, PR, MR, SD, NON_CR_NON_PD, PD, NE = "CR", "PR", "MR", "SD", "NON-CR/NON-PD", "PD", "NE"
#: Every time-point / best response code. WHO's "no change" (NC) is reported as SD.
RESPONSES = (CR, PR, MR, SD, NON_CR_NON_PD, PD, NE)
#: Ranking for best response, best first (admiralonco aval_resp order, with MR between PR and SD;
#: spec §4a).
RANK = {code: i for i, code in enumerate(RESPONSES)}

#: Decimal places of percentage and mm comparisons: thresholds are inclusive and floating-point
#: noise (e.g. 25.2 / 21 = 1.2000000000000002) must not flip them (spec §6: round before
#: comparing; admiral uses signif(., 15)).
ROUND_DP = 9


def pct_change(value: pl.Expr, reference: pl.Expr) -> pl.Expr:
    """Percentage change of ``value`` from ``reference`` (null when the reference is 0 or null)."""
    return (
        pl.when(reference > 0).then((value - reference) / reference * 100.0).otherwise(None)
    ).round(ROUND_DP)


def increase_reaches(value: pl.Expr, reference: pl.Expr, pct: float, min_abs: float) -> pl.Expr:
    """True when ``value`` rose by >= ``pct`` % over ``reference`` and by >= ``min_abs`` (and > 0).

    A reference of 0 (all lesions gone) with any reappearance counts as a sufficient relative
    increase; the absolute rule (RECIST 1.1: 5 mm) still applies (spec §2, §4a "return from a CR
    nadir").
    """
    diff = (value - reference).round(ROUND_DP)
    rel = pl.when(reference > 0).then(pct_change(value, reference) >= pct).otherwise(diff > 0)
    return (diff > 0) & (diff >= min_abs) & rel


def target_response_expr(
    config: ResponseConfig,
    *,
    total: str = "sum",
    measured_sum: str = "measured_sum",
    complete: str = "complete",
    all_gone: str = "all_gone",
    baseline: str = "baseline_sum",
    nadir: str = "nadir_prior",
    any_lesion_pd: str = "any_lesion_pd",
) -> pl.Expr:
    """Target response (CR, PR, [MR,] SD, PD, NE) from per-time-point sums.

    Columns: ``total`` (sum when complete), ``measured_sum`` (sum of the lesions measured),
    ``complete`` (every target measured), ``all_gone`` (every target gone: 0 mm, or node short
    axis < 10 mm under RECIST 1.1), ``baseline``, ``nadir`` (smallest complete sum before this
    time point, baseline included), ``any_lesion_pd`` (WHO per-lesion rule; ignored otherwise).

    Rules: WHO PR >= 50 % decrease from baseline, PD >= 25 % increase over the reference
    (``pd_reference``, ``pd_scope``), spec §1. RECIST 1.1 PR <= -30 % from baseline, PD >= +20 %
    over the nadir and >= 5 mm (RECIST 1.0: no 5 mm rule), spec §2. Missing lesions give NE unless
    the measured ones already prove PD (spec §2, 'Missing measurements'). Null when the subject has
    no target disease.
    """
    c = config
    base = pl.col(baseline)
    measured = pl.col(measured_sum)
    if c.criteria == "WHO":
        ref = pl.col(nadir) if c.pd_reference == "nadir" else base
        sum_pd = increase_reaches(measured, ref, c.pd_threshold_pct, 0.0)
        lesion_pd = pl.col(any_lesion_pd).fill_null(False)
        pd = {"sum": sum_pd, "any_lesion": lesion_pd, "either": sum_pd | lesion_pd}[c.pd_scope]
        pr_pct, min_abs = c.pr_threshold_pct, 0.0
    else:
        min_abs = 5.0 if c.criteria == "RECIST1.1" else 0.0
        pd = increase_reaches(measured, pl.col(nadir), 20.0, min_abs)
        pr_pct = 30.0
    pct_bl = pct_change(pl.col(total), base)
    out = (
        pl.when(base.is_null())
        .then(None)
        .when(pd)
        .then(pl.lit(PD))
        .when(~pl.col(complete))
        .then(pl.lit(NE))
        .when(pl.col(all_gone))
        .then(pl.lit(CR))
        .when(pct_bl <= -pr_pct)
        .then(pl.lit(PR))
    )
    if c.criteria == "WHO" and c.minor_response:
        out = out.when(pct_bl <= -c.minor_threshold_pct).then(pl.lit(MR))
    return out.otherwise(pl.lit(SD))


def overall_response_expr(
    target: pl.Expr | str = "target_response",
    non_target: pl.Expr | str = "non_target_response",
    new_lesions: pl.Expr | str = "new_lesions",
) -> pl.Expr:
    """Overall time-point response from target, non-target and new-lesion status.

    RECIST 1.1 Table 1 (target disease) and Table 2 (non-target only), spec §2; used for WHO too
    (Miller 1981: new lesions or progression of any lesion = PD; CR needs all disease gone).
    ``target`` null = no target disease; ``non_target`` null = no non-target disease; codes as in
    :data:`RESPONSES`. ``new_lesions`` null counts as no new lesion.
    """
    t = pl.col(target) if isinstance(target, str) else target
    nt = pl.col(non_target) if isinstance(non_target, str) else non_target
    new = (pl.col(new_lesions) if isinstance(new_lesions, str) else new_lesions).fill_null(False)
    return (
        pl.when(new | (t == PD) | (nt == PD))
        .then(pl.lit(PD))
        .when(t.is_null() & nt.is_null())
        .then(None)
        # Table 2: non-target disease only.
        .when(t.is_null())
        .then(nt)
        # Table 1.
        .when(t == NE)
        .then(pl.lit(NE))
        .when((t == CR) & (nt.is_null() | (nt == CR)))
        .then(pl.lit(CR))
        .when(t == CR)
        .then(pl.lit(PR))
        .otherwise(t)
    )
