"""Log-rank test for k groups, optionally stratified: R's ``survdiff`` with rho = 0.

Observed and expected events per group, their variance–covariance matrix (hypergeometric,
summed over distinct event times and over strata), chi-square on the groups with expected > 0
leaving out the first (``solve`` on the reduced matrix), df = (groups with expected > 0) - 1,
p = upper tail of chi-square (survival 3.5-3 ``survdiff.R``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import chi2

from radiotrial.errors import RadiotrialError
from radiotrial.stats._input import as_event, as_group, as_time


@dataclass(frozen=True)
class LogRankResult:
    """Result of :func:`logrank`; arrays are in group order (``groups``)."""

    groups: list[str]
    n: np.ndarray
    observed: np.ndarray
    expected: np.ndarray
    variance: np.ndarray
    chisq: float
    df: int
    p: float


def _one_stratum(t: np.ndarray, e: np.ndarray, codes: np.ndarray, k: int):
    """O, E and V for one stratum, vectorised over distinct times × groups."""
    times, inv = np.unique(t, return_inverse=True)
    m = times.size
    cell = inv * k + codes
    total = np.bincount(cell, minlength=m * k).reshape(m, k).astype(np.float64)
    dead = np.bincount(cell[e], minlength=m * k).reshape(m, k).astype(np.float64)
    # at risk at each time: subjects with time >= it (reverse cumulative sum)
    at_risk = np.cumsum(total[::-1], axis=0)[::-1]
    n_t = at_risk.sum(axis=1)
    d_t = dead.sum(axis=1)
    has = d_t > 0
    at_risk, n_t, d_t, dead = at_risk[has], n_t[has], d_t[has], dead[has]
    frac = at_risk / n_t[:, None]
    observed = dead.sum(axis=0)
    expected = (d_t[:, None] * frac).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(n_t > 1, d_t * (n_t - d_t) / (n_t - 1), 0.0)
    var = np.diag((w[:, None] * frac).sum(axis=0)) - (w[:, None, None] * frac[:, :, None]
                                                       * frac[:, None, :]).sum(axis=0)
    return observed, expected, var


def logrank_codes(
    t: np.ndarray, e: np.ndarray, codes: np.ndarray, labels: list[str],
    strata: np.ndarray | None = None,
) -> LogRankResult:
    """Log-rank test on validated arrays (see :func:`logrank`)."""
    k = len(labels)
    if k < 2:
        raise RadiotrialError(f"group: the log-rank test needs at least 2 groups, got {k}")
    o = np.zeros(k)
    ex = np.zeros(k)
    v = np.zeros((k, k))
    if strata is None:
        o, ex, v = _one_stratum(t, e, codes, k)
    else:
        order = np.argsort(strata, kind="stable")
        bounds = np.concatenate(([0], np.cumsum(np.bincount(strata))))
        ts, es, cs = t[order], e[order], codes[order]
        for a, b in itertools.pairwise(bounds):  # one iteration per stratum level
            if b > a:
                oo, ee, vv = _one_stratum(ts[a:b], es[a:b], cs[a:b], k)
                o, ex, v = o + oo, ex + ee, v + vv
    keep = ex > 0
    df = int(keep.sum()) - 1
    if df < 1:
        chisq = 0.0
    else:
        diff = (o - ex)[keep][1:]
        vv = v[np.ix_(keep, keep)][1:, 1:]
        try:
            chisq = float(diff @ np.linalg.solve(vv, diff))
        except np.linalg.LinAlgError:
            chisq = float(diff @ np.linalg.pinv(vv) @ diff)
    p = float(chi2.sf(chisq, df)) if df >= 1 else float("nan")
    return LogRankResult(
        groups=list(labels), n=np.bincount(codes, minlength=k), observed=o, expected=ex,
        variance=v, chisq=chisq, df=max(df, 0), p=p,
    )


def logrank(time: Any, event: Any, group: Any, *, strata: Any = None) -> LogRankResult:
    """Log-rank (Mantel–Haenszel) test of equal survival across ``group`` levels.

    ``strata``: optional labels; the test then sums O, E and V within strata (R's
    ``survdiff(Surv(time, event) ~ group + strata(s))``).
    """
    t = as_time(time, "time")
    e = as_event(event, t.shape[0], "event")
    codes, labels = as_group(group, t.shape[0], "group")
    s = None if strata is None else as_group(strata, t.shape[0], "strata")[0]
    return logrank_codes(t, e, codes, labels, s)
