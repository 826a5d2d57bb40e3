"""The daily retention purge, through the engine: cached thread text and summaries older than
`WGBOT_RETENTION_DAYS` (default 180) are deleted once a day, exactly once across processes.

What to purge is registered by the capability that caches it (`@purger("thread summaries")`), so
this job needs no change when one lands; each purger deletes rows older than the cutoff and says
how many. One `retention.purge` job is pending at a time (daily at 03:00 UTC), planned at start-up
and by each run for the next day; a run missed during downtime runs late, once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine import JobContext, job_handler, schedule
from storage.db import Database
from storage.models import ScheduledJob

log = logging.getLogger(__name__)
KIND = "retention.purge"
AT = time(3, 0)

Purger = Callable[[AsyncSession, datetime], Awaitable[int]]
PURGERS: dict[str, Purger] = {}


def purger(name: str) -> Callable[[Purger], Purger]:
    def register(fn: Purger) -> Purger:
        PURGERS[name] = fn
        return fn

    return register


def next_run(after: datetime) -> datetime:
    day = after.astimezone(UTC).date()
    at = datetime.combine(day, AT, tzinfo=UTC)
    return at if at > after else at + timedelta(days=1)


async def plan(session: AsyncSession, now: datetime, days: int, *, after: datetime | None = None) -> bool:
    due = next_run(after or now)
    return await schedule(
        session, kind=KIND, key=f"retention:{due:%Y%m%d}", due_at=due, now=now, payload={"days": days}
    )


async def ensure_planned(db: Database, now: datetime, days: int) -> None:
    async with db.transaction() as s:
        pending = (
            await s.exec(
                select(ScheduledJob.id).where(
                    ScheduledJob.kind == KIND, col(ScheduledJob.status).in_(("pending", "running"))
                )
            )
        ).first()
        if pending is None:
            await plan(s, now, days)


@job_handler(KIND, grace=False)
async def purge_job(ctx: JobContext) -> None:
    days = int(ctx.payload.get("days", 180))
    cutoff = ctx.now - timedelta(days=days)
    done = []
    for name, fn in sorted(PURGERS.items()):
        n = await fn(ctx.session, cutoff)
        if n:
            done.append(f"{n} {name}")
    await plan(ctx.session, ctx.now, days, after=max(ctx.now, ctx.job.due_at))
    note = f"purged older than {days} days: {', '.join(done) or 'nothing'}"
    ctx.notes.append(note)
    if done:
        log.info("retention: %s", note)
