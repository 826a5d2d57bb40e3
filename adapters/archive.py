"""`wgbot digest show`: the archived digests, read back as they were sent."""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import col, select

from bot.whitepaper import UnknownGroup, find_group
from storage.db import Database
from storage.models import Digest, WorkingGroup

_WEEK = re.compile(r"^\d{4}-W\d{2}$")


class ArchiveError(Exception):
    pass


async def resolve_group(db: Database, name: str | None) -> WorkingGroup:
    """The group named `name`, or the only one; a clear error otherwise (never a silent empty result).
    The same rule as every other CLI command that takes `--wg` (bot/whitepaper.py `find_group`)."""
    async with db.session() as s:
        try:
            return await find_group(s, name)
        except UnknownGroup as exc:
            raise ArchiveError(str(exc)) from None


def valid_week(week: str) -> str:
    """`2026-W02` (any case) → `2026-W02`; a malformed or non-existent week is an error."""
    text = week.strip().upper()
    if not _WEEK.match(text):
        raise ArchiveError(f"`{week}` is not an ISO week; write it like 2026-W02")
    year, number = int(text[:4]), int(text[6:])
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        last = date(year, 12, 28).isocalendar().week
        raise ArchiveError(f"`{text}` is not a week: {year} has weeks W01 to W{last}") from None
    return text


async def find_digests(database_url: str, *, wg: str | None, week: str | None) -> list[str]:
    if week is not None:
        week = valid_week(week)
    db = Database(database_url)
    try:
        await db.upgrade()
        group = await resolve_group(db, wg)
        async with db.session() as s:
            q = select(Digest).where(Digest.wg_id == group.id)
            if week is not None:
                q = q.where(Digest.week == week)
            rows = list((await s.exec(q.order_by(col(Digest.period_end), col(Digest.id)))).all())
    finally:
        await db.dispose()
    if not rows:
        which = f"for week {week}" if week else "yet"
        raise ArchiveError(f"no digest of “{group.name}” archived {which}")
    if week is None:
        rows = rows[-1:]
    return [
        f"[{r.trigger}{', late' if r.late else ''}; sent {r.created_at:%Y-%m-%d %H:%M} UTC]\n{r.text}" for r in rows
    ]
