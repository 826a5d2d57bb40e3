"""Claim-with-lease, shared by the engine (`scheduled_jobs`) and the outbox dispatcher (`outbox`).

A row is claimable when it is `pending` and due, or when it is in the working state (`running`,
`sending`) and the lease of the worker that took it has lapsed (that worker died or stalled). The
claim selects such rows `FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite serialises writers with BEGIN
IMMEDIATE), moves them to the working state with this worker's id and a fresh lease, and counts the
attempt. It runs in the caller's transaction, so callers add their own conditions (the outbox's
per-destination order) and their own steps (the engine's giving up on exhausted jobs) around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import and_, or_, update
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

Row = TypeVar("Row", bound=SQLModel)


async def claim_due(
    session: AsyncSession,
    model: type[Row],
    *,
    working: str,
    worker_id: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    order_by: Sequence[Any],
    where: Sequence[Any] = (),
) -> list[Row]:
    """Claim up to `limit` due rows of `model` for `worker_id`; returns them in `order_by` order.

    `model` has the columns id, status, not_before, lease_until, claimed_by and attempts."""
    m: Any = model
    due = (
        select(col(m.id))
        .where(*where)
        .where(
            or_(
                and_(col(m.status) == "pending", col(m.not_before) <= now),
                and_(col(m.status) == working, col(m.lease_until) < now),
            )
        )
        .order_by(*order_by)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = [i for i in (await session.exec(due)).all() if i is not None]
    if not ids:
        return []
    await session.exec(
        update(m)
        .where(col(m.id).in_(ids))
        .values(status=working, claimed_by=worker_id, lease_until=now + lease, attempts=col(m.attempts) + 1)
    )
    rows = (await session.exec(select(model).where(col(m.id).in_(ids)).order_by(*order_by))).all()
    return list(rows)
