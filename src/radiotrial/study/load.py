"""Open a stored study: its ``study.yaml`` and every record type as a typed Polars frame.

Frames follow docs/import-format.md: documented column names, canonical units (GBq, mm, the
canonical unit of each lab analyte), dates ``pl.Date``, instants ``pl.Datetime("us", "UTC")``,
booleans ``pl.Boolean``. Every record type is present (empty frame when it has no rows), rows in
key order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from radiotrial.errors import InputError, RadiotrialError
from radiotrial.store import audit
from radiotrial.store.dictionary import BY_NAME, polars_schema
from radiotrial.store.service import StudyStore
from radiotrial.study.canonical import data_hash, sort_by_key
from radiotrial.study.reader import parse_config

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl
    from sqlalchemy.engine import Connection

    from radiotrial.study.config import StudyConfig


@dataclass
class LoadedStudy:
    """A study as stored: config, frames, and the SHA-256 of its data (stable across export and
    re-import; see :func:`radiotrial.study.canonical.data_hash`)."""

    study_id: str
    config: StudyConfig
    config_yaml: str
    frames: dict[str, pl.DataFrame]
    data_hash: str
    db: str
    #: rows and head hash of the audit trail when the study was loaded (see ``audit.head``)
    audit_rows: int = 0
    audit_head: str = ""


def load_study(db: str | os.PathLike) -> LoadedStudy:
    """Load the study stored in ``db`` (SQLite path or SQLAlchemy URL)."""
    with StudyStore(db, create=False) as store, store.reading() as conn:
        return read_study(store, conn)


def read_study(store: StudyStore, conn: Connection) -> LoadedStudy:
    """The study as seen by ``conn`` (inside the caller's read or write transaction)."""
    db = store.db
    row = store.study_row(conn)
    if row is None:
        raise RadiotrialError(f"{db} holds no study yet; load one with `radiotrial import`")
    schemas = {n: polars_schema(rt) for n, rt in BY_NAME.items()}
    frames = store.read_frames(conn, schemas)
    frames = {n: sort_by_key(f, BY_NAME[n]) for n, f in frames.items()}
    try:
        config = parse_config(row["config_yaml"], file="study.yaml (stored)")
    except InputError as exc:
        raise RadiotrialError(
            f"the study.yaml stored in {db} no longer validates with this radiotrial:\n{exc}"
        ) from None
    audit_rows, audit_head = audit.head(conn)
    return LoadedStudy(row["study_id"], config, row["config_yaml"], frames, data_hash(frames),
                       str(db), audit_rows, audit_head)
