"""Audit trail: append-only, hash-chained (spec/data-management.md §2; 21 CFR 11.10(e); EU GMP
Annex 11 §9).

Each row holds: ``seq`` (1, 2, …), ``audit_id`` (UUID), ``ts_utc`` (system clock, ISO 8601 ``…Z``),
user, action (CREATE / UPDATE / DELETE / IMPORT / EXPORT), record type and key (JSON), subject, field, old
and new value (verbatim text; the initial entry has ``old_value`` NULL), reason (required for
UPDATE and DELETE), source (``import:<folder>``, ``cli``, ``web``) and software version.

``hash = SHA-256(JSON array of every other field, prev_hash included)``; ``prev_hash`` is the
previous row's hash (64 zeros for the first). The chain head (row count, last hash) is kept in
``audit_anchor`` and updated in the same transaction, so deleting the newest rows is detected too.
Granularity: a bulk import writes one CREATE row per record with the record's values as JSON in
``new_value``; an update writes one row per changed field; a delete one row with the whole
record in ``old_value``; an export one EXPORT row (target, format, files, data hash as JSON in
``new_value``). Nothing is ever erased from the trail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from radiotrial import __version__
from radiotrial.errors import RadiotrialError
from radiotrial.store.schema import audit_anchor_table, audit_table

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Connection

GENESIS = "0" * 64
#: Fields covered by the hash, in hashing order.
HASHED = ("seq", "audit_id", "ts_utc", "user_name", "action", "record_type", "record_key",
          "subject_id", "field", "old_value", "new_value", "reason", "source",
          "software_version", "prev_hash")
ACTIONS = ("CREATE", "UPDATE", "DELETE", "IMPORT", "EXPORT")


class AuditError(RadiotrialError):
    """The audit trail failed verification."""


def row_hash(row: dict[str, Any]) -> str:
    """SHA-256 of the hashed fields of ``row`` (canonical JSON array)."""
    payload = json.dumps([row[k] for k in HASHED], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def now_utc() -> str:
    """System UTC time, ISO 8601 with microseconds and ``Z``."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Event:
    """One audit event to append (the system adds seq, id, time, version and hashes)."""

    action: str
    record_type: str
    record_key: str | None = None
    subject_id: str | None = None
    field: str | None = None
    old_value: str | None = None
    new_value: str | None = None
    reason: str | None = None


def append(conn: Connection, events: Iterable[Event] | Sequence[Event], *, user: str,
           source: str) -> int:
    """Append ``events`` to the trail inside the caller's transaction; returns rows written."""
    from sqlalchemy import insert, select, update

    if not user or not user.strip():
        raise RadiotrialError("a user name is required for the audit trail (--user)")
    anchor = conn.execute(
        select(audit_anchor_table).where(audit_anchor_table.c.id == 1).with_for_update()
    ).mappings().first()
    seq, prev = (anchor["row_count"], anchor["head_hash"]) if anchor else (0, GENESIS)
    ts = now_utc()
    rows = []
    for ev in events:
        if ev.action not in ACTIONS:
            raise ValueError(f"unknown audit action {ev.action!r}")
        if ev.action in ("UPDATE", "DELETE") and not (ev.reason and ev.reason.strip()):
            raise RadiotrialError(f"a reason is required for {ev.action.lower()}s (--reason)")
        seq += 1
        row = {
            "seq": seq, "audit_id": str(uuid.uuid4()), "ts_utc": ts, "user_name": user,
            "action": ev.action, "record_type": ev.record_type, "record_key": ev.record_key,
            "subject_id": ev.subject_id, "field": ev.field, "old_value": ev.old_value,
            "new_value": ev.new_value, "reason": ev.reason, "source": source,
            "software_version": __version__, "prev_hash": prev,
        }
        row["hash"] = prev = row_hash(row)
        rows.append(row)
    if not rows:
        return 0
    for start in range(0, len(rows), 50_000):
        conn.execute(insert(audit_table), rows[start:start + 50_000])
    if anchor:
        conn.execute(update(audit_anchor_table).where(audit_anchor_table.c.id == 1)
                     .values(row_count=seq, head_hash=prev))
    else:
        conn.execute(insert(audit_anchor_table).values(id=1, row_count=seq, head_hash=prev))
    return len(rows)


@dataclass
class VerifyReport:
    """Result of :func:`verify`: ``ok`` and, if not, one message per broken row."""

    rows: int
    head_hash: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def head(conn: Connection) -> tuple[int, str]:
    """``(rows, head hash)`` of the trail as its anchor records them (``(0, GENESIS)`` if empty).

    Printed in reports so that a paper copy anchors the chain outside the database: the chain
    itself is unkeyed, so only an external copy of its head reveals a wholesale rewrite.
    """
    from sqlalchemy import select

    anchor = conn.execute(select(audit_anchor_table)).mappings().first()
    return (anchor["row_count"], anchor["head_hash"]) if anchor else (0, GENESIS)


def verify(conn: Connection, *, max_problems: int = 100) -> VerifyReport:
    """Re-compute the chain; name every row edited, removed or out of order."""
    from sqlalchemy import select

    problems: list[str] = []
    expected_seq, prev = 1, GENESIS
    n = 0
    result = conn.execute(select(audit_table).order_by(audit_table.c.seq)).mappings()
    for row in result:
        n += 1
        seq = row["seq"]
        where = f"audit row seq={seq} (audit_id {row['audit_id']}, {row['ts_utc']})"
        if seq != expected_seq:
            if seq > expected_seq:
                missing = f"{expected_seq}" if seq == expected_seq + 1 else \
                    f"{expected_seq}–{seq - 1}"
                problems.append(f"audit row(s) seq={missing} removed (next present: seq={seq})")
            else:
                problems.append(f"{where}: sequence out of order")
        if row["hash"] != row_hash(dict(row)):
            problems.append(f"{where}: content does not match its hash (row edited or reordered)")
        elif row["prev_hash"] != prev:
            problems.append(f"{where}: does not follow the previous row in the chain "
                            "(rows removed, inserted or reordered before it)")
        prev, expected_seq = row["hash"], seq + 1
        if len(problems) >= max_problems:
            break
    anchor = conn.execute(select(audit_anchor_table)).mappings().first()
    if len(problems) < max_problems:
        if anchor is None and n:
            problems.append("audit anchor missing")
        elif anchor is not None and (anchor["row_count"] != n or anchor["head_hash"] != prev):
            problems.append(
                f"audit trail ends at row {n} but its anchor records {anchor['row_count']} rows "
                f"(newest rows removed or the anchor edited)")
    return VerifyReport(rows=n, head_hash=prev, problems=problems)


def history(conn: Connection, *, subject: str | None = None, record_type: str | None = None,
            limit: int | None = None) -> list[dict[str, Any]]:
    """Audit rows in order, optionally filtered by subject and/or record type."""
    from sqlalchemy import select

    q = select(audit_table).order_by(audit_table.c.seq)
    if subject:
        q = q.where(audit_table.c.subject_id == subject)
    if record_type:
        q = q.where(audit_table.c.record_type == record_type)
    if limit:
        q = q.limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]
