"""Import a study folder into a study database: read → validate → store, one audited transaction.

A failed import writes nothing (all checks run before the transaction; the transaction itself is
all-or-nothing, also when the process is killed). Re-importing the same data and ``study.yaml``
into the database that holds them is a no-op reported as ``unchanged``; importing different data
into a database that already holds a study is refused (corrections go through ``radiotrial edit``,
which records a reason for each change).
"""

from __future__ import annotations

import getpass
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from radiotrial import __version__
from radiotrial.errors import InputError, Problem, RadiotrialError
from radiotrial.store import audit
from radiotrial.store.dictionary import BY_NAME, RECORD_TYPE_NAMES, polars_schema
from radiotrial.store.service import StudyStore
from radiotrial.study.canonical import data_hash, to_text
from radiotrial.study.reader import parse_config, read_folder
from radiotrial.study.validation import ValidationOptions, raise_problems, validate_tables

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl
    from sqlalchemy.engine import Connection

    from radiotrial.study.config import StudyConfig

#: Test hook: seconds to sleep inside the import transaction, after the rows are written and
#: before the commit (used to show that killing the process leaves the database unchanged).
PAUSE_ENV = "RADIOTRIAL_TEST_PAUSE_IMPORT"

#: progress(step description, steps done, steps total)
Progress = Callable[[str, int, int], None]


def default_user() -> str:
    """The user recorded in the audit trail: ``$RADIOTRIAL_USER`` or the login name."""
    user = os.environ.get("RADIOTRIAL_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (containers without a passwd entry)
        return "unknown"


@dataclass
class ImportSummary:
    """What an import did."""

    study_id: str
    db: str
    source: str
    status: str  # "imported" | "unchanged"
    records: dict[str, int] = field(default_factory=dict)
    audit_rows: int = 0
    data_hash: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return asdict(self)


def import_study(folder: Path | str, db: str, *, user: str | None = None,
                 options: ValidationOptions | None = None,
                 progress: Progress | None = None) -> ImportSummary:
    """Validate the study in ``folder`` and store it in ``db`` (path or SQLAlchemy URL).

    Raises :class:`InputError` listing every problem (file, row, column, value, reason) of every
    file, with the database unchanged.
    """
    t0 = time.perf_counter()
    user = user or default_user()
    step = progress or (lambda *_: None)
    total = 4
    raw, config, frames = _read_and_validate(folder, options, step, total)
    digest = data_hash(frames)
    source = f"import:{Path(folder).resolve()}"
    step("storing", 2, total)
    store = StudyStore(db)
    try:
        with store.transaction() as conn:
            existing = store.study_row(conn)
            if existing is not None:
                return _same_or_refuse(store, conn, existing, raw.config_text, digest, db, source,
                                       t0)
            if store.record_count(conn):
                raise RadiotrialError(f"{db} holds records but no study row; "
                                      "use a new database")
            counts = store.insert_frames(conn, frames, list(RECORD_TYPE_NAMES))
            step("auditing", 3, total)
            events = [audit.Event("IMPORT", "study", None, None, "study.yaml", None,
                                  raw.config_text)]
            events += create_events(frames)
            n_audit = audit.append(conn, events, user=user, source=source)
            store.write_study_row(conn, {
                "study_id": config.study_id, "title": config.title,
                "config_yaml": raw.config_text, "data_hash": digest,
                "imported_at": audit.now_utc(), "imported_by": user, "source": source,
                "radiotrial_version": __version__,
            })
            _test_pause()
        step("done", total, total)
    finally:
        store.close()
    return ImportSummary(config.study_id, str(db), source, "imported", counts, n_audit, digest,
                         round(time.perf_counter() - t0, 3))


def validate_study(folder: Path | str, *, options: ValidationOptions | None = None
                   ) -> ImportSummary:
    """Check a study folder exactly as :func:`import_study` would, writing nothing.

    Raises :class:`InputError` listing every problem; on success the summary has status
    ``"valid"``, the record counts and the data hash an import would store.
    """
    t0 = time.perf_counter()
    _, config, frames = _read_and_validate(folder, options, lambda *_: None, 2)
    counts = {name: f.height for name, f in frames.items() if f.height}
    return ImportSummary(config.study_id, "", f"validate:{Path(folder).resolve()}", "valid",
                         counts, 0, data_hash(frames), round(time.perf_counter() - t0, 3))


def _read_and_validate(folder: Path | str, options: ValidationOptions | None,
                       step: Callable[[str, int, int], None], total: int
                       ) -> tuple[Any, StudyConfig, dict[str, pl.DataFrame]]:
    """Read the folder, parse study.yaml and validate every table; all problems together."""
    step("reading", 0, total)
    raw = read_folder(Path(folder))
    step("validating", 1, total)
    problems: list[Problem] = []
    config = None
    try:
        config = parse_config(raw.config_text)
    except InputError as exc:
        problems += exc.problems
    try:
        frames = validate_tables(raw.tables, raw.files, options)
    except InputError as exc:
        problems += exc.problems
    if problems:
        raise_problems(problems)
    assert config is not None
    return raw, config, frames


def _same_or_refuse(store: StudyStore, conn: Connection, existing: dict, config_text: str,
                    digest: str, db: str, source: str, t0: float) -> ImportSummary:
    schemas = {n: polars_schema(rt) for n, rt in BY_NAME.items()}
    current = data_hash(store.read_frames(conn, schemas))
    if current == digest and existing["config_yaml"] == config_text:
        counts = {n: f.height for n, f in store.read_frames(conn, schemas).items() if f.height}
        return ImportSummary(existing["study_id"], str(db), source, "unchanged", counts, 0,
                             digest, round(time.perf_counter() - t0, 3))
    what = "data" if current != digest else "study.yaml"
    raise RadiotrialError(
        f"{db} already holds study {existing['study_id']} (imported {existing['imported_at']} "
        f"from {existing['source'].removeprefix('import:')}) and its {what} differ from this "
        "folder; nothing was imported. Correct single records with `radiotrial edit ... "
        "--reason`, or import into a new database.")


def create_events(frames: dict[str, pl.DataFrame],
                   reason: str | None = None) -> list[audit.Event]:
    """One CREATE event per record, values as canonical JSON text (vectorised encoding)."""
    import polars as pl

    events: list[audit.Event] = []
    for name in RECORD_TYPE_NAMES:
        frame = frames.get(name)
        if frame is None or frame.height == 0:
            continue
        rt = BY_NAME[name]
        text = to_text(frame, rt)
        subj = pl.col("subject_id") if "subject_id" in rt.names else pl.lit(None, pl.String)
        enc = text.select(
            pl.struct(list(rt.key)).struct.json_encode().alias("k"),
            subj.alias("s"),
            pl.struct(rt.names).struct.json_encode().alias("v"),
        )
        events += [audit.Event("CREATE", name, k, s, None, None, v, reason)
                   for k, s, v in enc.iter_rows()]
    return events


def _test_pause() -> None:
    seconds = os.environ.get(PAUSE_ENV)
    if seconds:
        print("radiotrial: import paused inside its transaction", file=sys.stderr, flush=True)
        time.sleep(float(seconds))
