"""Meetings M<n>: scheduling, RSVP, reminders across time zones, agenda, ICS, fair slot suggestions.

Reminders are `ScheduledJob`s (see bot/engine.py), planned when a meeting is created or moved:
for a one-off meeting, one job per offset; for a series, the jobs of the next occurrences plus a
`meeting.plan` job at the next start that plans further ahead. A job key carries the meeting's
revision, so moving a meeting voids the old reminders and a moved-back time gets fresh ones.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import ics, recurrence, slots
from bot.emaillinks import sign_buttons
from bot.engine import JobContext, Skip, cancel_jobs, job_handler, schedule
from bot.errors import NotFound, UserError
from bot.reply import Actions, Attachment, Block, Button, Context, Divider, Fields, Heading, Reply, Text
from bot.sanitize import clean_line
from bot.services import web
from bot.services.context import Ctx, channel_destinations, command, dm_destination, parse_ref, shows
from bot.timefmt import fmt, fmt_short
from bot.timeparse import When, parse_duration, parse_offsets, parse_span, parse_when
from storage.models import Meeting, Member, Proposal, Rsvp, RsvpOccurrence, WorkingGroup

MAX_TITLE = 200
MAX_LINK = 500
DEFAULT_REMINDERS = [24 * 60, 60]
DEFAULT_DURATION = 60
#: how many occurrences of a series one planning step may schedule (a guard, not a limit users meet)
MAX_PLANNED = 60
RSVP_ANSWERS = ("yes", "no", "maybe")
MEETING_USAGE = '/wg meeting "<title>" at:<time> [every:<rule>] [duration:<d>] [remind:24h,1h] [link:<url>]'


# ---------------------------------------------------------------- helpers


def valid_link(raw: str) -> str:
    link = raw.strip().strip("<>")
    if not ics.is_clean_link(link):
        raise UserError(
            "A meeting link cannot contain spaces, line breaks or invisible characters; "
            "paste the address alone, e.g. link:https://meet.example.org/abc."
        )
    parts = urlsplit(link)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or len(link) > MAX_LINK or " " in link:
        raise UserError(f"`{raw[:60]}` is not a web link; give one starting with https:// (or http://).")
    return link


def valid_title(raw: str) -> str:
    title = clean_line(raw)
    if not title:
        raise UserError('The meeting needs a title in quotes, e.g. /wg meeting "Monthly call" at:…', MEETING_USAGE)
    if len(title) > MAX_TITLE:
        raise UserError(f"The title is too long ({len(title)} characters; the limit is {MAX_TITLE}).", MEETING_USAGE)
    return title


def span_text(minutes: int) -> str:
    if minutes % 1440 == 0:
        d = minutes // 1440
        return f"{d} day" + ("s" if d > 1 else "")
    if minutes % 60 == 0:
        h = minutes // 60
        return f"{h} hour" + ("s" if h > 1 else "")
    if minutes > 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes} min"


def left_text(minutes: int) -> str:
    """How long until a meeting starts, in words: `2 minutes`, `1 hour`, `1 h 30 min`."""
    if minutes < 60:
        return f"{minutes} minute" + ("s" if minutes != 1 else "")
    return span_text(minutes)


def series_start_local(m: Meeting) -> datetime:
    return m.start_at.astimezone(ZoneInfo(m.timezone))


def next_start(m: Meeting, now: datetime) -> datetime | None:
    """The start of the occurrence in progress or the next one; None when the meeting is over."""
    after = now - timedelta(minutes=m.duration_minutes)
    if not m.rrule:
        return m.start_at if m.start_at > after else None
    return next(recurrence.occurrences(m.rrule, series_start_local(m), m.timezone, after), None)


def previous_start(m: Meeting, before: datetime) -> datetime | None:
    if not m.rrule:
        return m.start_at if m.start_at < before else None
    rule = recurrence.build(m.rrule, series_start_local(m))
    naive = rule.before(before.astimezone(ZoneInfo(m.timezone)).replace(tzinfo=None))
    return recurrence.localize(naive, m.timezone) if naive is not None else None


def when_line(at: datetime, tz: str) -> str:
    """`Thu 8 Jan 2026 14:00 CET (13:00 UTC)`."""
    utc = "" if tz == "UTC" else f" ({at.astimezone(ZoneInfo('UTC')):%H:%M} UTC)"
    return fmt(at, tz) + utc


def rsvp_buttons(m: Meeting, occurrence: datetime | None = None) -> Actions:
    """Yes/No/Maybe; with `occurrence` (a series' reminder) they answer for that date only."""
    date = f" date:{occurrence_date(m, occurrence)}" if occurrence is not None and m.rrule else ""
    return Actions(
        elements=[
            Button(label="Yes", action=f"rsvp M{m.number} yes{date}", style="primary"),
            Button(label="No", action=f"rsvp M{m.number} no{date}"),
            Button(label="Maybe", action=f"rsvp M{m.number} maybe{date}"),
        ]
    )


def occurrence_date(m: Meeting, at: datetime) -> str:
    """An occurrence's name in RSVPs: its local date in the meeting's zone (YYYY-MM-DD)."""
    return at.astimezone(ZoneInfo(m.timezone)).strftime("%Y-%m-%d")


async def occurrence_answers(session: AsyncSession, m: Meeting, at: datetime) -> dict[int, str]:
    """Each member's answer for the occurrence at `at`: their answer for that date, else for the series."""
    answers = await rsvp_map(session, m.id)  # type: ignore[arg-type]
    q = select(RsvpOccurrence).where(
        RsvpOccurrence.meeting_id == m.id, RsvpOccurrence.occurrence == occurrence_date(m, at)
    )
    answers.update({r.member_id: r.answer for r in (await session.exec(q)).all()})
    return answers


async def active_members(session: AsyncSession, wg_id: int) -> list[Member]:
    q = select(Member).where(Member.wg_id == wg_id, col(Member.erased_at).is_(None)).order_by(col(Member.id))
    return list((await session.exec(q)).all())


async def rsvp_map(session: AsyncSession, meeting_id: int) -> dict[int, str]:
    rows = (await session.exec(select(Rsvp).where(Rsvp.meeting_id == meeting_id))).all()
    return {r.member_id: r.answer for r in rows}


async def meeting_card(
    session: AsyncSession, m: Meeting, wg: WorkingGroup, tz: str, now: datetime, *, heading: str | None = None
) -> Reply:
    """The card posted in channels and shown by /wg show: times, RSVP counts, and the RSVP buttons."""
    start = next_start(m, now) or m.start_at
    answers = await rsvp_map(session, m.id)  # type: ignore[arg-type]
    counts = {a: sum(1 for v in answers.values() if v == a) for a in RSVP_ANSWERS}
    fields: list[tuple[str, str]] = [
        ("When", when_line(start, tz)),
        ("Duration", span_text(m.duration_minutes)),
    ]
    if m.rrule:
        fields.append(("Repeats", f"{recurrence.describe(m.rrule)} at {series_start_local(m):%H:%M} {m.timezone}"))
    if m.link:
        fields.append(("Link", m.link))
    if m.remind_minutes:
        fields.append(("Reminders", ", ".join(span_text(x) + " before" for x in m.remind_minutes)))
    fields.append(("RSVP", f"{counts['yes']} yes · {counts['maybe']} maybe · {counts['no']} no"))
    if m.status == "cancelled":
        fields.insert(0, ("Status", "cancelled"))
    blocks: list = [Heading(text=heading or f"M{m.number}: {m.title}"), Fields(items=fields)]
    if m.status != "cancelled":
        blocks.append(rsvp_buttons(m))
    return Reply(blocks=blocks)


async def get_meeting(ctx: Ctx, ref: str) -> Meeting:
    wg = ctx.require_wg()
    number = parse_ref(ref, "M", "meeting")
    m = (await ctx.session.exec(select(Meeting).where(Meeting.wg_id == wg.id, Meeting.number == number))).first()
    if m is None:
        raise NotFound(f"There is no meeting M{number} in this working group.")
    return m


# ---------------------------------------------------------------- planning reminders


def _occurrences_to_plan(m: Meeting, after: datetime) -> tuple[list[datetime], datetime | None]:
    """Occurrences whose reminders must exist now, and when to plan again (a series' next start)."""
    if not m.rrule:
        return ([m.start_at] if m.start_at > after else []), None
    horizon = timedelta(minutes=max(m.remind_minutes, default=0))
    occs: list[datetime] = []
    first: datetime | None = None
    for at in recurrence.occurrences(m.rrule, series_start_local(m), m.timezone, after):
        if first is None:
            first = at
        if at - horizon > first or len(occs) >= MAX_PLANNED:
            break
        occs.append(at)
    return occs, first


async def plan_meeting(session: AsyncSession, m: Meeting, now: datetime, *, after: datetime, late_ok: bool) -> int:
    """Record the reminder jobs for the coming occurrences (idempotent: keyed by revision and time)."""
    assert m.id is not None
    occs, replan_at = _occurrences_to_plan(m, after)
    made = 0
    for occ in occs:
        stamp = occ.strftime("%Y%m%dT%H%MZ")
        for offset in m.remind_minutes:
            due = occ - timedelta(minutes=offset)
            if due <= now and not late_ok:
                continue  # the meeting was scheduled too close for this reminder: nothing was missed
            made += await schedule(
                session,
                kind="meeting.reminder",
                key=f"meeting:{m.id}:r{m.revision}:{stamp}:-{offset}m",
                due_at=due,
                now=now,
                wg_id=m.wg_id,
                ref=f"meeting:{m.id}",
                useful_until=occ,
                payload={"meeting_id": m.id, "revision": m.revision, "start": occ.isoformat(), "offset": offset},
            )
    if replan_at is not None:
        await schedule(
            session,
            kind="meeting.plan",
            key=f"meeting:{m.id}:r{m.revision}:plan:{replan_at:%Y%m%dT%H%MZ}",
            due_at=replan_at,
            now=now,
            wg_id=m.wg_id,
            ref=f"meeting:{m.id}",
            payload={"meeting_id": m.id, "revision": m.revision},
        )
    return made


async def _current(ctx: JobContext) -> tuple[Meeting, WorkingGroup]:
    m = await ctx.session.get(Meeting, ctx.payload["meeting_id"])
    if m is None or m.status == "cancelled":
        raise Skip("the meeting was cancelled", status="cancelled")
    if m.revision != ctx.payload["revision"]:
        raise Skip("the meeting was moved", status="cancelled")
    wg = await ctx.session.get(WorkingGroup, m.wg_id)
    assert wg is not None
    return m, wg


@job_handler("meeting.plan", grace=False)
async def plan_job(ctx: JobContext) -> None:
    m, _ = await _current(ctx)
    # after downtime, reminders already due for a coming occurrence are still sent (late)
    await plan_meeting(ctx.session, m, ctx.now, after=ctx.job.due_at, late_ok=True)


@job_handler("meeting.reminder")
async def reminder_job(ctx: JobContext) -> None:
    m, wg = await _current(ctx)
    start = datetime.fromisoformat(ctx.payload["start"])
    # rounded, not floored: a 2-minute reminder run a few seconds late still says "in 2 minutes"
    left = max(round((start - ctx.now).total_seconds() / 60), 0)
    soon = f"starts in {left_text(left)}" if left else "starts now"
    title = f"Reminder: M{m.number} “{m.title}” {soon}"

    def body(tz: str, *, utc: bool, buttons: bool = True) -> Reply:
        items = [("When", when_line(start, tz) if utc else fmt(start, tz)), ("Duration", span_text(m.duration_minutes))]
        if m.link:
            items.append(("Link", m.link))
        # observers read and attend but cannot RSVP: their reminder carries no buttons they could not use
        rsvp: list[Block] = [rsvp_buttons(m, start)] if buttons else []
        return Reply(
            blocks=[Heading(text=title), Fields(items=items), *rsvp],
            kind="reminder",
        )

    assert wg.id is not None
    for ch, dest in await channel_destinations(ctx.session, wg.id):
        await ctx.send(dest, body(wg.timezone, utc=True), part=f"ch{ch.id}")
    answers = await occurrence_answers(ctx.session, m, start)
    for member in await active_members(ctx.session, wg.id):
        if answers.get(member.id or 0) == "no":
            continue
        dm = await dm_destination(ctx.session, member)
        if dm is None:
            continue
        reply = body(member.timezone, utc=False, buttons=member.role != "observer")
        if dm.platform == "email":  # the buttons become signed links (bot/emaillinks.py)
            reply = await sign_buttons(ctx.session, reply, member, ctx.now)
        await ctx.send(dm, reply, part=f"dm{member.id}")


# ---------------------------------------------------------------- commands


async def _invite_by_email(ctx: Ctx, m: Meeting, wg: WorkingGroup, method: str) -> None:
    from bot.services.invitations import email_invitations  # it builds on this module's helpers

    await email_invitations(ctx.session, m, wg, ctx.now, method=method)


@command("meeting")
async def schedule_meeting(ctx: Ctx) -> Reply:
    member = ctx.require_convener("schedule meetings")
    wg = ctx.require_wg()
    opts = ctx.cmd.options
    title = valid_title(ctx.cmd.positionals[0])
    timed = recurrence.split_time(opts["every"]) if "every" in opts else None
    if timed is not None and timed.at is not None:
        if opts.get("at"):
            raise UserError("Give the time once: inside every: or with at:, not both.", MEETING_USAGE)
        tz = timed.tz or ctx.tz
        today = datetime.combine(ctx.now.astimezone(ZoneInfo(tz)).date(), timed.at)
        first = next(recurrence.occurrences(recurrence.parse_rule(timed.rule, today), today, tz, ctx.now), None)
        if first is None:
            raise UserError("That rule has no occurrence after now; check every:.", MEETING_USAGE)
        when = When(first, tz)
    elif not opts.get("at"):
        raise UserError(
            'Say when with at:<time>, e.g. at:"thursday 14:00", or with a time in the rule: every:"friday 10:00".',
            MEETING_USAGE,
        )
    else:
        when = parse_when(opts["at"], ctx.now, ctx.tz)
    duration = parse_duration(opts["duration"]) if "duration" in opts else timedelta(minutes=DEFAULT_DURATION)
    reminders = parse_offsets(opts["remind"]) if "remind" in opts else list(DEFAULT_REMINDERS)
    link = valid_link(opts["link"]) if "link" in opts else None
    start, rule = when.at, None
    if timed is not None:  # the series starts at its first occurrence on or after `when`
        local = when.at.astimezone(ZoneInfo(when.tz))
        rule = recurrence.parse_rule(timed.rule, local)
        first = recurrence.first_on_or_after(rule, local, when.tz)
        if first is None:
            raise UserError("That rule has no occurrence after the given time; check every:.", MEETING_USAGE)
        start = first
    number = await ctx.next_number("M")
    m = Meeting(
        wg_id=wg.id,  # type: ignore[arg-type]
        number=number,
        title=title,
        start_at=start,
        timezone=when.tz,
        duration_minutes=int(duration.total_seconds() // 60),
        rrule=rule,
        remind_minutes=reminders,
        link=link,
        created_by=member.id,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    ctx.session.add(m)
    await ctx.session.flush()
    await plan_meeting(ctx.session, m, ctx.now, after=ctx.now, late_ok=False)
    card = await meeting_card(ctx.session, m, wg, wg.timezone, ctx.now, heading=f"New meeting M{number}: {title}")
    card.blocks.append(
        Context(text=f"Times in each reader's zone: /wg show M{number} · calendar file: /wg ics M{number}")
    )
    await ctx.announce(card, key=f"meeting:{m.id}:created")
    await _invite_by_email(ctx, m, wg, "REQUEST")
    shifted = f" Note: {when.note}" if when.note else ""
    return Reply.text(
        f"Meeting M{number} scheduled for {when_line(start, ctx.tz)} and announced.{shifted}", private=True
    )


@command("meeting.move")
async def move_meeting(ctx: Ctx) -> Reply:
    ctx.require_convener("move meetings")
    wg = ctx.require_wg()
    m = await get_meeting(ctx, ctx.cmd.positionals[0])
    if m.status == "cancelled":
        raise UserError(f"M{m.number} was cancelled; schedule a new meeting instead.")
    if not ctx.cmd.options.get("at"):
        raise UserError("Say where to move it with at:<time>.", ctx.spec_usage)
    when = parse_when(ctx.cmd.options["at"], ctx.now, ctx.tz)
    old = next_start(m, ctx.now) or m.start_at
    old_rule = f" ({recurrence.describe(m.rrule)})" if m.rrule else ""
    start, rule = when.at, m.rrule
    if rule:
        # the series moves to the new time *and day*: its weekday/day-of-month follow the new start
        local = when.at.astimezone(ZoneInfo(when.tz))
        rule = recurrence.rebase(recurrence.parse_rule(rule, local), local, f"M{m.number}")
        first = recurrence.first_on_or_after(rule, local, when.tz)
        if first is None:
            raise UserError("The meeting's rule has no occurrence after that time.")
        start = first
    m.start_at, m.timezone, m.rrule = start, when.tz, rule
    m.revision += 1
    m.updated_at = ctx.now
    ctx.session.add(m)
    await ctx.session.flush()
    await cancel_jobs(ctx.session, f"meeting:{m.id}", ctx.now, "the meeting was moved")
    await plan_meeting(ctx.session, m, ctx.now, after=ctx.now, late_ok=False)
    card = await meeting_card(ctx.session, m, wg, wg.timezone, ctx.now, heading=f"M{m.number} moved: {m.title}")
    repeats = f", {recurrence.describe(rule)} at {series_start_local(m):%H:%M} {m.timezone}" if rule else ""
    card.blocks.append(
        Context(text=f"Now {when_line(start, wg.timezone)}{repeats}. It was {when_line(old, wg.timezone)}{old_rule}.")
    )
    await ctx.announce(card, key=f"meeting:{m.id}:moved:r{m.revision}")
    await _invite_by_email(ctx, m, wg, "REQUEST")
    shifted = f" Note: {when.note}" if when.note else ""
    return Reply.text(
        f"M{m.number} moved to {when_line(start, ctx.tz)}{repeats}; everyone was told.{shifted}", private=True
    )


@command("meeting.cancel")
async def cancel_meeting(ctx: Ctx) -> Reply:
    ctx.require_convener("cancel meetings")
    m = await get_meeting(ctx, ctx.cmd.positionals[0])
    if m.status == "cancelled":
        raise UserError(f"M{m.number} is already cancelled.")
    m.status = "cancelled"
    m.updated_at = ctx.now
    ctx.session.add(m)
    await ctx.session.flush()
    dropped = await cancel_jobs(ctx.session, f"meeting:{m.id}", ctx.now, "the meeting was cancelled")
    wg = ctx.require_wg()
    when = next_start(m, ctx.now) or m.start_at
    await ctx.announce(
        Reply(
            blocks=[
                Heading(text=f"Cancelled: M{m.number} “{m.title}”"),
                Text(text=f"It was planned for {when_line(when, wg.timezone)}."),
            ]
        ),
        key=f"meeting:{m.id}:cancelled",
    )
    await _invite_by_email(ctx, m, wg, "CANCEL")
    return Reply.text(f"M{m.number} cancelled and announced; {dropped} pending reminder(s) dropped.", private=True)


@shows("M")
async def show_meeting(ctx: Ctx, number: int) -> Reply:
    wg = ctx.require_wg()
    m = await get_meeting(ctx, f"M{number}")
    card = await meeting_card(ctx.session, m, wg, ctx.tz, ctx.now)
    start = next_start(m, ctx.now) or m.start_at
    duration = timedelta(minutes=m.duration_minutes)
    answers = await rsvp_map(ctx.session, m.id)  # type: ignore[arg-type]
    lines, outside = [], 0
    for member in await active_members(ctx.session, wg.id):  # type: ignore[arg-type]
        late = slots.outside_hours(start, duration, member.timezone)
        outside += late
        flag = " ⚠ outside 07:00–22:00" if late else ""
        answer = answers.get(member.id or 0, "no answer")
        lines.append(f"{member.display_name}: {fmt_short(start, member.timezone)} ({member.timezone}) · {answer}{flag}")
    if lines:
        card.blocks.insert(2, Text(text="Local times:\n" + "\n".join(lines)))
        card.blocks.insert(
            3,
            Context(text=f"{outside} of {len(lines)} member(s) outside 07:00–22:00 local time."),
        )
    if feed := await web.feed_line(ctx):
        card.blocks.append(Context(text=feed))
    return card


@command("agenda")
async def agenda(ctx: Ctx) -> Reply:
    wg = ctx.require_wg()
    m = await get_meeting(ctx, ctx.cmd.positionals[0])
    start = next_start(m, ctx.now) or m.start_at
    since = await _last_meeting_before(ctx, start) or m.created_at
    from bot.services.votes import agenda_lines

    voting = await agenda_lines(ctx, start)
    new = (
        await ctx.session.exec(
            select(Proposal)
            .where(Proposal.wg_id == wg.id, col(Proposal.created_at) >= since, Proposal.status == "open")
            .order_by(col(Proposal.number))
        )
    ).all()
    blocks: list = [Heading(text=f"Agenda for M{m.number} “{m.title}” — {fmt(start, ctx.tz)}")]
    n = 1
    if voting:
        blocks.append(Text(text=f"{n}. Open votes\n" + "\n".join(voting)))
        n += 1
    if new:
        blocks.append(
            Text(
                text=f"{n}. New proposals since {fmt_short(since, ctx.tz)}\n"
                + "\n".join(f"   P{p.number} {p.title}" for p in new)
            )
        )
        n += 1
    blocks.append(Text(text=f"{n}. Any other business"))
    if not voting and not new:
        blocks.append(Context(text="No open votes or new proposals since the last meeting."))
    return Reply(blocks=blocks)


async def _last_meeting_before(ctx: Ctx, start: datetime) -> datetime | None:
    wg = ctx.require_wg()
    rows = (await ctx.session.exec(select(Meeting).where(Meeting.wg_id == wg.id, Meeting.status == "scheduled"))).all()
    starts = [p for row in rows if (p := previous_start(row, start)) is not None and p < start]
    return max(starts) if starts else None


@command("ics")
async def ics_file(ctx: Ctx) -> Reply:
    wg = ctx.require_wg()
    m = await get_meeting(ctx, ctx.cmd.positionals[0])
    content = ics.calendar([(m, wg)], ctx.now, name=wg.name).decode("utf-8")
    blocks: list = [
        Text(text=f"M{m.number} “{m.title}” as a calendar file: open it to add the meeting to your calendar."),
        Attachment(filename=ics.filename(m), content=content, mime="text/calendar"),
    ]
    if feed := await web.feed_line(ctx):
        blocks.append(Context(text=feed))
    return Reply(blocks=blocks, private=True)


@command("meeting.suggest")
async def suggest(ctx: Ctx) -> Reply:
    ctx.require_member()
    wg = ctx.require_wg()
    opts = ctx.cmd.options
    duration = parse_duration(opts["duration"]) if "duration" in opts else timedelta(minutes=DEFAULT_DURATION)
    days = 7
    if "within" in opts:
        raw = opts["within"].strip().lower()
        span = timedelta(days=int(raw)) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else parse_span(raw)
        if span < timedelta(days=1) or span > slots.MAX_WITHIN:
            raise UserError("within: must be between 1 and 60 days, e.g. within:14.", ctx.spec_usage)
        days = max(1, int(span.total_seconds() // 86400))
    members = await active_members(ctx.session, wg.id)  # type: ignore[arg-type]
    if not members:
        raise UserError("Nobody has joined yet, so there is nobody to find a time for.")
    if len(members) > slots.MAX_MEMBERS:
        raise UserError(f"This group has over {slots.MAX_MEMBERS} members: too many to weigh every time zone.")
    zones = [mb.timezone for mb in members]
    # CPU-bound (zones × 15-minute samples): off the event loop, so no other group or platform waits
    best = await asyncio.to_thread(slots.suggest, ctx.now, duration, timedelta(days=days), zones)
    blocks: list = [
        Heading(text=f"Suggested slots ({span_text(int(duration.total_seconds() // 60))}, next {days} days)")
    ]
    for i, s in enumerate(best, 1):
        locals_ = ", ".join(
            f"{mb.display_name} {s.start.astimezone(ZoneInfo(mb.timezone)):%H:%M}"
            + (" ⚠" if slots.outside_hours(s.start, duration, mb.timezone) else "")
            for mb in members
        )
        blocks.append(
            Text(
                text=f"{i}. {s.start:%a %d %b %H:%M} UTC ({fmt_short(s.start, ctx.tz)}) — "
                f"{s.outside} of {len(members)} outside 07:00–22:00, {s.night_minutes} night minutes\n   {locals_}"
            )
        )
    blocks += [
        Divider(),
        Context(text=f'Schedule one with /wg meeting "<title>" at:{best[0].start:%Y-%m-%dT%H:%MZ}' if best else ""),
    ]
    return Reply(blocks=blocks, private=True)
