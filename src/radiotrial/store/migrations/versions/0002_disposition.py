"""Disposition record type (CDISC SDTM DS: end of treatment, end of study).

Adds the ``disposition`` table only; existing tables and their rows are untouched, so a database
created at revision 0001 upgrades in place (``StudyStore`` runs the upgrade when it opens a file).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 (written from radiotrial.store.schema, checked by test_store's compare)
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('disposition',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('subject_id', sa.String(length=32), nullable=False, comment='pseudonymous subject code'),
    sa.Column('event', sa.String(length=40), nullable=False, comment='disposition event'),
    sa.Column('date', sa.Date(), nullable=False, comment='date of the event'),
    sa.Column('reason', sa.String(length=40), nullable=False, comment='reason (completed or why discontinued)'),
    sa.Column('note', sa.Text(), nullable=True, comment='note (no identifiers)'),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.subject_id'], name=op.f('fk_disposition_subject_id_subject')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposition')),
    sa.UniqueConstraint('subject_id', 'event', name=op.f('uq_disposition_subject_id_event')),
    comment='Disposition (CDISC SDTM DS): end of treatment and end of study, one row each.'
    )


def downgrade() -> None:
    op.drop_table('disposition')
