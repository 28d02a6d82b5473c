"""Kaplan–Meier estimates exact to R's ``survival`` package (R 4.2.2, survival 3.5-3).

Conventions, each matched to R and tested against ``shared/reference/survival``:

* one row per distinct observed time (censor-only times included), no t = 0 row (``survfit``);
* S(t) = prod (n - d) / n; Greenwood SE of the cumulative hazard
  ``sqrt(cumsum(d / (n (n - d))))`` (R's ``fit$std.err``; Inf once S = 0); the table's
  ``std_err`` is on the survival scale, ``S * fit$std.err``, as ``summary.survfit`` prints it
  (undefined where S = 0);
* pointwise limits as R's ``survfit_confint``: ``log`` (R's default) exp(log S ± z·se) with the
  upper limit capped at 1; ``log-log`` exp(-exp(log(-log S) ∓ z·se/log S)), undefined where
  S is 0 or 1; ``plain`` S ± z·se·S clipped to [0, 1]; all undefined where S = 0;
* quantiles and the median as R's ``quantile.survfit`` (``findq``): tolerance sqrt(machine eps);
  where S sits at p on a flat stretch, the midpoint of that stretch (to the last follow-up time
  when the flat stretch ends the curve); limits from the pointwise bands, undefined where a band
  never crosses;
* landmark values as ``summary(fit, times=)``; restricted mean and its SE as R's ``survmean``.

Engines are pure and vectorised: no files, no printing, no per-subject Python loops.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from scipy.stats import norm

from radiotrial.errors import RadiotrialError
from radiotrial.stats._counting import event_counts
from radiotrial.stats._input import as_event, as_group, as_time, field_name, to_numpy

#: Confidence-interval transforms accepted (names as R's ``conf.type``).
CONF_TYPES = ("log", "log-log", "plain")

#: Tolerance for comparing S with a quantile level: R's ``quantile.survfit`` default
#: ``sqrt(.Machine$double.eps)``.
QUANTILE_TOLERANCE = math.sqrt(np.finfo(float).eps)

#: Quantile levels reported by default (R's ``quantile.survfit`` default ``probs``).
DEFAULT_PROBS = (0.25, 0.5, 0.75)

TABLE_COLUMNS = ("time", "n_risk", "n_event", "n_censor", "survival", "std_err", "lower", "upper")


@dataclass(frozen=True)
class Median:
    """Median survival and its confidence limits; ``None`` where R reports NA."""

    estimate: float | None
    lower: float | None
    upper: float | None


def confidence_limits(
    surv: np.ndarray, se_log: np.ndarray, conf_type: str, conf_level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise limits of S as R's ``survfit_confint`` (survival 3.5-3), NaN where R gives NA.

    ``se_log`` is the SE of -log S (R's ``fit$std.err``).
    """
    z = norm.ppf(1 - (1 - conf_level) / 2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            se2 = z * se_log * surv
            lower = np.maximum(surv - se2, 0.0)
            upper = np.minimum(surv + se2, 1.0)
        elif conf_type == "log":
            xx = np.where(surv == 0, np.nan, surv)
            se2 = z * se_log
            lower = np.exp(np.log(xx) - se2)
            upper = np.minimum(np.exp(np.log(xx) + se2), 1.0)
        elif conf_type == "log-log":
            xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
            se2 = z * se_log / np.log(xx)
            lower = np.exp(-np.exp(np.log(-np.log(xx)) - se2))
            upper = np.exp(-np.exp(np.log(-np.log(xx)) + se2))
        else:
            raise RadiotrialError(
                f"conf_type: unknown value {conf_type!r}; use one of {', '.join(CONF_TYPES)}"
            )
    # NaN propagates through maximum/minimum, as NA through R's pmax/pmin
    return lower, upper


def find_quantiles(
    time: np.ndarray, cdf: np.ndarray, probs: np.ndarray, tol: float = QUANTILE_TOLERANCE
) -> np.ndarray:
    """Times where the curve 1 - S (``cdf``, NaN = NA) reaches ``probs``: R's ``findq``.

    Port of ``survival:::findq`` with ``firstx = 0``: duplicate levels are dropped (first kept,
    NA counts as a level), NA levels removed, then a right-continuous step lookup with tolerance
    ``tol`` on each side; an exact hit on a flat stretch gives the midpoint of the stretch.
    """
    probs = np.asarray(probs, dtype=np.float64)
    out = np.full(probs.shape, np.nan)
    x = np.concatenate(([0.0], time))
    y = np.concatenate(([0.0], cdf))
    if np.all(np.isnan(y)) or np.nanmax(y) < probs.min():
        return out
    xmax = x[-1]
    _, first = np.unique(y, return_index=True)  # NaNs compare equal: R's duplicated()
    keep = np.sort(first)
    xd, yd = x[keep], y[keep]
    ok = ~np.isnan(yd)
    idx = np.flatnonzero(ok)
    order = np.argsort(yd[ok], kind="stable")  # approx() sorts its x
    levels, lvl_idx = yd[ok][order], idx[order]

    def lookup(shift: float) -> np.ndarray:
        xx = levels + shift
        k = np.searchsorted(xx, probs, side="left")
        valid = (k < xx.size) & (probs >= xx[0])
        res = np.full(probs.shape, -1)
        res[valid] = lvl_idx[k[valid]]
        return res

    i1, i2 = lookup(tol), lookup(-tol)
    both = (i1 >= 0) & (i2 >= 0)
    out[both] = (xd[i1[both]] + xd[i2[both]]) / 2
    out[probs == 0] = x[0]
    if not np.isnan(yd[-1]):
        last = (np.abs(probs - yd[-1]) < tol) & (i1 >= 0)
        out[last] = (xd[i1[last]] + xmax) / 2
        out[(np.abs(probs - yd[-1]) < tol) & (i1 < 0)] = np.nan
    return out


def _none(v: float) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


@dataclass
class KMStratum:
    """One Kaplan–Meier curve. ``table`` has one row per distinct observed time."""

    group: str | None
    n: int
    events: int
    conf_type: str
    conf_level: float
    time: np.ndarray = field(repr=False)
    n_risk: np.ndarray = field(repr=False)
    n_event: np.ndarray = field(repr=False)
    n_censor: np.ndarray = field(repr=False)
    survival: np.ndarray = field(repr=False)
    se_log: np.ndarray = field(repr=False)  # R's fit$std.err (SE of the cumulative hazard)
    lower: np.ndarray = field(repr=False)
    upper: np.ndarray = field(repr=False)
    time_is_integer: bool = field(default=False, repr=False)

    @property
    def std_err(self) -> np.ndarray:
        """Greenwood SE of S (``summary.survfit``'s ``std.err``); NaN where S = 0."""
        with np.errstate(invalid="ignore"):
            return self.survival * self.se_log

    @property
    def table(self) -> pl.DataFrame:
        """time, n_risk, n_event, n_censor, survival, std_err, lower, upper (null = R's NA)."""
        return pl.DataFrame(
            {
                "time": self.time,
                "n_risk": self.n_risk,
                "n_event": self.n_event,
                "n_censor": self.n_censor,
                "survival": self.survival,
                "std_err": self.std_err,
                "lower": self.lower,
                "upper": self.upper,
            }
        ).with_columns(pl.col("std_err", "lower", "upper").fill_nan(None))

    def quantile(self, probs: Iterable[float] = DEFAULT_PROBS) -> pl.DataFrame:
        """Survival-time quantiles (prob p: time where S falls to 1 - p) with limits."""
        p = np.asarray(list(probs), dtype=np.float64)
        if p.size == 0 or np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
            raise RadiotrialError(f"probs: each must be within [0, 1], got {p.tolist()}")
        with np.errstate(invalid="ignore"):
            q = find_quantiles(self.time, 1 - self.survival, p)
            lo = find_quantiles(self.time, 1 - self.lower, p)
            hi = find_quantiles(self.time, 1 - self.upper, p)
        return pl.DataFrame({"prob": p, "quantile": q, "lower": lo, "upper": hi}).with_columns(
            pl.col("quantile", "lower", "upper").fill_nan(None)
        )

    @property
    def quantiles(self) -> pl.DataFrame:
        """Quartiles 0.25, 0.5, 0.75 (R's ``quantile(fit)``): prob, quantile, lower, upper."""
        return self.quantile(DEFAULT_PROBS)

    @property
    def median(self) -> Median:
        """Median survival time and its limits (R's ``quantile(fit, 0.5)``)."""
        row = self.quantile([0.5]).row(0, named=True)
        return Median(row["quantile"], row["lower"], row["upper"])

    def at(self, times: Any) -> pl.DataFrame:
        """Survival at landmark times, as R's ``summary(fit, times=)``.

        Columns time, n_risk (number still at risk at t), survival, std_err (S scale), lower,
        upper. Before the first observed time S = 1, SE 0, limits 1. Past the last follow-up
        time R (``extend = FALSE``) drops the time; here the row is kept, with n_risk 0 and the
        estimates null, so that rows stay aligned with the request.
        """
        t = as_time(times, "at")
        m = self.time.size
        row = np.searchsorted(self.time, t, side="right") - 1  # last time <= t
        nxt = np.searchsorted(self.time, t, side="left")  # first time >= t
        n_risk = np.where(nxt < m, self.n_risk[np.minimum(nxt, m - 1)] if m else 0, 0)
        before = row < 0
        past = t > (self.time[-1] if m else -np.inf)
        r = np.maximum(row, 0)

        def pick(values: np.ndarray, start: float) -> np.ndarray:
            out = values[r] if m else np.full(t.shape, start)
            out = np.where(before, start, out)
            return np.where(past, np.nan, out)

        with np.errstate(invalid="ignore"):
            frame = pl.DataFrame(
                {
                    "time": t,
                    "n_risk": n_risk.astype(np.int64),
                    "survival": pick(self.survival, 1.0),
                    "std_err": pick(self.std_err, 0.0),
                    "lower": pick(self.lower, 1.0),
                    "upper": pick(self.upper, 1.0),
                }
            )
        return frame.with_columns(pl.col("survival", "std_err", "lower", "upper").fill_nan(None))

    def rmst(self, horizon: float) -> tuple[float, float]:
        """Restricted mean survival time up to ``horizon`` and its SE, as R's ``survmean``.

        Area under S from 0 to ``horizon``; variance sum_j A_j^2 d_j / (n_j (n_j - d_j)) over
        times t_j <= horizon, A_j the area from t_j to the horizon, and terms with n_j = d_j
        set to 0 (``print(fit, rmean = horizon)``).
        """
        if not (isinstance(horizon, (int, float)) and math.isfinite(horizon) and horizon > 0):
            raise RadiotrialError(f"horizon: must be a positive finite number, got {horizon!r}")
        keep = self.time <= horizon
        tt = np.append(self.time[keep], horizon)
        ss = self.survival[keep]
        surv = np.concatenate(([1.0], ss))  # S on each interval [t_{j-1}, t_j)
        delta = np.diff(np.concatenate(([0.0], tt)))
        rect = delta * surv
        n, d = self.n_risk[keep].astype(np.float64), self.n_event[keep].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            hh = np.where(n - d == 0, 0.0, d / (n * (n - d)))
        after = np.cumsum(rect[1:][::-1])[::-1]  # area from t_j to the horizon
        var = float(np.sum(after**2 * hh))
        return float(rect.sum()), math.sqrt(var)

    def to_json_dict(self, at: Any = ()) -> dict[str, Any]:
        """This stratum in the ``radiotrial km --json`` layout (NaN -> null)."""
        tnum = _json_num_int if self.time_is_integer else _json_num
        med = self.median
        at_rows = self.at(list(at)).to_dicts() if len(list(at)) else []
        return {
            "group": self.group,
            "n": int(self.n),
            "events": int(self.events),
            "table": {
                "time": [tnum(v) for v in self.time],
                "n_risk": self.n_risk.tolist(),
                "n_event": self.n_event.tolist(),
                "n_censor": self.n_censor.tolist(),
                "survival": [_json_num(v) for v in self.survival],
                "std_err": [_json_num(v) for v in self.std_err],
                "lower": [_json_num(v) for v in self.lower],
                "upper": [_json_num(v) for v in self.upper],
            },
            "median": {"estimate": _json_num(med.estimate), "lower": _json_num(med.lower),
                       "upper": _json_num(med.upper)},
            "at": [
                {"time": tnum(r["time"]), "n_risk": int(r["n_risk"]),
                 "survival": _json_num(r["survival"]), "std_err": _json_num(r["std_err"]),
                 "lower": _json_num(r["lower"]), "upper": _json_num(r["upper"])}
                for r in at_rows
            ],
        }


def _json_num(v: Any) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _json_num_int(v: Any) -> float | int | None:
    v = _json_num(v)
    return int(v) if v is not None and v.is_integer() else v


@dataclass
class KMResult:
    """Kaplan–Meier fit: one :class:`KMStratum` per group level (R's factor order)."""

    strata: list[KMStratum]
    conf_type: str
    conf_level: float
    _time: np.ndarray = field(repr=False, default=None)
    _event: np.ndarray = field(repr=False, default=None)
    _codes: np.ndarray | None = field(repr=False, default=None)

    def __getitem__(self, group: str | None) -> KMStratum:
        for s in self.strata:
            if s.group == group:
                return s
        raise KeyError(group)

    @property
    def groups(self) -> list[str | None]:
        """Group labels in stratum order."""
        return [s.group for s in self.strata]

    def logrank(self):
        """Log-rank test between the strata (R's ``survdiff``); None for a single curve."""
        if self._codes is None or len(self.strata) < 2:
            return None
        from radiotrial.stats.logrank import logrank_codes

        return logrank_codes(self._time, self._event, self._codes, [s.group for s in self.strata])

    def to_json_dict(self, at: Any = ()) -> dict[str, Any]:
        """The object ``radiotrial km --json`` prints (layout of issue #3)."""
        at = list(at)
        lr = self.logrank()
        return {
            "conf_type": self.conf_type,
            "conf_level": float(self.conf_level),
            "strata": [s.to_json_dict(at=at) for s in self.strata],
            "logrank": None if lr is None else {
                "chisq": _json_num(lr.chisq), "df": int(lr.df), "p": _json_num(lr.p),
                "observed": [float(v) for v in lr.observed],
                "expected": [float(v) for v in lr.expected],
            },
        }


def _curve(
    t: np.ndarray, e: np.ndarray, group: str | None, conf_type: str, conf_level: float,
    time_is_integer: bool,
) -> KMStratum:
    times, d, c = event_counts(t, e)
    n = t.shape[0]
    # number at risk = n minus everyone who left before: n - (cumsum(d + c) shifted by one)
    left = np.cumsum(d + c)
    n_risk = np.empty_like(left)
    if times.size:
        n_risk[0] = n
        np.subtract(n, left[:-1], out=n_risk[1:])
    nr = n_risk.astype(np.float64)
    df = d.astype(np.float64)
    alive = nr - df
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(alive / nr)
        # Greenwood increments d / (n (n - d)); 0 where d = 0, Inf where n = d (S drops to 0)
        alive *= nr
        inc = np.divide(df, alive, out=alive)
    se_log = np.sqrt(np.cumsum(inc, out=inc), out=inc)
    lower, upper = confidence_limits(surv, se_log, conf_type, conf_level)
    return KMStratum(
        group=group, n=int(n), events=int(d.sum()), conf_type=conf_type, conf_level=conf_level,
        time=times, n_risk=n_risk, n_event=d, n_censor=c, survival=surv,
        se_log=se_log, lower=lower, upper=upper, time_is_integer=time_is_integer,
    )


def kaplan_meier(
    time: Any,
    event: Any,
    *,
    group: Any = None,
    conf_type: str = "log",
    conf_level: float = 0.95,
) -> KMResult:
    """Kaplan–Meier curves with R-exact SEs, limits, quantiles (``survfit(Surv(time, event) ~ g)``).

    ``time``: non-negative finite follow-up times; ``event``: 1/True = event, 0/False = censored;
    ``group``: optional labels (one curve per level, levels in R's factor order).
    ``conf_type``: ``log`` (R's default), ``log-log`` or ``plain``.
    Times are used exactly (R's ``timefix = FALSE``; with whole-day data this is identical).
    """
    if conf_type not in CONF_TYPES:
        raise RadiotrialError(
            f"conf_type: unknown value {conf_type!r}; use one of {', '.join(CONF_TYPES)}"
        )
    if not (isinstance(conf_level, (int, float)) and 0 < conf_level < 1):
        raise RadiotrialError(f"conf_level: must be between 0 and 1, got {conf_level!r}")
    t_name, e_name = field_name(time, "time"), field_name(event, "event")
    raw_time = to_numpy(time, t_name)
    time_is_integer = raw_time.dtype.kind in "iub"
    t = as_time(raw_time, t_name)
    e = as_event(event, t.shape[0], e_name)
    if t.shape[0] == 0:
        raise RadiotrialError("time: no observations")
    if group is None:
        stratum = _curve(t, e, None, conf_type, conf_level, time_is_integer)
        return KMResult([stratum], conf_type, float(conf_level), t, e, None)
    codes, labels = as_group(group, t.shape[0], field_name(group, "group"))
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(codes, minlength=len(labels)))))
    ts, es = t[order], e[order]
    strata = [
        _curve(ts[bounds[k]:bounds[k + 1]], es[bounds[k]:bounds[k + 1]], label, conf_type,
               conf_level, time_is_integer)
        for k, label in enumerate(labels)  # one iteration per group level, not per subject
    ]
    return KMResult(strata, conf_type, float(conf_level), t, e, codes)
