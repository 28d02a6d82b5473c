"""Cox proportional-hazards regression through statsmodels ``PHReg`` (Efron or Breslow ties).

statsmodels PHReg matches R's ``coxph`` to <= 3e-9 in the coefficients (see
``shared/reference/survival/README.md``). Wald p = 2·(1 - Φ(|z|)); likelihood-ratio statistic
2·(ℓ(β̂) - ℓ(0)) on p degrees of freedom, as ``summary(coxph)`` prints them.
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
    return CoxResult(
        terms=names, coef=coef, se=se, hr=np.exp(coef), hr_lower=np.exp(coef - zc * se),
        hr_upper=np.exp(coef + zc * se), z=z, p=p, loglik=ll, loglik_null=ll0, lr_stat=lr,
        lr_df=x.shape[1], lr_p=float(chi2.sf(lr, x.shape[1])), n=n, n_events=int(e.sum()),
        ties=ties, conf_level=float(conf_level),
    )


__all__ = ["MAX_ABS_COEF", "TIES", "CoxResult", "cox"]
