"""``StudyStore``: open a study database and read or change it, always through the audit trail.

Every create, update and delete goes through :meth:`StudyStore.insert_frames`,
:meth:`StudyStore.update_record` or :meth:`StudyStore.delete_record`, which write the matching
audit rows in the same transaction. Updates and deletes require a reason; a record is never erased
without its previous values being kept in the trail (``old_value``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from radiotrial.errors import RadiotrialError
from radiotrial.store import audit
from radiotrial.store.engine import current_revision, make_engine, upgrade
from radiotrial.store.schema import RECORD_TABLES, study_table

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl
    from sqlalchemy.engine import Connection


def _require_reason(reason: str | None, what: str) -> str:
    if reason is None or not reason.strip():
        raise RadiotrialError(f"a reason is required to {what} a record (--reason \"...\")")
    return reason.strip()


class StudyStore:
    """A study database (SQLite path or SQLAlchemy URL), migrated to the current schema.

    ``create=False`` refuses a missing SQLite file instead of creating it (read-only uses).
    """

    def __init__(self, db: str | os.PathLike, *, create: bool = True):
        self.db = str(db)
        self.engine = make_engine(db, must_exist=not create)
        if not create and current_revision(self.engine) is None:
            self.engine.dispose()
            raise RadiotrialError(f"{db} is not a radiotrial study database (no schema)")
        upgrade(self.engine)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> StudyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back on any exception."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads."""
        with self.engine.connect() as conn:
            yield conn

    # ---------------------------------------------------------------- study row and frames

    @staticmethod
    def study_row(conn: Connection) -> dict[str, Any] | None:
        """The study row (study_id, title, config_yaml, data_hash, …) or ``None`` if empty."""
        from sqlalchemy import select

        rows = conn.execute(select(study_table)).mappings().all()
        if len(rows) > 1:
            raise RadiotrialError("database holds more than one study; radiotrial expects one")
        return dict(rows[0]) if rows else None

    @staticmethod
    def record_count(conn: Connection) -> int:
        """Number of records in all record tables."""
        from sqlalchemy import func, select

        return sum(conn.execute(select(func.count()).select_from(t)).scalar_one()
                   for t in RECORD_TABLES.values())

    @staticmethod
    def write_study_row(conn: Connection, row: Mapping[str, Any]) -> None:
        """Insert or replace the study row."""
        from sqlalchemy import delete, insert

        conn.execute(delete(study_table))
        conn.execute(insert(study_table).values(**row))

    @staticmethod
    def insert_frames(conn: Connection, frames: Mapping[str, pl.DataFrame],
                      order: list[str]) -> dict[str, int]:
        """Bulk-insert typed frames (parents first, in ``order``); returns rows per record type.

        The caller writes the matching audit rows in the same transaction.
        """
        from sqlalchemy import insert

        counts = {}
        for name in order:
            frame = frames.get(name)
            if frame is None or frame.height == 0:
                continue
            table = RECORD_TABLES[name]
            for start in range(0, frame.height, 50_000):
                conn.execute(insert(table), frame.slice(start, 50_000).to_dicts())
            counts[name] = frame.height
        return counts

    @staticmethod
    def read_frames(conn: Connection, schemas: Mapping[str, dict]) -> dict[str, pl.DataFrame]:
        """Every record table as a typed frame (``schemas``: record type → polars schema)."""
        import polars as pl
        from sqlalchemy import select

        frames = {}
        for name, schema in schemas.items():
            table = RECORD_TABLES[name]
            cols = [table.c[n] for n in schema]
            rows = conn.execute(select(*cols).order_by(table.c.id)).all()
            frames[name] = pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")
        return frames

    # ---------------------------------------------------------------- single-record changes

    @staticmethod
    def _where(name: str, key: Mapping[str, Any]):
        table = RECORD_TABLES[name]
        unknown = [k for k in key if k not in table.c]
        if unknown:
            raise RadiotrialError(f"{name} has no column {unknown[0]!r}")
        return [table.c[k] == v for k, v in key.items()]

    def get_record(self, conn: Connection, name: str, key: Mapping[str, Any]) -> dict[str, Any]:
        """The one record of ``name`` matching ``key`` (error naming the key if none)."""
        from sqlalchemy import select

        table = RECORD_TABLES[name]
        rows = conn.execute(select(table).where(*self._where(name, key))).mappings().all()
        what = ", ".join(f"{k}={v}" for k, v in key.items())
        if not rows:
            raise RadiotrialError(f"no {name} record with {what}")
        if len(rows) > 1:
            raise RadiotrialError(f"{len(rows)} {name} records match {what}; give the full key")
        return dict(rows[0])

    def update_record(self, conn: Connection, name: str, key: Mapping[str, Any],
                      values: Mapping[str, Any], texts: Mapping[str, tuple[str | None, str | None]],
                      *, user: str, reason: str | None, source: str, record_key: str,
                      subject_id: str | None) -> int:
        """Update one record; ``texts`` maps each changed field to (old, new) text for the trail."""
        from sqlalchemy import update

        reason = _require_reason(reason, "update")
        self.get_record(conn, name, key)
        if not values:
            return 0
        table = RECORD_TABLES[name]
        conn.execute(update(table).where(*self._where(name, key)).values(**values))
        events = [audit.Event("UPDATE", name, record_key, subject_id, f, old, new, reason)
                  for f, (old, new) in texts.items()]
        return audit.append(conn, events, user=user, source=source)

    def delete_record(self, conn: Connection, name: str, key: Mapping[str, Any], old_text: str,
                      *, user: str, reason: str | None, source: str, record_key: str,
                      subject_id: str | None) -> None:
        """Delete one record; its full previous values (``old_text``, JSON) go to the trail."""
        from sqlalchemy import delete
        from sqlalchemy.exc import IntegrityError

        reason = _require_reason(reason, "delete")
        self.get_record(conn, name, key)
        try:
            conn.execute(delete(RECORD_TABLES[name]).where(*self._where(name, key)))
        except IntegrityError:
            raise RadiotrialError(
                f"cannot delete {name} {record_key}: other records refer to it; "
                "delete or correct those first") from None
        audit.append(conn, [audit.Event("DELETE", name, record_key, subject_id, None, old_text,
                                        None, reason)], user=user, source=source)

    def insert_record(self, conn: Connection, name: str, values: Mapping[str, Any], new_text: str,
                      *, user: str, reason: str | None, source: str, record_key: str,
                      subject_id: str | None) -> None:
        """Create one record (after the initial import); its values go to the trail."""
        from sqlalchemy import insert

        conn.execute(insert(RECORD_TABLES[name]).values(**values))
        audit.append(conn, [audit.Event("CREATE", name, record_key, subject_id, None, None,
                                        new_text, reason)], user=user, source=source)

    # ---------------------------------------------------------------- audit

    def verify_audit(self) -> audit.VerifyReport:
        """Verify the hash chain (see :func:`radiotrial.store.audit.verify`)."""
        with self.reading() as conn:
            return audit.verify(conn)

    def history(self, *, subject: str | None = None, record_type: str | None = None,
                limit: int | None = None) -> list[dict[str, Any]]:
        """Audit rows in order, optionally filtered."""
        with self.reading() as conn:
            return audit.history(conn, subject=subject, record_type=record_type, limit=limit)


def json_text(values: Mapping[str, Any]) -> str:
    """Compact JSON (key order kept) used for record keys and values in the trail."""
    return json.dumps(dict(values), ensure_ascii=False, separators=(",", ":"))
