"""Decay correction, administered activity and cumulated activity (issue 6, item 2).

Physical decay: A(t) = A(t0) * exp(-lambda (t - t0)), lambda = ln 2 / T1/2 (valid forward and
backward in time). Administered activity (spec/dosimetry.md 3, "residual correction"):

    A_adm = A_cal * e^{-lambda (t_inj - t_cal)}  -  A_res * e^{-lambda (t_inj - t_res)}

where the residual in syringe and line may be measured before *or after* the injection
(t_inj - t_res < 0 simply decays it backwards; PyTheranostics rejects this case).

Instants must be timezone-aware (ARCHITECTURE.md "Time"); a naive instant is an error.
Array functions take elapsed hours and are vectorised (numpy); they never loop per row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from radiotrial.errors import RadiotrialError
from radiotrial.physics.nuclides import DEFAULT_DATASET, half_life_h

LN2 = math.log(2)

ArrayLike = Any  # float | np.ndarray | sequence of floats


def _check_aware(value: datetime, field: str) -> None:
    if not isinstance(value, datetime):
        raise RadiotrialError(f"{field}: expected a timezone-aware date-time, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise RadiotrialError(
            f"{field}: instant {value.isoformat()} has no time zone; give a UTC offset "
            "(e.g. 2004-03-02T10:30:00+01:00) so decay correction is unambiguous"
        )


def hours_between(start: datetime, end: datetime, *, fields: tuple[str, str] = ("start", "end")) -> float:
    """Elapsed hours from ``start`` to ``end`` (negative if ``end`` is earlier); both tz-aware."""
    _check_aware(start, fields[0])
    _check_aware(end, fields[1])
    return (end - start).total_seconds() / 3600.0


def _check_nonnegative(values: ArrayLike, field: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    bad = arr < 0
    if np.any(bad):
        raise RadiotrialError(f"{field}: activity must be >= 0, got {arr[bad].ravel()[0]!r}")
    return arr


def decay_factor(elapsed_h: ArrayLike, half_life_h: ArrayLike) -> np.ndarray:
    """exp(-ln 2 * t / T1/2) for elapsed time ``t`` (h, may be negative) and half-life (h)."""
    return np.exp(-LN2 * np.asarray(elapsed_h, dtype=float) / np.asarray(half_life_h, dtype=float))


def decay_activity(activity: ArrayLike, elapsed_h: ArrayLike, half_life_h: ArrayLike) -> np.ndarray:
    """Activity after ``elapsed_h`` hours (backwards for negative times); same unit as input."""
    return _check_nonnegative(activity, "activity") * decay_factor(elapsed_h, half_life_h)


def activity_at(
    activity: float,
    reference_instant: datetime,
    instant: datetime,
    nuclide: str,
    *,
    dataset: str = DEFAULT_DATASET,
) -> float:
    """Activity at ``instant`` of ``activity`` measured at ``reference_instant`` (tz-aware)."""
    t = hours_between(reference_instant, instant, fields=("reference_instant", "instant"))
    return float(decay_activity(activity, t, half_life_h(nuclide, dataset)))


def administered_activity_array(
    calibrated: ArrayLike,
    calibration_to_injection_h: ArrayLike,
    residual: ArrayLike,
    residual_to_injection_h: ArrayLike,
    half_life_h: ArrayLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised administered activity (see module docstring).

    Elapsed times are ``t_inj - t_ref`` in hours. Missing residuals are NaN and count as 0.
    Returns ``(activity_at_injection, residual_at_injection, administered)``; ``administered`` is
    negative where the residual exceeds the dispensed activity (callers report those rows).
    """
    cal = _check_nonnegative(calibrated, "calibrated_activity")
    res = np.asarray(residual, dtype=float)
    if np.any(res < 0):
        raise RadiotrialError(f"residual_activity: activity must be >= 0, got {res[res < 0].ravel()[0]!r}")
    at_inj = cal * decay_factor(calibration_to_injection_h, half_life_h)
    res_inj = np.where(np.isnan(res), 0.0, res) * decay_factor(
        np.nan_to_num(np.asarray(residual_to_injection_h, dtype=float)), half_life_h
    )
    return at_inj, res_inj, at_inj - res_inj


@dataclass(frozen=True)
class AdministeredActivity:
    """Activities decayed to the injection instant (same unit as the input, e.g. GBq)."""

    at_injection: float
    residual_at_injection: float
    administered: float


def administered_activity(
    calibrated_activity: float,
    calibration_instant: datetime,
    admin_instant: datetime,
    nuclide: str,
    *,
    residual_activity: float | None = None,
    residual_instant: datetime | None = None,
    dataset: str = DEFAULT_DATASET,
) -> AdministeredActivity:
    """Activity actually injected: calibrated activity decayed to the injection minus the residual
    (measured at its own instant, before or after injection) decayed to the injection.

    Raises for naive instants, negative activities, a residual without its instant, and a residual
    above the dispensed activity (both decayed to the injection instant).
    """
    t_cal = hours_between(calibration_instant, admin_instant,
                          fields=("calibration_instant", "admin_instant"))
    if residual_activity is not None and residual_instant is None:
        raise RadiotrialError("residual_instant: required with residual_activity (decay needs its time)")
    t_res = (
        hours_between(residual_instant, admin_instant, fields=("residual_instant", "admin_instant"))
        if residual_activity is not None else 0.0
    )
    a, r, adm = administered_activity_array(
        calibrated_activity, t_cal,
        np.nan if residual_activity is None else residual_activity, t_res,
        half_life_h(nuclide, dataset),
    )
    if adm < 0:
        raise RadiotrialError(
            f"residual_activity: {residual_activity!r} decays to {float(r):.6g} at injection, above the "
            f"dispensed activity {float(a):.6g} at injection"
        )
    return AdministeredActivity(float(a), float(r), float(adm))


def effective_half_life(physical_h: ArrayLike, biological_h: ArrayLike) -> np.ndarray:
    """T_eff = T_p T_b / (T_p + T_b) (MIRD; spec 2.1). Infinite biological half-life gives T_p."""
    tp = np.asarray(physical_h, dtype=float)
    tb = np.asarray(biological_h, dtype=float)
    return 1.0 / (1.0 / tp + 1.0 / tb)  # = T_p T_b / (T_p + T_b); exact T_p for T_b = inf


def cumulated_activity(
    activity: ArrayLike,
    half_life_h: ArrayLike,
    *,
    start_h: ArrayLike = 0.0,
    end_h: ArrayLike = np.inf,
) -> np.ndarray:
    """Time-integrated activity of a mono-exponential A(t) = A0 e^{-ln2 t/T} from start to end.

    ``half_life_h`` is the physical half-life (physical decay only) or an effective half-life.
    Result in (activity unit) x h: A0 * T/ln2 * (e^{-ln2 start/T} - e^{-ln2 end/T}) (MIRD;
    spec 2.1, "Mono-exponential: A~ = A0/lambda_eff").
    """
    a0 = _check_nonnegative(activity, "activity")
    t = np.asarray(half_life_h, dtype=float)
    lam = LN2 / t
    return a0 / lam * (np.exp(-lam * np.asarray(start_h, dtype=float)) - np.exp(-lam * np.asarray(end_h, dtype=float)))
