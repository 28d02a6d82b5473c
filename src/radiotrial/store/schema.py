"""SQLAlchemy 2 schema: one table per record type (built from the data dictionary), the study
table (study.yaml text and data hash) and the audit trail.

Record tables have a surrogate ``id`` and a unique constraint on the record type's key; references
are foreign keys (subject → site, every subject-level record → subject, measurement → lesion), so
the database itself refuses orphans. Instants are stored as UTC (naive in the column, made aware
again on read; see :class:`UTCDateTime`). The Alembic migrations in ``migrations/versions`` create
exactly this schema; a test compares the two.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

from radiotrial.store.dictionary import RECORD_TYPES, RecordType

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Timezone-aware instants stored as naive UTC; naive input is refused (never guessed)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive instant {value!r}: instants must carry a UTC offset")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


_SQL_TYPES = {
    "code": lambda: String(32), "str": lambda: Text(), "enum": lambda: String(40),
    "int": lambda: Integer(), "float": lambda: Float(precision=53), "bool": lambda: Boolean(),
    "date": lambda: Date(), "instant": lambda: UTCDateTime(),
}


def _record_table(rt: RecordType) -> Table:
    cols: list = [Column("id", Integer, primary_key=True, autoincrement=True)]
    for c in rt.columns:
        fk = []
        if c.ref == "site":
            fk = [ForeignKey("site.site_id")]
        elif c.ref == "subject" and rt.name != "subject":
            fk = [ForeignKey("subject.subject_id")]
        cols.append(Column(c.name, _SQL_TYPES[c.kind](), *fk, nullable=not c.required,
                           comment=c.description[:200] or None))
    extra: list = [UniqueConstraint(*rt.key)]
    if rt.name == "measurement":
        extra.append(ForeignKeyConstraint(["subject_id", "lesion_id"],
                                          ["lesion.subject_id", "lesion.lesion_id"]))
    if "subject_id" in rt.names and rt.key != ("subject_id",) and rt.key[0] != "subject_id":
        extra.append(Index(None, "subject_id"))
    return Table(rt.name, metadata, *cols, *extra, comment=rt.description)


#: Record tables by record type name.
RECORD_TABLES: dict[str, Table] = {rt.name: _record_table(rt) for rt in RECORD_TYPES}

study_table = Table(
    "study", metadata,
    Column("study_id", String(40), primary_key=True),
    Column("title", Text, nullable=False),
    Column("config_yaml", Text, nullable=False, comment="study.yaml as imported (verbatim)"),
    Column("data_hash", String(64), nullable=False, comment="SHA-256 of the data at import"),
    Column("imported_at", String(32), nullable=False, comment="UTC, ISO 8601 ...Z"),
    Column("imported_by", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("radiotrial_version", String(40), nullable=False),
)

#: Audit trail (spec/data-management.md §2): one immutable row per item-level event.
audit_table = Table(
    "audit_log", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("audit_id", String(36), nullable=False, unique=True),
    Column("ts_utc", String(32), nullable=False),
    Column("user_name", Text, nullable=False),
    Column("action", String(20), nullable=False),
    Column("record_type", String(40), nullable=False),
    Column("record_key", Text, nullable=True),
    Column("subject_id", String(32), nullable=True, index=True),
    Column("field", String(64), nullable=True),
    Column("old_value", Text, nullable=True),
    Column("new_value", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Column("source", Text, nullable=False),
    Column("software_version", String(40), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

#: Head of the hash chain (row count and last hash), updated in the same transaction as every
#: append, so that removing the newest audit rows is detected too.
audit_anchor_table = Table(
    "audit_anchor", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("row_count", Integer, nullable=False),
    Column("head_hash", String(64), nullable=False),
)
