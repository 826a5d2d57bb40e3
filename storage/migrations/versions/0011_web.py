"""web: access to each group's public record (private token link, public flag, summaries, link secret)

Revision ID: 0011_web
Revises: 0007_summaries
Create Date: 2026-11-29 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0011_web"
down_revision: str | None = "0007_summaries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_access",
        sa.Column("wg_id", sa.Integer(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("summaries", sa.Boolean(), nullable=False),
        sa.Column("link_secret", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("rotated_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["wg_id"], ["working_groups.id"], name=op.f("fk_web_access_wg_id_working_groups")
        ),
        sa.PrimaryKeyConstraint("wg_id", name=op.f("pk_web_access")),
        sa.UniqueConstraint("token", name=op.f("uq_web_access_token")),
    )


def downgrade() -> None:
    op.drop_table("web_access")
