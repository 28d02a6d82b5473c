"""Sort-based segment operations: per-group scans on a frame sorted by its group key.

A *segment* is a run of consecutive rows with the same group key in a frame sorted by that key
(e.g. one lesion's time points sorted by date). These helpers replace ``expr.over(group)`` window
evaluations, which hash the key and scatter the results, by linear passes over the sorted rows:
boundaries from one comparison with the previous row, broadcasts from forward/backward fills, and
prefix minima by a log-step (Hillis-Steele) scan whose number of passes grows with the log of the
longest segment only. Results are exact (min and fills do no arithmetic), so they equal the
``over`` formulation row for row (Hillis & Steele, Commun. ACM 1986;29:1170-1183).
"""

from __future__ import annotations

import numpy as np
import polars as pl

_IDX = pl.int_range(pl.len(), dtype=pl.Int64)


def starts(key: pl.Expr) -> pl.Expr:
    """True on the first row of each segment of ``key`` (frame sorted by ``key``)."""
    return key.ne_missing(key.shift(1)) | (_IDX == 0)


def broadcast(value: str, marked: pl.Expr, start: str) -> pl.Expr:
    """``value`` at the segment's marked row (at most one per segment), on every row of it.

    Null where a segment has no marked row. ``start`` is the boolean segment-start column.
    """
    src = pl.when(marked).then(_IDX)
    first = pl.when(pl.col(start)).then(_IDX).forward_fill()
    last = pl.when(pl.col(start).shift(-1, fill_value=True)).then(_IDX).backward_fill()
    fwd, bwd = src.forward_fill(), src.backward_fill()
    row = pl.when(fwd >= first).then(fwd).when(bwd <= last).then(bwd)
    return pl.col(value).gather(row)


def any_in(flag: pl.Expr, start: str) -> pl.Expr:
    """True on every row of a segment where ``flag`` (no nulls) holds on at least one row."""
    f = flag.cast(pl.Int64)
    seen = f.cum_sum()
    before = pl.when(pl.col(start)).then(seen - f).forward_fill()
    through = pl.when(pl.col(start).shift(-1, fill_value=True)).then(seen).backward_fill()
    return through > before


def prior_min(values: pl.Series, start: pl.Series) -> pl.Series:
    """Minimum of ``values`` over the earlier rows of the same segment, for every row.

    Nulls are ignored; null when no earlier row has a value. ``start`` is the boolean
    segment-start column. Equals ``values.cum_min().forward_fill().shift(1).over(segment)`` for
    finite values, in ceil(log2(longest segment)) in-place NumPy passes (a NaN reads as null).
    """
    x = values.cast(pl.Float64).to_numpy().copy()  # nulls -> NaN, which np.fmin skips
    first = start.to_numpy()
    if x.size == 0:
        return pl.Series(values.name, x)
    idx = np.arange(x.size)
    pos = idx - np.maximum.accumulate(np.where(first, idx, 0))
    longest = int(pos.max()) + 1
    step = 1
    while step < longest:  # log-step scan; rows `step` back lie in the segment where pos >= step
        np.fmin(x[step:], x[:-step], out=x[step:], where=pos[step:] >= step)
        step *= 2
    prior = np.empty_like(x)
    prior[0] = np.nan
    prior[1:] = x[:-1]
    prior[first] = np.nan
    return pl.Series(values.name, prior, nan_to_null=True)
