"""Canonical text form of typed frames: what export writes and what the data hash covers.

One formatting rule per kind (import-format.md, Conventions) so that export → import → export is
byte-identical and the data hash is stable across export and re-import:

- floats: shortest text that parses back to the same double (Polars' float → string cast);
- booleans ``true``/``false``; dates ``YYYY-MM-DD``;
- instants in UTC with ``Z``, fractional seconds only when not whole (``2004-03-02T09:30:00Z``);
- missing = empty cell; rows sorted by the record type's key.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from radiotrial.store.dictionary import RECORD_TYPES, RecordType, polars_schema

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl


def _text_expr(name: str, kind: str):
    import polars as pl

    col = pl.col(name)
    if kind == "bool":
        return pl.when(col).then(pl.lit("true")).when(~col).then(pl.lit("false")).alias(name)
    if kind == "date":
        return col.dt.strftime("%Y-%m-%d").alias(name)
    if kind == "instant":
        utc = col.dt.convert_time_zone("UTC")
        whole = utc.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        frac = utc.dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        return pl.when(utc.dt.microsecond() == 0).then(whole).otherwise(frac).alias(name)
    return col.cast(pl.String).alias(name)


def conform(frame: pl.DataFrame, rt: RecordType) -> pl.DataFrame:
    """``frame`` with exactly the columns of ``rt`` in dictionary order and dictionary dtypes."""
    import polars as pl

    schema = polars_schema(rt)
    exprs = [
        (pl.col(n) if n in frame.columns else pl.lit(None)).cast(t).alias(n)
        for n, t in schema.items()
    ]
    return frame.select(exprs)


def sort_by_key(frame: pl.DataFrame, rt: RecordType) -> pl.DataFrame:
    """Rows in key order (then by every other column, for a total order)."""
    cols = list(rt.key) + [n for n in rt.names if n not in rt.key]
    return frame.sort(cols, nulls_last=True, maintain_order=True)


def to_text(frame: pl.DataFrame, rt: RecordType) -> pl.DataFrame:
    """The canonical text form of a typed frame: all columns String, key-sorted."""
    frame = sort_by_key(conform(frame, rt), rt)
    return frame.select([_text_expr(c.name, c.kind) for c in rt.columns])


def csv_text(frame: pl.DataFrame, rt: RecordType) -> str:
    """The CSV file export writes for one record type (header + rows, ``\\n`` line ends)."""
    return to_text(frame, rt).write_csv(line_terminator="\n")


def data_hash(frames: dict[str, pl.DataFrame]) -> str:
    """SHA-256 over the canonical CSV of every record type (empty = absent), in dictionary order."""
    h = hashlib.sha256()
    for rt in RECORD_TYPES:
        frame = frames.get(rt.name)
        if frame is None or frame.height == 0:
            continue
        h.update(f"## {rt.name}\n".encode())
        h.update(csv_text(frame, rt).encode("utf-8"))
    return h.hexdigest()
