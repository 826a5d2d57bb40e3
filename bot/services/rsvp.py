"""`/wg rsvp M<n> yes|no|maybe [date:<YYYY-MM-DD>|all] [for:<member>]`: answers to meetings.

An answer without `date:` is for the meeting (for a series: every occurrence); `date:` answers one
occurrence of a series and overrides the series answer for that date only (`RsvpOccurrence`), so a
reminder's buttons (which carry their occurrence's date) and reminders themselves
(`meetings.occurrence_answers`) follow it; `date:all` answers the whole series again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import recurrence
from bot.errors import UserError
from bot.reply import Reply, Response
from bot.services.context import Ctx, command
from bot.services.meetings import (
    RSVP_ANSWERS,
    get_meeting,
    meeting_card,
    next_start,
    occurrence_date,
    series_start_local,
)
from bot.timefmt import fmt
from storage.models import Meeting, Member, Rsvp, RsvpOccurrence


@command("rsvp")
async def rsvp(ctx: Ctx) -> Response | Reply:
    member, proxy = await ctx.respondent("answer meeting invitations")
    wg = ctx.require_wg()
    m = await get_meeting(ctx, ctx.cmd.positionals[0])
    answer = ctx.cmd.positionals[1].strip().lower()
    if answer not in RSVP_ANSWERS:
        raise UserError(f"Answer yes, no or maybe (not `{answer[:20]}`).", ctx.spec_usage)
    date = ctx.cmd.options.get("date", "").strip().lower()
    at = await record(ctx.session, m, member, answer, date, ctx.now)
    whose = f"{member.display_name}'s" if proxy else "Your"
    if at is not None:
        confirm = Reply.text(
            f"{whose} answer to M{m.number} “{m.title}” on {fmt(at, ctx.tz)}: {answer} (that date only).",
            private=True,
        )
        return Response(replies=[confirm]) if ctx.cmd.from_action else confirm
    series = " (for the whole series)" if m.rrule else ""
    confirm = Reply.text(f"{whose} answer to M{m.number} “{m.title}”: {answer}{series}.", private=True)
    if ctx.cmd.from_action:
        card = await meeting_card(ctx.session, m, wg, wg.timezone, ctx.now)
        return Response(update=card, replies=[confirm])
    return confirm


def answerable(m: Meeting, now: datetime) -> None:
    """Refuse (UserError) when `m` takes no answer: cancelled, or over. The signed link's page checks
    it before offering its button, the answer itself again (`record`)."""
    if m.status == "cancelled":
        raise UserError(f"M{m.number} was cancelled; there is nothing to answer.")
    if next_start(m, now) is None:
        raise UserError(f"M{m.number} is over; there is nothing to answer.")


async def record(
    session: AsyncSession, m: Meeting, member: Member, answer: str, date: str, now: datetime
) -> datetime | None:
    """Record `member`'s answer to `m`: for the meeting (a whole series) without `date`, for one
    occurrence with `date:YYYY-MM-DD`, for the whole series again with `date:all`. The one code path of
    the chat command and of the signed links in e-mails (bot/emailactions.py); returns the occurrence's
    start for a dated answer. Answering the same twice just sets the same answer."""
    if answer not in RSVP_ANSWERS:
        raise UserError(f"Answer yes, no or maybe (not `{answer[:20]}`).")
    answerable(m, now)
    if date and date != "all":
        return await _record_occurrence(session, m, member, answer, date, now)
    if date == "all":
        # the whole series: earlier answers for single dates give way to this one
        q = select(RsvpOccurrence).where(RsvpOccurrence.meeting_id == m.id, RsvpOccurrence.member_id == member.id)
        for row in (await session.exec(q)).all():
            await session.delete(row)
    existing = (await session.exec(select(Rsvp).where(Rsvp.meeting_id == m.id, Rsvp.member_id == member.id))).first()
    if existing is None:
        existing = Rsvp(meeting_id=m.id, member_id=member.id, answer=answer, updated_at=now)  # type: ignore[arg-type]
    existing.answer, existing.updated_at = answer, now
    session.add(existing)
    await session.flush()
    return None


async def _record_occurrence(
    session: AsyncSession, m: Meeting, member: Member, answer: str, date: str, now: datetime
) -> datetime:
    """`/wg rsvp M<n> no date:2026-01-15`: an answer for one occurrence of a series."""
    try:
        day = datetime.strptime(date, "%Y-%m-%d").date()
    except ValueError:
        raise UserError(
            f"Write the date as YYYY-MM-DD, or date:all for the whole series (not `{date[:20]}`)."
        ) from None
    if not m.rrule:
        if occurrence_date(m, m.start_at) != date:
            raise UserError(f"M{m.number} takes place on {occurrence_date(m, m.start_at)} only, not on {date}.")
        at = m.start_at
    else:
        zone = ZoneInfo(m.timezone)
        day_start = datetime.combine(day, datetime.min.time(), zone).astimezone(ZoneInfo("UTC"))
        at_or_none = next(
            recurrence.occurrences(m.rrule, series_start_local(m), m.timezone, day_start - timedelta(seconds=1)), None
        )
        if at_or_none is None or occurrence_date(m, at_or_none) != date:
            nxt = next_start(m, now)
            hint = f" The next one is on {occurrence_date(m, nxt)}." if nxt else ""
            raise UserError(f"M{m.number} has no occurrence on {date}.{hint}")
        at = at_or_none
    if at + timedelta(minutes=m.duration_minutes) <= now:
        raise UserError(f"The occurrence of M{m.number} on {date} is over; there is nothing to answer.")
    q = select(RsvpOccurrence).where(
        RsvpOccurrence.meeting_id == m.id, RsvpOccurrence.member_id == member.id, RsvpOccurrence.occurrence == date
    )
    row = (await session.exec(q)).first()
    if row is None:
        row = RsvpOccurrence(meeting_id=m.id, member_id=member.id, occurrence=date, answer=answer, updated_at=now)  # type: ignore[arg-type]
    row.answer, row.updated_at = answer, now
    session.add(row)
    await session.flush()
    return at
