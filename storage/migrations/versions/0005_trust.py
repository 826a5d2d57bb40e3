"""trust: workspace ids on channels and identities, group creator, invitations, rate counters

Revision ID: 0005_trust
Revises: 0004
Create Date: 2026-11-29 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0005_trust"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("working_groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("creator_platform", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column("creator_workspace", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column("creator_user_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))

    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("workspace", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False, server_default="")
        )
        batch_op.drop_constraint("uq_channels_platform", type_="unique")
        batch_op.create_unique_constraint("uq_channels_platform", ["platform", "workspace", "channel_id"])

    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("workspace", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False, server_default="")
        )
        batch_op.drop_constraint("uq_identities_wg_id", type_="unique")
        batch_op.create_unique_constraint("uq_identities_wg_id", ["wg_id", "platform", "workspace", "user_id"])

    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wg_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("uses_left", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["members.id"], name=op.f("fk_invitations_created_by_members")),
        sa.ForeignKeyConstraint(["wg_id"], ["working_groups.id"], name=op.f("fk_invitations_wg_id_working_groups")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_invitations_code_hash")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitations_wg_id"), ["wg_id"], unique=False)

    op.create_table(
        "rate_counters",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("window_start", storage.types.UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_rate_counters")),
    )
    with op.batch_alter_table("rate_counters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_counters_window_start"), ["window_start"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rate_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_counters_window_start"))
    op.drop_table("rate_counters")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_wg_id"))
    op.drop_table("invitations")
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_constraint("uq_identities_wg_id", type_="unique")
        batch_op.create_unique_constraint("uq_identities_wg_id", ["wg_id", "platform", "user_id"])
        batch_op.drop_column("workspace")
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_constraint("uq_channels_platform", type_="unique")
        batch_op.create_unique_constraint("uq_channels_platform", ["platform", "channel_id"])
        batch_op.drop_column("workspace")
    with op.batch_alter_table("working_groups", schema=None) as batch_op:
        batch_op.drop_column("creator_user_id")
        batch_op.drop_column("creator_workspace")
        batch_op.drop_column("creator_platform")
