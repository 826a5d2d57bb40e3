"""Live sessions' minutes in the weekly digest (each session that ended in the period) and in the
white paper (every session), as archived at `/wg live end` — so an erased member's name is already
replaced there. The archived times are UTC stamps: each digest recipient reads them in their own zone,
the white paper in the group's."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.digest.sections import Period, Section, section
from bot.timefmt import fmt_date, fmt_short, localize
from bot.whitepaper import EXTRA_SECTIONS, Block
from storage.models import LiveSession, Meeting, WorkingGroup


@section(45, "live")
async def live_section(session: AsyncSession, wg: WorkingGroup, period: Period) -> Section | None:
    rows = (
        await session.exec(
            select(LiveSession, Meeting)
            .join(Meeting, col(Meeting.id) == col(LiveSession.meeting_id))
            .where(
                LiveSession.wg_id == wg.id,
                col(LiveSession.ended_at) >= period.start,
                col(LiveSession.ended_at) < period.end,
                col(LiveSession.minutes).is_not(None),
            )
            .order_by(col(LiveSession.ended_at))
        )
    ).all()
    if not rows:
        return None

    def lines(tz: str) -> list[str]:
        out: list[str] = []
        for live, m in rows:
            out.append(f"M{m.number} “{m.title}”, live {fmt_short(live.started_at, tz)}:")
            body = (live.minutes or "").splitlines()[1:]  # the heading repeats the meeting
            out += [f"  {localize(line, tz)}" for line in body if line.strip()]
        return out

    return Section("Live sessions (minutes)", lines)


async def whitepaper_sessions(session: AsyncSession, wg: WorkingGroup) -> list[Block]:
    """The white paper's "Live sessions" section: each session's minutes, oldest first, with times in
    the group's zone (the paper is one text for all readers; it says which zone)."""
    rows = (
        await session.exec(
            select(LiveSession, Meeting)
            .join(Meeting, col(Meeting.id) == col(LiveSession.meeting_id))
            .where(LiveSession.wg_id == wg.id, col(LiveSession.minutes).is_not(None))
            .order_by(col(LiveSession.started_at), col(LiveSession.id))
        )
    ).all()
    if not rows:
        return []
    tz = wg.timezone
    blocks = [Block("h2", "Live sessions"), Block("p", f"Times are in the group's time zone, {tz}.")]
    for live, m in rows:
        blocks.append(Block("h3", f"M{m.number} {m.title}, {fmt_date(live.started_at, tz)}"))
        body = [localize(line.strip(), tz) for line in (live.minutes or "").splitlines()[1:] if line.strip()]
        blocks.append(Block("ul", items=body))
    return blocks


EXTRA_SECTIONS.append(whitepaper_sessions)
