"""Live sessions of a meeting: `/wg live start M<n>`, `/wg live end` (convener), and the helpers every
live command shares (the group's session, attendance, durations).

One live session per group at a time: `LiveSession.active_wg_id` holds the group's id while live and
its unique index refuses a second one, even from another process. The Q&A queue is in live_qa.py,
quick polls in live_poll.py, pause rounds in live_pause.py, the minutes in live_minutes.py.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine import cancel_jobs, schedule
from bot.errors import UserError
from bot.reply import Actions, Button, Context, Fields, Heading, Reply, Response, Text
from bot.services.context import SHOW_HANDLERS, Ctx, command, shows
from bot.services.meetings import get_meeting, next_start
from bot.timefmt import fmt, localize
from storage.models import LiveAttendance, LivePause, LiveSession, Meeting, Member, ScheduledJob

NO_SESSION = "No live session is running. A convener starts one with /wg live start M<n>."
MIN_SPAN = timedelta(seconds=30)
MAX_SPAN = timedelta(days=1)
_SPAN = re.compile(r"^\s*(\d{1,6})\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?)?\s*$", re.I)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def span(raw: str | None, default: timedelta, what: str, usage: str) -> timedelta:
    """`for:` of a poll or pause: `90s`, `2m`, `1h`, bare minutes; between 30 seconds and a day."""
    if raw is None or not raw.strip():
        return default
    m = _SPAN.match(raw)
    if not m:
        raise UserError(f"Cannot read `{raw[:30]}` as a duration; write e.g. for:90s, for:2m or for:1h.", usage)
    unit = (m.group(2) or "m").lower()
    value = timedelta(**{_UNITS[unit[0]]: int(m.group(1))})
    if value < MIN_SPAN:
        raise UserError(f"A {what} lasts at least 30 seconds (for:{raw.strip()[:20]} is shorter).", usage)
    if value > MAX_SPAN:
        raise UserError(f"A {what} lasts at most a day (for:{raw.strip()[:20]} is longer).", usage)
    return value


def span_words(d: timedelta) -> str:
    s = int(d.total_seconds())
    if s % 3600 == 0:
        return f"{s // 3600} h"
    if s % 60 == 0:
        return f"{s // 60} min"
    return f"{s} s" if s < 60 else f"{s // 60} min {s % 60} s"


async def current_session(ctx: Ctx) -> LiveSession | None:
    wg = ctx.require_wg()
    q = select(LiveSession).where(LiveSession.active_wg_id == wg.id)
    return (await ctx.session.exec(q)).first()


async def require_live(ctx: Ctx) -> LiveSession:
    live = await current_session(ctx)
    if live is None:
        raise UserError(NO_SESSION)
    return live


async def attend(ctx: Ctx, live: LiveSession, member: Member) -> bool:
    """Record that `member` attends, from the platform they spoke on (once per platform); True when new.

    Attendance is whoever said so (`/wg live here`, the "I'm here" button) or took part: asked,
    upvoted, voted in a quick poll, reacted in a pause round (or started the session)."""
    platform = ctx.cmd.user.platform
    q = select(LiveAttendance.id).where(
        LiveAttendance.session_id == live.id,
        LiveAttendance.member_id == member.id,
        LiveAttendance.platform == platform,
    )
    if (await ctx.session.exec(q)).first() is None:
        ctx.session.add(
            LiveAttendance(
                session_id=live.id,  # type: ignore[arg-type]
                member_id=member.id,  # type: ignore[arg-type]
                platform=platform,
                stakeholder_group=member.stakeholder_group,
                at=ctx.now,
            )
        )
        await ctx.session.flush()
        return True
    return False


async def meeting_title(session: AsyncSession, live: LiveSession) -> str:
    m = await session.get(Meeting, live.meeting_id)
    return f"M{m.number} “{m.title}”" if m else "the meeting"


@command("live.start")
async def live_start(ctx: Ctx) -> Reply:
    member = ctx.require_convener("start a live session")
    wg = ctx.require_wg()
    m = await get_meeting(ctx, ctx.cmd.positionals[0])
    if m.status == "cancelled":
        raise UserError(f"M{m.number} was cancelled; schedule a meeting to run it live.")
    running = await current_session(ctx)
    if running is not None:
        title = await meeting_title(ctx.session, running)
        raise UserError(f"A live session of {title} is already running; end it first with /wg live end.")
    live = LiveSession(
        wg_id=wg.id,  # type: ignore[arg-type]
        active_wg_id=wg.id,
        meeting_id=m.id,  # type: ignore[arg-type]
        started_by=member.id,
        started_at=ctx.now,
    )
    try:
        async with ctx.session.begin_nested():
            ctx.session.add(live)
            await ctx.session.flush()
    except IntegrityError:
        raise UserError("A live session is already running; end it first with /wg live end.") from None
    await attend(ctx, live, member)
    from bot.services.live_board import post_queue

    occurrence = next_start(m, ctx.now)
    card = Reply(
        blocks=[
            Heading(text=f"Live now: M{m.number} “{m.title}”"),
            Text(
                text="Ask a question: /wg ask <question> [anonymous] · upvote: /wg upvote Q<n> · "
                "the queue: /wg queue · react in a pause round: /wg react <text>"
            ),
            Fields(items=[("Started", fmt(ctx.now, wg.timezone))]),
            Actions(elements=[Button(label="I'm here", action="live here", style="primary")]),
            Context(
                text="Attending? The button or /wg live here (observers too) · "
                + (f"occurrence of {fmt(occurrence, wg.timezone)}" if occurrence else f"M{m.number}")
            ),
        ]
    )
    await ctx.announce(card, key=f"live:{live.id}:start")
    await post_queue(ctx.session, live, ctx.now)
    return Reply.text(f"Live session of M{m.number} started and announced in every bound channel.", private=True)


@command("live.here")
async def live_here(ctx: Ctx) -> Reply:
    """Attendance: "I'm here" on the start announcement, or typed. Observers attend too: marking
    attendance writes nothing anyone else reads as their contribution."""
    member = ctx.require_member()
    live = await require_live(ctx)
    title = await meeting_title(ctx.session, live)
    platform = ctx.cmd.user.platform
    if await attend(ctx, live, member):
        return Reply.text(f"You are marked as attending {title} (from {platform}).", private=True)
    return Reply.text(f"You were already marked as attending {title} from {platform}.", private=True)


@command("live.end")
async def live_end(ctx: Ctx) -> Reply:
    """End the session now; its minutes come from the `live.minutes` job, due at once.

    A pause round still open is cut short: its closing job is brought forward to now, so that its
    synthesis is made as any round's is (by the model when one is configured, asked before the job's
    transaction) and it runs before the minutes job (the engine takes due jobs in order), which then
    includes it. Both jobs are rows in the database: a restart in between loses neither."""
    from bot.services.live_board import edit_queue

    ctx.require_convener("end a live session")
    wg = ctx.require_wg()
    live = await require_live(ctx)
    pause = (
        await ctx.session.exec(select(LivePause).where(LivePause.session_id == live.id, LivePause.status == "open"))
    ).first()
    if pause is not None and pause.closes_at > ctx.now:
        pause.closes_at = ctx.now
        ctx.session.add(pause)
        await ctx.session.exec(
            update(ScheduledJob)
            .where(col(ScheduledJob.key) == f"live-pause:{pause.id}:close", col(ScheduledJob.status) == "pending")
            .values(due_at=ctx.now, not_before=ctx.now)
        )
    live.active_wg_id, live.ended_at = None, ctx.now
    ctx.session.add(live)
    await ctx.session.flush()
    # the queue message, a last time: its final state, without buttons
    await cancel_jobs(ctx.session, f"live-queue:{live.id}", ctx.now, "the live session ended")
    await edit_queue(ctx.session, live, ctx.now, key=f"live:{live.id}:queue-final")
    await schedule(
        ctx.session,
        kind="live.minutes",
        key=f"live:{live.id}:minutes",
        due_at=ctx.now,
        now=ctx.now,
        wg_id=wg.id,
        ref=f"live:{live.id}",
        payload={"session_id": live.id},
    )
    return Reply.text(
        "Live session ended; the minutes follow in every channel and are archived with the meeting.", private=True
    )


_show_meeting = SHOW_HANDLERS.get("M")


@shows("M")
async def show_meeting_with_minutes(ctx: Ctx, number: int) -> Response | Reply:
    """`/wg show M<n>`: the meeting page, then the minutes of its past live sessions."""
    assert _show_meeting is not None, "bot.services.meetings registers /wg show M<n>"
    page = await _show_meeting(ctx, number)
    if not isinstance(page, Reply):
        return page
    m = await get_meeting(ctx, f"M{number}")
    q = (
        select(LiveSession)
        .where(LiveSession.meeting_id == m.id, col(LiveSession.minutes).is_not(None))
        .order_by(col(LiveSession.started_at))
    )
    for past in (await ctx.session.exec(q)).all():
        minutes = localize(past.minutes or "", ctx.tz)
        page.blocks.append(Text(text=f"Past session {fmt(past.started_at, ctx.tz)} — minutes:\n{minutes}"))
    return page
