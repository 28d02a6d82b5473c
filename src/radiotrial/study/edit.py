"""Correct or delete one stored record, with a mandatory reason, through the audit trail.

The changed record is validated like an imported one (types, ranges, units converted, row rules)
and the whole study is re-checked across records inside the same transaction; any problem rolls
the change back. The audit trail gets one UPDATE row per changed field (old and new value as
canonical text) or one DELETE row holding the full previous record.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from radiotrial.errors import InputError, Problem, RadiotrialError
from radiotrial.store.service import StudyStore, json_text
from radiotrial.study.canonical import to_text
from radiotrial.study.dictionary import BY_NAME, ROW, RecordType, polars_schema, record_type
from radiotrial.study.importer import default_user
from radiotrial.study.validation import (
    _parse_expr,
    check_study,
    convert_units,
    parse_table,
    raise_problems,
)


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


def _recheck(store: StudyStore, conn) -> None:
    """Cross-record checks of the whole study after a change (rows named by database id)."""
    import polars as pl
    from sqlalchemy import select

    from radiotrial.store.schema import RECORD_TABLES

    frames = {}
    for n, rt in BY_NAME.items():
        t = RECORD_TABLES[n]
        rows = conn.execute(select(t.c.id, *[t.c[c] for c in rt.names])).all()
        frames[n] = pl.DataFrame([tuple(r) for r in rows],
                                 schema={ROW: pl.Int64, **polars_schema(rt)}, orient="row")
    files = {n: f"{n} (database id)" for n in BY_NAME}
    problems = check_study(frames, files)
    if problems:
        raise_problems(problems, outcome="nothing was changed")
