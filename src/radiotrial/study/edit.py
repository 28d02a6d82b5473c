"""Add, correct or delete stored records after the import, always through the audit trail.

Corrections and deletions need a reason. The changed record is validated like an imported one
(types, ranges, units converted, row rules) and the whole study is re-checked across records inside
the same transaction; any problem rolls the change back. The audit trail gets one UPDATE row per
changed field (old and new value as canonical text) or one DELETE row holding the full previous
record.

New records (:func:`add_records`) pass exactly the import checks of ``validation.py`` (the same
``parse_table`` / ``convert_units`` / ``check_study`` calls), with the cross-record checks run on the
stored study plus the new records, and a key already stored refused; they are inserted in one
transaction with one CREATE audit row each (spec/data-management.md §2: "the initial entry has
old_value = NULL").
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from radiotrial.errors import InputError, Problem, RadiotrialError
from radiotrial.store import audit
from radiotrial.store.dictionary import BY_NAME, ROW, RecordType, polars_schema, record_type
from radiotrial.store.service import StudyStore, json_text
from radiotrial.study.canonical import to_text
from radiotrial.study.importer import create_events, default_user
from radiotrial.study.validation import (
    _parse_expr,
    check_study,
    convert_units,
    parse_table,
    raise_problems,
)

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl
    from sqlalchemy.engine import Connection


@dataclass
class EditSummary:
    """What an edit changed: field → (old, new) text; ``deleted`` for deletions."""

    record_type: str
    key: dict[str, str]
    changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    deleted: bool = False


def _typed_key(rt: RecordType, key: Mapping[str, str]) -> dict:
    import polars as pl

    if not key:
        raise RadiotrialError(f"give the record's key: {', '.join(rt.key)} (--key name=value)")
    for k in key:
        if k not in rt.names:
            raise RadiotrialError(f"{rt.name} has no column {k!r}; columns: {', '.join(rt.names)}")
    raw = pl.DataFrame({k: [v] for k, v in key.items()}, schema={k: pl.String for k in key})
    typed = raw.select([_parse_expr(rt.column(k)).alias(k) for k in key]).row(0, named=True)
    bad = [k for k in key if typed[k] is None]
    if bad:
        raise InputError([Problem("--key", None, k, key[k], f"not a valid {rt.column(k).kind}")
                          for k in bad])
    return typed


def edit_record(db: str | os.PathLike, name: str, key: Mapping[str, str],
                changes: Mapping[str, str | None] | None = None, *, reason: str | None,
                user: str | None = None, delete: bool = False, source: str = "cli") -> EditSummary:
    """Update fields of (``changes``: column → new text, ``None``/'' = empty) or delete one record."""
    import polars as pl
    from sqlalchemy.exc import IntegrityError

    if reason is None or not reason.strip():
        raise RadiotrialError("a reason is required to change or delete a record (--reason)")
    rt = record_type(name)
    user = user or default_user()
    changes = dict(changes or {})
    if not delete and not changes:
        raise RadiotrialError("nothing to change: give --set column=value (or --delete)")
    for col in changes:
        if col not in rt.names:
            raise RadiotrialError(f"{rt.name} has no column {col!r}; columns: {', '.join(rt.names)}")
    tkey = _typed_key(rt, key)
    schema = polars_schema(rt)
    with StudyStore(db, create=False) as store:
        try:
            with store.transaction() as conn:
                old = store.get_record(conn, rt.name, tkey)
                old_frame = pl.DataFrame([{n: old[n] for n in rt.names}], schema=schema)
                old_text = to_text(old_frame, rt).row(0, named=True)
                rkey = json_text({k: old_text[k] for k in rt.key})
                subject = old_text.get("subject_id")
                summary = EditSummary(rt.name, {k: old_text[k] for k in rt.key})
                changed_keys = (set(rt.names) if delete else
                                {k for k in changes
                                 if ((changes[k] or "").strip() or None) != old_text.get(k)})
                _refuse_referenced(conn, rt, old, changed_keys, delete)
                if delete:
                    store.delete_record(conn, rt.name, tkey, json_text(old_text), user=user,
                                        reason=reason, source=source, record_key=rkey,
                                        subject_id=subject)
                    summary.deleted = True
                else:
                    _check_unit_change(rt, changes, old_text)
                    new_raw = {**old_text, **{k: (v if v not in ("",) else None)
                                              for k, v in changes.items()}}
                    raw = pl.DataFrame([new_raw], schema={n: pl.String for n in rt.names})
                    typed, probs = parse_table(rt, raw.with_columns(pl.lit(1).alias(ROW)),
                                               "--set")
                    typed, probs2 = convert_units(rt, typed, "--set")
                    if probs or probs2:
                        raise_problems(probs + probs2, outcome="nothing was changed")
                    new_text = to_text(typed.drop(ROW), rt).row(0, named=True)
                    diff = {f: (old_text[f], new_text[f]) for f in rt.names
                            if old_text[f] != new_text[f]}
                    values = {f: typed.get_column(f)[0] for f in diff}
                    store.update_record(conn, rt.name, tkey, values, diff, user=user,
                                        reason=reason, source=source, record_key=rkey,
                                        subject_id=subject)
                    summary.changes = diff
                _recheck(store, conn)
        except IntegrityError as exc:
            raise RadiotrialError(
                f"change refused by the database (duplicate key or a reference that does not "
                f"resolve): {exc.orig}; nothing was changed") from None
    return summary


def key_text(key: Mapping[str, str | None]) -> str:
    """A record key as the user writes it: ``subject_id=P-001, cycle=2``."""
    return ", ".join(f"{k}={v}" for k, v in key.items())


def _refuse_referenced(conn: Connection, rt: RecordType, old: Mapping,
                       changed: set[str], delete: bool) -> None:
    """Refuse, with a clear message, to rename or delete a key that other records reference.

    The references are the foreign keys of ``store/schema.py`` (site ← subject, subject ← every
    subject record, lesion ← measurement); the database would refuse the change anyway, but only
    with "FOREIGN KEY constraint failed".
    """
    from sqlalchemy import func, select

    from radiotrial.store.schema import RECORD_TABLES

    target = RECORD_TABLES[rt.name]
    uses: list[str] = []
    for name, table in RECORD_TABLES.items():
        for fk in table.foreign_key_constraints:
            if fk.referred_table is not target:
                continue
            pairs = [(el.parent, el.column.name) for el in fk.elements]
            if not any(col in changed for _, col in pairs):
                continue
            n = conn.execute(select(func.count()).select_from(table).where(
                *[child == old[col] for child, col in pairs])).scalar_one()
            if n:
                uses.append(f"{n} {name} record(s)")
    if uses:
        what = key_text({k: old[k] for k in rt.key})
        action = ("delete" if delete else
                  f"change {', '.join(sorted(c for c in changed if c in rt.key))} of")
        raise RadiotrialError(
            f"cannot {action} {rt.name} {what}: other records refer to it ({', '.join(uses)}); "
            "change or delete those first; nothing was changed")


def _check_unit_change(rt: RecordType, changes: Mapping[str, str | None],
                       old_text: Mapping[str, str | None]) -> None:
    """A changed unit column must come with every (non-empty) value measured in it: stored values
    are canonical, so a new unit cannot silently re-interpret them."""
    for unit_col in ("unit", "activity_unit"):
        if unit_col not in changes or changes[unit_col] == old_text.get(unit_col):
            continue
        missing = [c.name for c in rt.columns if c.unit == unit_col and c.name not in changes
                   and old_text.get(c.name) is not None]
        if missing:
            raise RadiotrialError(
                f"--set {unit_col}={changes[unit_col]} changes the unit of {', '.join(missing)}: "
                f"give their values in that unit too (--set {missing[0]}=...)")


def _stored_frames(conn: Connection, sign: int = 1,
                   subjects: list[str] | None = None) -> dict[str, pl.DataFrame]:
    """Every stored record type as a typed frame whose ``__row`` is ``sign`` × the database id.

    ``subjects``: only the records of these subjects (sites: all), read in chunks of 500 keys.
    The cross-record rules of ``check_study`` are per subject, so this is all they need.
    """
    import polars as pl
    from sqlalchemy import select

    from radiotrial.store.schema import RECORD_TABLES

    frames = {}
    for n, rt in BY_NAME.items():
        t = RECORD_TABLES[n]
        q = select(t.c.id * sign, *[t.c[c] for c in rt.names])
        if subjects is None or "subject_id" not in rt.names:
            rows = conn.execute(q).all()
        else:
            rows = [r for i in range(0, len(subjects), 500)
                    for r in conn.execute(q.where(t.c.subject_id.in_(subjects[i:i + 500])))]
        frames[n] = pl.DataFrame([tuple(r) for r in rows],
                                 schema={ROW: pl.Int64, **polars_schema(rt)}, orient="row")
    return frames


def _recheck(store: StudyStore, conn: Connection) -> None:
    """Cross-record checks of the whole study after a change (rows named by database id)."""
    files = {n: f"{n} (database id)" for n in BY_NAME}
    problems = check_study(_stored_frames(conn), files)
    if problems:
        raise_problems(problems, outcome="nothing was changed")


# --------------------------------------------------------------------------------------------
# adding records

#: Name used in messages for records given as ``--set column=value`` (one record, no row number).
SET_FILE = "--set"


@dataclass
class AddSummary:
    """What :func:`add_records` stored."""

    record_type: str
    file: str
    records: int
    keys: list[dict[str, str | None]] = field(default_factory=list)
    audit_rows: int = 0


def add_records(db: str | os.PathLike, name: str, raw: pl.DataFrame | Mapping[str, str | None], *,
                file: str = SET_FILE, reason: str | None = None, user: str | None = None,
                source: str = "api") -> AddSummary:
    """Validate new ``name`` records and store them in one audited transaction.

    ``raw``: an all-text table (as read from CSV, optionally with ``__row``) or one record as a
    mapping column → text. Checks are exactly those of the import (types, ranges, required
    values, units converted to canonical, row rules, duplicates, references and cross-record date
    rules against the stored study); a record whose key is already stored is refused (correct it
    with ``radiotrial edit``). Any problem raises :class:`InputError` naming ``file``, row,
    column and value, and nothing is written.
    """
    import polars as pl
    from sqlalchemy.exc import IntegrityError

    rt = record_type(name)
    user = user or default_user()
    reason = reason.strip() if reason and reason.strip() else None
    if isinstance(raw, Mapping):
        if not raw:
            raise RadiotrialError("nothing to add: give --set column=value (or --from-csv)")
        raw = pl.DataFrame({k: [v if v != "" else None] for k, v in raw.items()},
                           schema={k: pl.String for k in raw}).with_columns(
            pl.lit(1, pl.Int64).alias(ROW))
    if raw.height == 0:
        raise RadiotrialError(f"nothing to add: {file} has no data rows")
    typed, probs = parse_table(rt, raw, file)
    typed, unit_probs = convert_units(rt, typed, file)
    new = typed.select(pl.col(ROW).cast(pl.Int64),
                       *[pl.col(c).cast(t) for c, t in polars_schema(rt).items()])
    with StudyStore(db, create=False) as store:
        try:
            with store.transaction() as conn:
                if store.study_row(conn) is None:
                    raise RadiotrialError(f"{db} holds no study yet; load one with "
                                          "`radiotrial import` before adding records")
                # only the subjects concerned (sites: none): the rules are per subject
                subjects = (new.get_column("subject_id").drop_nulls().unique().sort().to_list()
                            if "subject_id" in rt.names else [])
                stored = _stored_frames(conn, sign=-1, subjects=subjects)
                # as in import: every problem at once, cross-record checks on the typed values
                problems = probs + unit_probs + _already_stored(rt, new, stored[rt.name], file)
                frames = {**stored, rt.name: pl.concat([stored[rt.name], new])}
                files = {n: f"{n} (database id)" for n in BY_NAME} | {rt.name: file}
                problems += check_study(frames, files)
                if problems:
                    raise_problems(_located(problems, rt.name, file), outcome="nothing was added")
                values = new.drop(ROW)
                store.insert_frames(conn, {rt.name: values}, [rt.name])
                n_audit = audit.append(conn, create_events({rt.name: values}, reason),
                                       user=user, source=source)
        except IntegrityError as exc:
            raise RadiotrialError(
                f"records refused by the database (duplicate key or a reference that does not "
                f"resolve): {exc.orig}; nothing was added") from None
    keys = to_text(values, rt).select(list(rt.key)).to_dicts()
    return AddSummary(rt.name, file, values.height, keys, n_audit)


def _already_stored(rt: RecordType, new: pl.DataFrame, stored: pl.DataFrame,
                    file: str) -> list[Problem]:
    """New records whose key is already stored (vectorised join on the key)."""
    import polars as pl

    key = list(rt.key)
    hits = new.join(stored.select(*key, (-pl.col(ROW)).alias("__id")), on=key, how="inner")
    last = key[-1]
    return [Problem(file, row, last, v.isoformat() if hasattr(v, "isoformat") else v,
                    f"a {rt.name} record with this key ({', '.join(key)}) is already stored "
                    f"(database id {sid}); correct it with `radiotrial edit`")
            for row, v, sid in hits.select(ROW, last, "__id").iter_rows()]


def _located(problems: list[Problem], name: str, file: str) -> list[Problem]:
    """Name stored records by database id and ``--set`` values without a row number.

    Stored rows carry ``__row = -id`` during the checks so that they never clash with the line
    numbers of the new records.
    """
    import re

    out = []
    for q in problems:
        f, row, reason = q.file, q.row, q.reason
        if row is not None and row < 0:
            f, row = (f"{name} (database id)" if f == file else f), -row
        elif f == SET_FILE:
            row = None
        reason = re.sub(rf"in {re.escape(file)} row -(\d+)", rf"in {name} (database id) row \1",
                        reason)
        reason = re.sub(r" row -(\d+)", r" row \1", reason)
        # references resolve against the stored study, not a file of the import layout
        reason = re.sub(r"\(not in (\w+)\.csv\)", r"(no such \1 record is stored)", reason)
        if file == SET_FILE:
            reason = reason.replace(f"in {SET_FILE} row 1", f"in {SET_FILE}")
        out.append(Problem(f, row, q.field, q.value, reason))
    return out
