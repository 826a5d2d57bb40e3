"""web: a link generation per group, signed into the e-mails' links, so `/wg web link rotate` also
revokes the answer and confirmation links already sent (unsubscribe links keep working)

Existing groups start at generation 0, which is also what links signed before this revision (without
the field) count as: they keep working until the group's links are next rotated.

Revision ID: 0016_link_generation
Revises: 0015_anonymous_questions
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_link_generation"
down_revision: str | None = "0015_anonymous_questions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("web_access", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link_generation", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("web_access", schema=None) as batch_op:
        batch_op.drop_column("link_generation")
