"""action items: A<n> from thread summaries and live minutes, with their owners by member id

Revision ID: 0013_action_items
Revises: 0012_outbox_pages
Create Date: 2026-11-30 00:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0013_action_items"
down_revision: str | None = "0012_outbox_pages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "action_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wg_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("source_ref", sqlmodel.sql.sqltypes.AutoString(length=240), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("link", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("owners", sa.JSON(), nullable=False),
        sa.Column("people", sa.JSON(), nullable=False),
        sa.Column("due", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("closed", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
        sa.Column("closed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["closed_by"], ["members.id"], name=op.f("fk_action_items_closed_by_members")),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_action_items_meeting_id_meetings")),
        sa.ForeignKeyConstraint(["wg_id"], ["working_groups.id"], name=op.f("fk_action_items_wg_id_working_groups")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_items")),
        sa.UniqueConstraint("wg_id", "number", name=op.f("uq_action_items_wg_id")),
    )
    op.create_index("ix_action_items_source", "action_items", ["wg_id", "source_ref"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_action_items_source", table_name="action_items")
    op.drop_table("action_items")
