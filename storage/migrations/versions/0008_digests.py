"""digest archive

Revision ID: 0008_digests
Revises: 0005_trust
Create Date: 2026-11-29 21:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types


revision: str = '0008_digests'
down_revision: str | None = '0005_trust'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'digests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('wg_id', sa.Integer(), nullable=False),
        sa.Column('week', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('period_start', storage.types.UTCDateTime(), nullable=False),
        sa.Column('period_end', storage.types.UTCDateTime(), nullable=False),
        sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('late', sa.Boolean(), nullable=False),
        sa.Column('quiet', sa.Boolean(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['wg_id'], ['working_groups.id'], name=op.f('fk_digests_wg_id_working_groups')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_digests')),
    )
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.create_index('ix_digests_wg_week', ['wg_id', 'week'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.drop_index('ix_digests_wg_week')
    op.drop_table('digests')
