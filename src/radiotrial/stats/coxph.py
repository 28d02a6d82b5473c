"""Cox proportional-hazards regression through statsmodels ``PHReg`` (Efron or Breslow ties).

statsmodels PHReg matches R's ``coxph`` to <= 3e-9 in the coefficients (see
``shared/reference/survival/README.md``). Wald p = 2·(1 - Φ(|z|)); likelihood-ratio statistic
2·(ℓ(β̂) - ℓ(0)) on p degrees of freedom; score (log-rank) statistic U(0)ᵀ I(0)⁻¹ U(0) with the
same tie handling; concordance as R's ``concordance(fit)`` (survival 3.5, ``concordancefit``
with ``timewt = "n"``, ``reverse = TRUE``): all as ``summary(coxph)`` prints them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy.stats import chi2, norm

from radiotrial.errors import RadiotrialError
from radiotrial.stats._input import as_event, as_group, as_time, to_numpy

TIES = ("efron", "breslow")

#: |coefficient| above which the fit is declared divergent (monotone likelihood, i.e. perfect
#: separation): a hazard ratio beyond e^15 ≈ 3·10^6 is no estimate. Heinze & Schemper,
#: Biometrics 2001;57:114–119 describe the phenomenon.
MAX_ABS_COEF = 15.0


@dataclass(frozen=True)
class CoxResult:
    """Fitted Cox model; arrays are in ``terms`` order."""

    terms: list[str]
    coef: np.ndarray
    se: np.ndarray
    hr: np.ndarray
    hr_lower: np.ndarray
    hr_upper: np.ndarray
    z: np.ndarray
    p: np.ndarray
    loglik: float
    loglik_null: float
    lr_stat: float
    lr_df: int
    lr_p: float
    n: int
    n_events: int
    ties: str
    conf_level: float
    #: Score (log-rank) test at β = 0: U(0)ᵀ I(0)⁻¹ U(0) on ``score_df`` degrees of freedom.
    score_stat: float = float("nan")
    score_df: int = 0
    score_p: float = float("nan")
    #: Harrell's C of the linear predictor, R's ``concordance(fit)$concordance``.
    concordance: float = float("nan")
    #: Its infinitesimal-jackknife standard error, R's ``sqrt(concordance(fit)$var)``.
    concordance_se: float = float("nan")

    @property
    def table(self) -> pl.DataFrame:
        """term, coef, se, hr, hr_lower, hr_upper, z, p."""
        return pl.DataFrame({
            "term": self.terms, "coef": self.coef, "se": self.se, "hr": self.hr,
            "hr_lower": self.hr_lower, "hr_upper": self.hr_upper, "z": self.z, "p": self.p,
        })


def _design(covariates: Any, group: Any, group_name: str, n: int) -> tuple[np.ndarray, list[str]]:
    cols: list[np.ndarray] = []
    names: list[str] = []
    if covariates is not None:
        if hasattr(covariates, "columns") and not isinstance(covariates, np.ndarray):
            for name in covariates.columns:
                cols.append(to_numpy(covariates[name], str(name)))
                names.append(str(name))
        elif isinstance(covariates, dict):
            for name, v in covariates.items():
                cols.append(to_numpy(v, str(name)))
                names.append(str(name))
        else:
            arr = np.asarray(covariates, dtype=np.float64)
            arr = arr[:, None] if arr.ndim == 1 else arr
            cols.extend(arr.T)
            names.extend(f"x{i + 1}" for i in range(arr.shape[1]))
    if group is not None:
        codes, labels = as_group(group, n, group_name)
        if len(labels) < 2:
            raise RadiotrialError(f"{group_name}: needs at least 2 levels, got {labels}")
        for k, label in enumerate(labels[1:], start=1):  # treatment coding, first level = ref
            cols.append((codes == k).astype(np.float64))
            names.append(f"{group_name}{label}")
    if not cols:
        raise RadiotrialError("cox: give covariates and/or group")
    x = np.empty((n, len(cols)))
    for j, (c, name) in enumerate(zip(cols, names, strict=False)):
        if c.shape[0] != n:
            raise RadiotrialError(f"{name}: length {c.shape[0]} differs from time ({n})")
        try:
            x[:, j] = c.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise RadiotrialError(
                f"{name}: covariate must be numeric (use group= for labels)"
            ) from exc
        if not np.all(np.isfinite(x[:, j])):
            raise RadiotrialError(f"{name}: covariate has missing or non-finite values")
    return x, names


def _count_below(rank: np.ndarray, p: np.ndarray, r: np.ndarray) -> np.ndarray:
    """``#{j < p[q] : rank[j] < r[q]}`` for every query ``q`` (offline 2-d dominance count).

    The prefix ``[0, p)`` splits into aligned dyadic blocks, one per set bit of ``p`` (the
    Fenwick-tree decomposition). Per block size the ranks are kept sorted within blocks (a
    bottom-up merge sort: the stable sort merges two sorted runs per block) and one
    ``searchsorted`` call answers all queries: O(n log n + Q log² n), no loop over rows.
    """
    n = rank.size
    out = np.zeros(p.size, dtype=np.int64)
    if n == 0 or p.size == 0:
        return out
    m = np.int64(max(int(rank.max()), int(r.max())) + 1)  # key = block·m + rank, rank < m
    pos = np.arange(n, dtype=np.int64)
    within = rank.astype(np.int64)  # ranks sorted inside each block of the current size
    k = 0
    while (1 << k) <= n:
        block = (pos >> k) * m
        keys = block + within
        if k:
            keys.sort(kind="stable")  # runs of length 2^(k-1): timsort merges them in O(n)
            within = keys - block
        sel = np.flatnonzero((p >> k) & 1)
        if sel.size:
            blk = (p[sel] >> k) - 1  # the (full) size-2^k block ending at p's bit k
            out[sel] += np.searchsorted(keys, blk * m + r[sel]) - (blk << k)
        k += 1
    return out


def concordance(
    time: np.ndarray, event: np.ndarray, risk: np.ndarray, strata: np.ndarray | None = None
) -> tuple[float, float]:
    """Harrell's C of ``risk`` (higher = earlier event) and its standard error, as R.

    Matches survival 3.5 ``concordance(coxfit)`` (``concordancefit``, ``timewt = "n"``,
    ``reverse = TRUE``; Therneau & Atkinson, *The concordance statistic*, survival vignette):
    a pair is comparable when the shorter time is an event and the other time is longer, or
    equal but censored (tied event times are not comparable); within strata only. C = (concordant
    + tied-risk/2) / (concordant + discordant + tied-risk), ties in ``risk`` by exact equality.
    The SE is R's infinitesimal jackknife: sqrt(Σᵢ dfbetaᵢ²), dfbetaᵢ = [(cᵢ - dᵢ) -
    (cᵢ + dᵢ + tᵢ)(C - D)/N] / (2N) with cᵢ, dᵢ, tᵢ the comparable pairs containing i.
    R's ``timefix`` merging of near-equal times is not applied. O(n log² n).
    """
    n = time.size
    s = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata, dtype=np.int64)
    # stratum, time ascending, events before censorings at a tied time
    order = np.lexsort((~event, time, s))
    ts, es, ss = time[order], event[order], s[order]
    rank = np.unique(risk, return_inverse=True)[1].astype(np.int64)[order]
    top = np.int64(rank.max() + 1) if n else np.int64(1)
    idx = np.arange(n)
    new_s = np.r_[True, ss[1:] != ss[:-1]]
    new_b = new_s | np.r_[True, (ts[1:] != ts[:-1]) | (es[1:] != es[:-1])]
    s_start = np.maximum.accumulate(np.where(new_s, idx, 0))
    b_start = np.maximum.accumulate(np.where(new_b, idx, 0))
    s_end = np.r_[np.flatnonzero(new_s)[1:], n][np.cumsum(new_s) - 1]
    b_end = np.r_[np.flatnonzero(new_b)[1:], n][np.cumsum(new_b) - 1]

    # each event i against everyone later in its stratum: positions [b_end, s_end)
    ev = np.flatnonzero(es)
    a, b, r = b_end[ev], s_end[ev], rank[ev]
    f = _count_below(rank, np.r_[a, b, a, b], np.r_[r, r, r + 1, r + 1]).reshape(4, -1)
    lower = f[1] - f[0]                   # later subject has lower risk: concordant
    low_eq = f[3] - f[2]
    n_ev = b - a
    c_tot, t_tot = float(lower.sum()), float((low_eq - lower).sum())
    d_tot = float((n_ev - low_eq).sum())
    npair = c_tot + d_tot + t_tot
    if npair == 0:
        return float("nan"), float("nan")
    c_index = (c_tot + t_tot / 2) / npair

    # each subject j against the earlier events of its stratum: positions [s_start, b_start)
    ev_rank = np.where(es, rank, top)     # non-events never counted (rank >= every query)
    p0, p1 = s_start, b_start
    g = _count_below(
        ev_rank, np.r_[p0, p1, p0, p1, p0, p1], np.r_[rank, rank, rank + 1, rank + 1,
                                                      np.full(2 * n, top)]
    ).reshape(6, -1)
    ev_lt, ev_le, ev_all = g[1] - g[0], g[3] - g[2], g[5] - g[4]
    ci = (ev_all - ev_le).astype(np.float64)  # earlier event had higher risk: concordant
    di = ev_lt.astype(np.float64)
    ti = (ev_le - ev_lt).astype(np.float64)
    ci[ev] += lower
    di[ev] += n_ev - low_eq
    ti[ev] += low_eq - lower
    somer = (c_tot - d_tot) / npair
    dfbeta = ((ci - di) - (ci + di + ti) * somer) / (2 * npair)
    return float(c_index), float(np.sqrt(np.sum(dfbeta**2)))


def cox(
    time: Any,
    event: Any,
    covariates: Any = None,
    *,
    group: Any = None,
    group_name: str = "group",
    strata: Any = None,
    ties: str = "efron",
    conf_level: float = 0.95,
) -> CoxResult:
    """Fit ``coxph(Surv(time, event) ~ covariates + factor(group) [+ strata(s)], ties=ties)``.

    ``covariates``: numeric columns (Polars/pandas frame, dict of arrays or 2-d array);
    ``group``: labels, dummy-coded against the first level in R's factor order (terms named
    ``<group_name><level>``, as R's ``group2``). ``ties``: ``efron`` (R's default) or ``breslow``.
    Raises :class:`RadiotrialError` when there are no events or the likelihood is monotone
    (perfect separation: some coefficient diverges).
    """
    from statsmodels.duration.hazard_regression import PHReg

    if ties not in TIES:
        raise RadiotrialError(f"ties: unknown value {ties!r}; use one of {', '.join(TIES)}")
    if not 0 < conf_level < 1:
        raise RadiotrialError(f"conf_level: must be between 0 and 1, got {conf_level!r}")
    t = as_time(time, "time")
    e = as_event(event, t.shape[0], "event")
    n = t.shape[0]
    if not e.any():
        raise RadiotrialError("event: no events, so a Cox model cannot be estimated")
    x, names = _design(covariates, group, group_name, n)
    const = [names[j] for j in range(x.shape[1]) if np.ptp(x[:, j]) == 0]
    if const:
        raise RadiotrialError(f"{const[0]}: covariate is constant, so its effect is not estimable")
    s = None if strata is None else as_group(strata, n, "strata")[0]
    model = PHReg(t, x, status=e.astype(np.float64), strata=s, ties=ties)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit()
        coef = np.asarray(fit.params, dtype=np.float64)
        se = np.asarray(fit.bse, dtype=np.float64)
    bad = ~np.isfinite(coef) | ~np.isfinite(se) | (np.abs(coef) > MAX_ABS_COEF)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise RadiotrialError(
            f"{names[j]}: the Cox likelihood has no maximum (coefficient diverges to "
            f"{coef[j]:.3g}): perfect separation, e.g. no events in one group"
        )
    z = coef / se
    p = 2 * norm.sf(np.abs(z))
    zc = norm.ppf(1 - (1 - conf_level) / 2)
    ll = float(fit.llf)
    ll0 = float(model.loglike(np.zeros(x.shape[1])))
    lr = 2 * (ll - ll0)
    zero = np.zeros(x.shape[1])
    u0 = np.asarray(model.score(zero), dtype=np.float64)
    info0 = -np.asarray(model.hessian(zero), dtype=np.float64)
    score = float(u0 @ np.linalg.lstsq(info0, u0, rcond=None)[0])
    c_index, c_se = concordance(t, e, x @ coef, s)
    return CoxResult(
        terms=names, coef=coef, se=se, hr=np.exp(coef), hr_lower=np.exp(coef - zc * se),
        hr_upper=np.exp(coef + zc * se), z=z, p=p, loglik=ll, loglik_null=ll0, lr_stat=lr,
        lr_df=x.shape[1], lr_p=float(chi2.sf(lr, x.shape[1])), n=n, n_events=int(e.sum()),
        ties=ties, conf_level=float(conf_level), score_stat=score, score_df=x.shape[1],
        score_p=float(chi2.sf(score, x.shape[1])), concordance=c_index, concordance_se=c_se,
    )


__all__ = ["MAX_ABS_COEF", "TIES", "CoxResult", "concordance", "cox"]
