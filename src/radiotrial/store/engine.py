"""Engine factory and migrations: SQLite file by default (WAL, foreign keys on), any SQLAlchemy URL.

SQLite transactions: the pysqlite driver's own implicit transaction handling is switched off and
radiotrial emits ``BEGIN IMMEDIATE`` itself (SQLAlchemy's documented recipe, "Serializable
isolation / Savepoints / Transactional DDL" for pysqlite), so that an import — DDL included — is one
real transaction that takes the write lock at its start; a killed process leaves the file as before.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from radiotrial.errors import RadiotrialError

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def db_url(db: str | os.PathLike) -> str:
    """SQLAlchemy URL of ``db``: a URL is returned as is, a path becomes ``sqlite:///<abs path>``."""
    text = str(db)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def make_engine(db: str | os.PathLike, *, must_exist: bool = False) -> Engine:
    """An engine for ``db`` with radiotrial's connection settings.

    SQLite: ``journal_mode=WAL``, ``foreign_keys=ON``, ``synchronous=FULL`` (a committed import
    survives power loss too), ``busy_timeout=30 s``. ``must_exist`` refuses a missing SQLite file
    (for read-only uses such as load and export) instead of creating an empty one.
    """
    from sqlalchemy import create_engine, event

    url = db_url(db)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if must_exist and path and path != ":memory:" and not Path(path).is_file():
            raise RadiotrialError(f"database not found: {path} (create it with `radiotrial import`)")
        engine = create_engine(url)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every test
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # pragma: no cover - exercised by every test
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url)


def alembic_config(connection=None):
    """Alembic configuration pointing at the migrations shipped in the package (no alembic.ini)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest migration revision shipped with this radiotrial."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration revision of the database (``None`` for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the database schema to the newest revision, in one transaction."""
    from alembic import command

    if current_revision(engine) == head_revision():
        return
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
