"""Validation and conversion of survival inputs (numpy, Polars, pandas, Arrow or lists).

Every public engine converts its inputs once, here, into plain numpy arrays. User mistakes raise
:class:`radiotrial.errors.InputError` naming the field and an offending value.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from radiotrial.errors import InputError, Problem, RadiotrialError


def to_numpy(values: Any, field: str) -> np.ndarray:
    """Return ``values`` (numpy, Polars/pandas Series, Arrow array, list) as a 1-d numpy array."""
    if values is None:
        raise RadiotrialError(f"{field}: no values given")
    if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
        # Polars/pandas Series, Arrow arrays. Polars turns nulls into NaN (floats) or None (objects).
        try:
            arr = values.to_numpy(zero_copy_only=False)  # pyarrow
        except TypeError:
            arr = values.to_numpy()
    else:
        arr = np.asarray(values)
    if arr.ndim != 1:
        raise RadiotrialError(f"{field}: expected a 1-dimensional column, got shape {arr.shape}")
    return arr


def _first_bad(arr: np.ndarray, bad: np.ndarray, field: str, reason: str) -> InputError:
    """An InputError for the first bad value; ``.position`` (0-based) and ``.count`` are kept
    so that a caller reading a file can report its row number."""
    i = int(np.flatnonzero(bad)[0])
    n_bad = int(bad.sum())
    more = f" ({n_bad} such values; first at index {i})" if n_bad > 1 else f" (index {i})"
    err = InputError(Problem(None, None, field, _py(arr[i]), reason + more))
    err.position, err.count, err.reason = i, n_bad, reason
    return err


def field_name(values: Any, default: str) -> str:
    """The column's own name (Polars/pandas Series) for messages, else ``default``."""
    name = getattr(values, "name", None)
    return str(name) if isinstance(name, str) and name else default


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def as_time(values: Any, field: str = "time") -> np.ndarray:
    """Follow-up times as float64: finite and non-negative (R ``Surv`` rejects negative times)."""
    arr = to_numpy(values, field)
    if arr.dtype == object or arr.dtype.kind in "USM":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            bad = np.array([not _is_number(v) for v in arr])
            raise _first_bad(arr, bad, field, "time must be a number") from None
    if arr.dtype.kind not in "iufb":
        raise RadiotrialError(f"{field}: time must be numeric, got dtype {arr.dtype}")
    t = np.ascontiguousarray(arr, dtype=np.float64)
    if t.size == 0:
        return t
    # two reductions instead of element-wise masks: min/max propagate NaN, max sees +Inf
    lo, hi = t.min(), t.max()
    if not (np.isfinite(lo) and np.isfinite(hi)):
        bad = ~np.isfinite(t)
        if bad.any():
            raise _first_bad(t, bad, field, "time must be finite (missing or infinite value)")
    if lo < 0:
        raise _first_bad(t, t < 0, field, "time must be >= 0")
    # -0.0 equals 0.0 but has another bit pattern; normalise it (copy) for the sort keys
    return t + 0.0 if lo == 0 else t


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def as_event(values: Any, n: int, field: str = "event") -> np.ndarray:
    """Event indicator as bool: booleans, or numbers coded 1 = event, 0 = censored."""
    arr = to_numpy(values, field)
    if arr.shape[0] != n:
        raise RadiotrialError(
            f"{field}: length {arr.shape[0]} differs from the length of time ({n})"
        )
    if arr.dtype == np.bool_:
        return arr
    if arr.dtype == object:
        bad = np.array([not (v is True or v is False or v in (0, 1)) or v is None for v in arr])
        if bad.any():
            raise _first_bad(arr, bad, field, "event must be 1 (event) or 0 (censored)")
        return np.array([bool(v) for v in arr], dtype=bool)
    if arr.dtype.kind not in "iuf":
        raise RadiotrialError(f"{field}: event must be boolean or 0/1, got dtype {arr.dtype}")
    bad = ~((arr == 0) | (arr == 1))
    if bad.any():
        raise _first_bad(
            arr, bad, field,
            "event must be 1 (event) or 0 (censored); recode other schemes (e.g. R's 1/2) first",
        )
    return arr == 1


def as_group(values: Any, n: int, field: str = "group") -> tuple[np.ndarray, list[str]]:
    """Group codes (int32, 0..k-1) and labels, levels sorted as R's ``factor()`` sorts them.

    Numbers sort numerically (labels as R prints them: ``1`` not ``1.0``), booleans as
    ``FALSE`` < ``TRUE``, strings by code point (R's C locale). Missing values are an error
    rather than silently dropped (R's ``na.omit``), so that no subject disappears unnoticed.
    """
    arr = to_numpy(values, field)
    if arr.shape[0] != n:
        raise RadiotrialError(
            f"{field}: length {arr.shape[0]} differs from the length of time ({n})"
        )
    if arr.dtype.kind == "f":
        bad = np.isnan(arr)
        if bad.any():
            raise _first_bad(arr, bad, field, "group is missing; drop or label these rows first")
    elif arr.dtype == object:
        bad = np.array([v is None or (isinstance(v, float) and math.isnan(v)) for v in arr])
        if bad.any():
            raise _first_bad(arr, bad, field, "group is missing; drop or label these rows first")
        if all(isinstance(v, (bool, np.bool_)) for v in arr[:1000]):
            arr = arr.astype(bool)
        elif all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                 for v in arr[:1000]):
            arr = arr.astype(np.float64)
        else:
            arr = arr.astype(str)
    levels, codes = np.unique(arr, return_inverse=True)
    return codes.astype(np.int32, copy=False).reshape(-1), [_label(v) for v in levels]


def _label(v: Any) -> str:
    v = _py(v)
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
