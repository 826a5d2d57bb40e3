"""Per-person limits: nobody can flood the bot, the channels, or guess codes.

Fixed windows counted in the database (`rate_counters`), so a limit holds across every process of a
deployment and across restarts. Three limits, each configurable (0 turns one off):
- commands per person per minute (counted before the command runs, refusals included, so hammering
  the bot with bad commands is limited too; so are unknown commands, unparsable ones and plain words,
  counted before a model is asked to suggest a command);
- announcements a member causes per hour (proposals, amendments, meetings… each posted in every bound
  channel; Slack allows about one message a second per channel, so a flood would delay reminders);
- wrong link or invitation codes per person per hour (guessing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.command import UserRef
from storage.db import counter_upsert, per_dialect
from storage.models import RateCounter


@dataclass(frozen=True)
class Limit:
    count: int
    window: timedelta

    @property
    def off(self) -> bool:
        return self.count <= 0


@dataclass(frozen=True)
class Limits:
    commands: Limit = Limit(30, timedelta(minutes=1))
    announcements: Limit = Limit(30, timedelta(hours=1))
    wrong_codes: Limit = Limit(5, timedelta(hours=1))


def window_start(now: datetime, window: timedelta) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=now.tzinfo)
    return now - (now - epoch) % window


def person_key(kind: str, user: UserRef) -> str:
    return f"{kind}:{user.platform}:{user.workspace}:{user.user_id}"[:200]


@per_dialect
def _hit(dialect: str) -> Any:
    return counter_upsert(dialect, RateCounter, ("key", "window_start"), "count")


async def hit(session: AsyncSession, key: str, limit: Limit, now: datetime) -> int:
    """Count one more event under `key` in the current window; the count so far, this one included.
    (Run once per command: the statement is built once, see `storage.db.per_dialect`.)"""
    params = {"key": key[:200], "window_start": window_start(now, limit.window)}
    # on the transaction's connection: through the ORM session an upsert costs twice the CPU
    conn = await session.connection()
    return int((await conn.execute(_hit(session), params)).scalar_one())


async def used(session: AsyncSession, key: str, limit: Limit, now: datetime) -> int:
    q = select(RateCounter.count).where(
        RateCounter.key == key[:200], RateCounter.window_start == window_start(now, limit.window)
    )
    return int((await session.exec(q)).first() or 0)


def wait_text(now: datetime, limit: Limit) -> str:
    """How long until the window resets, in words."""
    left = window_start(now, limit.window) + limit.window - now
    seconds = max(1, int(left.total_seconds()))
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{(seconds + 59) // 60} minutes"


def per(limit: Limit) -> str:
    return {timedelta(minutes=1): "a minute", timedelta(hours=1): "an hour"}.get(limit.window, f"per {limit.window}")
