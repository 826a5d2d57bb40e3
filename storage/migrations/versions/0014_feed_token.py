"""web: the calendar feed gets its own token, so the feed address never opens the record

Revision ID: 0014_feed_token
Revises: 0013_action_items
Create Date: 2026-11-30 01:15:00
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014_feed_token"
down_revision: str | None = "0013_action_items"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("web_access", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feed_token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    conn = op.get_bind()
    table = sa.table("web_access", sa.column("wg_id", sa.Integer()), sa.column("feed_token", sa.String()))
    for (wg_id,) in conn.execute(sa.select(table.c.wg_id)).all():
        conn.execute(table.update().where(table.c.wg_id == wg_id).values(feed_token=secrets.token_urlsafe(32)))
    with op.batch_alter_table("web_access", schema=None) as batch_op:
        batch_op.alter_column(
            "feed_token", existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        )
        batch_op.create_unique_constraint(batch_op.f("uq_web_access_feed_token"), ["feed_token"])


def downgrade() -> None:
    with op.batch_alter_table("web_access", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_web_access_feed_token"), type_="unique")
        batch_op.drop_column("feed_token")
