"""Store: migrations create exactly the schema; SQLite runs with WAL and foreign keys."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from radiotrial.errors import RadiotrialError
from radiotrial.store.engine import current_revision, head_revision
from radiotrial.store.schema import metadata
from radiotrial.store.service import StudyStore


def test_migrations_match_schema(tmp_path):
    with StudyStore(str(tmp_path / "m.db")) as store:
        assert current_revision(store.engine) == head_revision()
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
            assert diff == []
            assert conn.execute(text("pragma journal_mode")).scalar() == "wal"
            assert conn.execute(text("pragma foreign_keys")).scalar() == 1


def test_foreign_keys_enforced(tmp_path):
    from sqlalchemy.exc import IntegrityError

    with (StudyStore(str(tmp_path / "f.db")) as store, pytest.raises(IntegrityError),
          store.transaction() as conn):
        conn.execute(text("insert into lesion (subject_id, lesion_id, organ, role, nodal) "
                          "values ('nobody', 'T01', 'liver', 'target', 0)"))


def test_missing_database_is_refused_for_reading(tmp_path):
    from radiotrial.study.load import load_study

    with pytest.raises(RadiotrialError, match="database not found"):
        load_study(str(tmp_path / "nope.db"))
    StudyStore(str(tmp_path / "empty.db")).close()
    with pytest.raises(RadiotrialError, match="holds no study"):
        load_study(str(tmp_path / "empty.db"))
