"""Per-time counts of events and censorings: the one expensive step of Kaplan–Meier.

Two vectorised strategies, chosen automatically:

* **whole numbers** (days) in a bounded range: ``np.bincount`` — O(n), no sort at all;
* **anything else**: one ``np.sort`` of a packed uint64 key. For a non-negative float64 the IEEE
  bit pattern, read as an unsigned integer, orders exactly as the float does and has sign bit 0,
  so ``bits << 1 | event`` is a single integer that sorts by (time, event). Sorting it is cheaper
  than ``argsort`` + gather, and the run boundaries give distinct times, totals and event counts.
"""

from __future__ import annotations

import numpy as np

#: Largest span of whole-number times counted with ``bincount`` beyond 2·n (memory bound:
#: 8 bytes per slot). Chosen so that day-valued follow-up of any realistic length qualifies.
BINCOUNT_EXTRA_SLOTS = 1 << 20


def event_counts(t: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct times (ascending), number of events and number censored at each.

    ``t`` must be float64, finite, >= 0 and without -0.0 (see ``_input.as_time``); ``e`` bool.
    """
    n = t.shape[0]
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return np.empty(0, dtype=np.float64), empty, empty
    tmax = float(t.max())
    if tmax <= 2 * n + BINCOUNT_EXTRA_SLOTS:
        ti = t.astype(np.intp)
        if np.array_equal(ti, t):
            return _by_bincount(ti, e, int(tmax) + 1)
    return _by_sort(t, e)


def _by_bincount(ti: np.ndarray, e: np.ndarray, size: int):
    total = np.bincount(ti, minlength=size)
    # weights avoid a boolean gather of ti (several times slower); counts < 2**53 stay exact
    events = np.bincount(ti, weights=e, minlength=size)
    at = np.flatnonzero(total)
    d = events[at].astype(np.int64)
    return at.astype(np.float64), d, total[at].astype(np.int64, copy=False) - d


def _by_sort(t: np.ndarray, e: np.ndarray):
    t = np.ascontiguousarray(t, dtype=np.float64)
    key = t.view(np.uint64) << np.uint64(1)
    key |= e.view(np.uint8).astype(np.uint64) if e.dtype == np.bool_ else e.astype(np.uint64)
    key.sort()
    n = key.shape[0]
    new = np.empty(n, dtype=bool)
    new[0] = True
    # neighbours differ in time iff their keys differ in more than the event bit
    np.greater(key[1:] ^ key[:-1], np.uint64(1), out=new[1:])
    starts = np.flatnonzero(new)
    times = (key[starts] >> np.uint64(1)).view(np.float64)
    total = np.diff(np.append(starts, n))
    d = np.add.reduceat(key & np.uint64(1), starts).astype(np.int64, copy=False)
    return times, d, total - d
