"""Storage layer: SQLAlchemy 2 schema, Alembic migrations, append-only hash-chained audit trail.

Public entry points: :class:`radiotrial.store.service.StudyStore`,
:func:`radiotrial.store.engine.make_engine`, :mod:`radiotrial.store.audit`.
"""
