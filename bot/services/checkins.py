"""Check-ins C<n>: a question asked on a schedule, by DM, at that local time in each member's zone.

The rule gives *dates* and `at:` a wall-clock time; each member is asked at that time in their own
zone (or in `tz:` when the convener gives one). Planning per date: a `checkin.plan` job runs before
the earliest zone on Earth (UTC+14) reaches that time and records one `checkin.ask` and one
`checkin.nudge` job per current member, then plans the next date. Members who join later are asked
from the next date on. The nudge goes at the end of the member's day only if they have not answered,
at least two hours after the question (none that day when the question comes too late for that).
Questions and nudges are sent as kind `reminder` (something the bot sends at a time, unprompted).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import recurrence
from bot.emaillinks import sign_buttons
from bot.engine import JobContext, Skip, cancel_jobs, job_handler, schedule
from bot.errors import NotFound, UserError
from bot.outbox import Destination
from bot.reply import Actions, Button, Context, Fields, Heading, Reply, Text
from bot.sanitize import clean, clean_line
from bot.services.context import Ctx, command, dm_destination, parse_ref, shows
from bot.services.meetings import active_members
from bot.timefmt import fmt_date
from bot.timeparse import localize, parse_clock
from bot.vocab import timezone
from storage.models import Checkin, CheckinAnswer, Member, WorkingGroup

MAX_QUESTION = 500
MAX_ANSWER = 4000
#: the earliest zone: its clocks reach a local time first
EARLIEST_OFFSET = timedelta(hours=14)
#: plan a date this long before the earliest zone reaches it
PLAN_AHEAD = timedelta(hours=1)
NUDGE_LOCAL = time(20, 0)
#: a nudge comes at least this long after the question…
NUDGE_GAP = timedelta(hours=2)
#: …at most this long after it, and no later than this before the member's local midnight
NUDGE_WITHIN = timedelta(hours=12)
NUDGE_LAST = timedelta(minutes=30)
CHECKIN_USAGE = '/wg checkin "<question>" every:<rule> [at:<HH:MM>] [tz:<zone>]'


def _start_local(c: Checkin) -> datetime:
    return datetime.combine(date.fromisoformat(c.start_date), parse_clock(c.time_of_day))


def _dates_after(c: Checkin, after_naive: datetime) -> datetime | None:
    """The next occurrence (naive wall-clock) strictly after `after_naive`."""
    rule = recurrence.build(c.rrule, _start_local(c))
    return rule.after(after_naive, inc=False)


def _zone(c: Checkin, member: Member) -> str:
    return c.timezone or member.timezone


def nudge_time(ask_at: datetime, tz: str) -> datetime | None:
    """End of the member's day: 20:00 local, but at least NUDGE_GAP after asking and no later than
    NUDGE_LAST before local midnight (nor NUDGE_WITHIN after asking). None when no such time exists —
    a question asked late in the evening gets no nudge that day rather than one before it or at night."""
    local = ask_at.astimezone(ZoneInfo(tz))
    evening = localize(datetime.combine(local.date(), NUDGE_LOCAL), tz)
    midnight = localize(datetime.combine(local.date() + timedelta(days=1), time(0, 0)), tz)
    at = min(max(evening, ask_at + NUDGE_GAP), ask_at + NUDGE_WITHIN)
    if at > midnight - NUDGE_LAST:
        return None
    return at


async def _schedule_plan(
    session: AsyncSession, c: Checkin, occ: datetime, now: datetime, skip_before: datetime | None
) -> None:
    due = max(occ.replace(tzinfo=None) - EARLIEST_OFFSET - PLAN_AHEAD, now.replace(tzinfo=None))
    due_at = localize(due, "UTC")
    await schedule(
        session,
        kind="checkin.plan",
        key=f"checkin:{c.id}:plan:{occ:%Y-%m-%d}",
        due_at=due_at,
        now=now,
        wg_id=c.wg_id,
        ref=f"checkin:{c.id}",
        payload={
            "checkin_id": c.id,
            "occurrence": occ.isoformat(),
            "skip_before": skip_before.isoformat() if skip_before else None,
        },
    )


async def _get(session: AsyncSession, checkin_id: int) -> tuple[Checkin, WorkingGroup]:
    c = await session.get(Checkin, checkin_id)
    if c is None or c.status != "active":
        raise Skip("the check-in was stopped", status="cancelled")
    wg = await session.get(WorkingGroup, c.wg_id)
    assert wg is not None
    return c, wg


@job_handler("checkin.plan", grace=False)
async def plan_job(ctx: JobContext) -> None:
    c, wg = await _get(ctx.session, ctx.payload["checkin_id"])
    occ = datetime.fromisoformat(ctx.payload["occurrence"])
    skip_before = datetime.fromisoformat(ctx.payload["skip_before"]) if ctx.payload.get("skip_before") else None
    day = f"{occ:%Y-%m-%d}"
    for member in await active_members(ctx.session, wg.id):  # type: ignore[arg-type]
        if member.role == "observer":
            continue  # observers cannot answer: asking them would only earn a refusal
        tz = _zone(c, member)
        ask_at = localize(occ, tz)
        if skip_before is not None and ask_at <= skip_before:
            continue  # already past in this member's zone when the check-in was created
        end_of_day = localize(datetime.combine(occ.date() + timedelta(days=1), time(0, 0)), tz)
        payload = {"checkin_id": c.id, "member_id": member.id, "occurrence": day}
        base = f"checkin:{c.id}:{day}"
        await ctx.schedule(
            kind="checkin.ask", key=f"{base}:ask:m{member.id}", due_at=ask_at, wg_id=c.wg_id,
            ref=f"checkin:{c.id}", useful_until=end_of_day, payload=payload,
        )  # fmt: skip
        nudge_at = nudge_time(ask_at, tz)
        if nudge_at is None:
            continue  # asked too late in the member's day for a nudge after it
        await ctx.schedule(
            kind="checkin.nudge", key=f"{base}:nudge:m{member.id}", due_at=nudge_at, wg_id=c.wg_id,
            ref=f"checkin:{c.id}", useful_until=end_of_day, payload=payload,
        )  # fmt: skip
    nxt = _dates_after(c, occ)
    if nxt is not None:
        await _schedule_plan(ctx.session, c, nxt, ctx.now, None)


def _question(c: Checkin, day: str, *, nudge: bool) -> Reply:
    head = f"Check-in C{c.number}" + (" — still waiting for your answer" if nudge else "")
    return Reply(
        blocks=[
            Heading(text=head),
            Text(text=c.question),
            Context(text=f"For {day}. Answer with /wg answer C{c.number} <your answer>"),
        ],
        kind="reminder",
    )


async def _for(
    session: AsyncSession, dest: Destination, c: Checkin, member: Member, day: str, *, nudge: bool, now: datetime
) -> Reply:
    """The question for `dest`. An e-mail-only member cannot type /wg answer: their e-mail carries a
    signed answer link (a small form on the web record), or, without a public address, says that a
    reply by e-mail gets recorded by a convener (adapters/email/render.py words it)."""
    reply = _question(c, day, nudge=nudge)
    if dest.platform != "email":
        return reply
    reply.blocks[-1] = Context(text=f"For {day}.")
    reply.blocks.append(
        Actions(elements=[Button(label="Answer", action=f"answer C{c.number} date:{day}", style="primary")])
    )
    return await sign_buttons(session, reply, member, now)


async def _member(ctx: JobContext) -> Member:
    member = await ctx.session.get(Member, ctx.payload["member_id"])
    if member is None or member.erased_at is not None:
        raise Skip("the member left", status="cancelled")
    if member.role == "observer":
        raise Skip("the member is an observer and cannot answer", status="cancelled")
    return member


@job_handler("checkin.ask")
async def ask_job(ctx: JobContext) -> None:
    c, _ = await _get(ctx.session, ctx.payload["checkin_id"])
    member = await _member(ctx)
    dest = await dm_destination(ctx.session, member)
    if dest is None:
        raise Skip("the member cannot be reached by DM")
    await ctx.send(
        dest, await _for(ctx.session, dest, c, member, ctx.payload["occurrence"], nudge=False, now=ctx.now), part="dm"
    )


@job_handler("checkin.nudge")
async def nudge_job(ctx: JobContext) -> None:
    c, _ = await _get(ctx.session, ctx.payload["checkin_id"])
    member = await _member(ctx)
    answered = (
        await ctx.session.exec(
            select(CheckinAnswer).where(
                CheckinAnswer.checkin_id == c.id,
                CheckinAnswer.member_id == member.id,
                CheckinAnswer.occurrence == ctx.payload["occurrence"],
            )
        )
    ).first()
    if answered is not None:
        raise Skip("already answered", status="cancelled")
    dest = await dm_destination(ctx.session, member)
    if dest is None:
        raise Skip("the member cannot be reached by DM")
    await ctx.send(
        dest, await _for(ctx.session, dest, c, member, ctx.payload["occurrence"], nudge=True, now=ctx.now), part="dm"
    )


@command("checkin")
async def create_checkin(ctx: Ctx) -> Reply:
    member = ctx.require_convener("schedule check-ins")
    wg = ctx.require_wg()
    opts = ctx.cmd.options
    question = clean_line(ctx.cmd.positionals[0])
    if not question:
        raise UserError("The check-in needs a question in quotes.", CHECKIN_USAGE)
    if len(question) > MAX_QUESTION:
        raise UserError(f"The question is too long ({len(question)} characters; the limit is {MAX_QUESTION}).")
    if not opts.get("every"):
        raise UserError("Say how often with every:<rule>, e.g. every:monday or every:weekday.", CHECKIN_USAGE)
    timed = recurrence.split_time(opts["every"])
    if timed.at is not None and "at" in opts:
        raise UserError("Give the time once: inside every: or with at:, not both.", CHECKIN_USAGE)
    tz = timezone(opts["tz"]) if "tz" in opts else None
    if timed.tz is not None and tz is not None and timed.tz != tz:
        raise UserError(f"Two zones given ({timed.tz} in every:, {tz} in tz:); give one.", CHECKIN_USAGE)
    tz = tz or timed.tz
    at = timed.at or (parse_clock(opts["at"]) if "at" in opts else time(9, 0))
    today = ctx.now.astimezone(ZoneInfo(tz or wg.timezone)).date()
    start_local = datetime.combine(today, at)
    rule = recurrence.parse_rule(timed.rule, start_local)
    number = await ctx.next_number("C")
    c = Checkin(
        wg_id=wg.id,  # type: ignore[arg-type]
        number=number,
        question=question,
        rrule=rule,
        start_date=today.isoformat(),
        time_of_day=f"{at:%H:%M}",
        timezone=tz,
        created_by=member.id,
        created_at=ctx.now,
    )
    ctx.session.add(c)
    await ctx.session.flush()
    first = _dates_after(c, start_local - timedelta(days=1, minutes=1))
    # the first date may already have passed in some zones: those members start with the next one
    while first is not None and localize(first, "Etc/GMT+12") <= ctx.now:
        first = _dates_after(c, first)
    if first is None:
        raise UserError("That rule has no future date; check every:.", CHECKIN_USAGE)
    await _schedule_plan(ctx.session, c, first, ctx.now, ctx.now)
    where = f"{at:%H:%M} {tz}" if tz else f"{at:%H:%M} in each member's own time zone"
    await ctx.announce(
        Reply(
            blocks=[
                Heading(text=f"New check-in C{number}"),
                Text(text=question),
                Fields(
                    items=[
                        ("Asked", f"{recurrence.describe(rule)} at {where}"),
                        ("First", fmt_date(localize(first, "UTC"), "UTC")),
                    ]
                ),
                Context(text=f"You will get it by DM; answer with /wg answer C{number} <text>."),
            ]
        ),
        key=f"checkin:{c.id}:created",
    )
    return Reply.text(f"Check-in C{number} scheduled ({recurrence.describe(rule)} at {where}).", private=True)


@command("checkin.stop")
async def stop_checkin(ctx: Ctx) -> Reply:
    ctx.require_convener("stop check-ins")
    c = await get_checkin(ctx, ctx.cmd.positionals[0])
    if c.status != "active":
        raise UserError(f"C{c.number} is already stopped.")
    c.status = "stopped"
    ctx.session.add(c)
    await ctx.session.flush()
    dropped = await cancel_jobs(ctx.session, f"checkin:{c.id}", ctx.now, "the check-in was stopped")
    await ctx.announce(
        Reply(
            blocks=[
                Heading(text=f"Stopped: check-in C{c.number}"),
                Text(text=c.question),
                Context(text="It will not be asked again; the answers given so far are kept for the digest."),
            ]
        ),
        key=f"checkin:{c.id}:stopped",
    )
    return Reply.text(f"C{c.number} stopped and announced; {dropped} pending job(s) dropped.", private=True)


async def get_checkin(ctx: Ctx, ref: str) -> Checkin:
    wg = ctx.require_wg()
    number = parse_ref(ref, "C", "check-in")
    c = (await ctx.session.exec(select(Checkin).where(Checkin.wg_id == wg.id, Checkin.number == number))).first()
    if c is None:
        raise NotFound(f"There is no check-in C{number} in this working group; /wg todo lists yours.")
    return c


def latest_occurrence(c: Checkin, member: Member, now: datetime) -> str | None:
    """The local date of the most recent time this member was due to be asked, if any."""
    tz = _zone(c, member)
    rule = recurrence.build(c.rrule, _start_local(c))
    naive = rule.before(now.astimezone(ZoneInfo(tz)).replace(tzinfo=None), inc=True)
    if naive is None or localize(naive, tz) < member.joined_at - timedelta(days=1):
        return None
    return f"{naive:%Y-%m-%d}"


@command("answer")
async def answer(ctx: Ctx) -> Reply:
    member, proxy = await ctx.respondent("answer check-ins")
    c = await get_checkin(ctx, ctx.cmd.positionals[0])
    if c.status != "active":
        raise UserError(f"C{c.number} was stopped; it takes no more answers.")
    occurrence = latest_occurrence(c, member, ctx.now)
    if occurrence is None:
        raise UserError(f"C{c.number} has not been asked yet; answer once you get the question.")
    await record_answer(ctx.session, c, member, occurrence, ctx.cmd.rest, ctx.now)
    if proxy:
        return Reply.text(f"{member.display_name}'s answer to C{c.number} ({occurrence}) is recorded.", private=True)
    return Reply.text(f"Thanks — your answer to C{c.number} ({occurrence}) is recorded for the digest.", private=True)


async def record_answer(
    session: AsyncSession, c: Checkin, member: Member, occurrence: str, raw: str, now: datetime
) -> str:
    """Record (or replace) `member`'s answer to the occurrence of `c` asked on `occurrence` (a local
    date): the one code path of `/wg answer` and of the signed answer links in e-mails. Refuses a
    stopped check-in, an occurrence not asked yet, and an empty or too long answer."""
    if c.status != "active":
        raise UserError(f"C{c.number} was stopped; it takes no more answers.")
    latest = latest_occurrence(c, member, now)
    if latest is None or occurrence > latest:
        raise UserError(f"C{c.number} has not been asked for {occurrence} yet; answer once you get the question.")
    text = clean(raw).strip()
    if not text:
        raise UserError("The answer is empty.")
    if len(text) > MAX_ANSWER:
        raise UserError(f"The answer is too long ({len(text)} characters; the limit is {MAX_ANSWER}).")
    existing = (
        await session.exec(
            select(CheckinAnswer).where(
                CheckinAnswer.checkin_id == c.id,
                CheckinAnswer.member_id == member.id,
                CheckinAnswer.occurrence == occurrence,
            )
        )
    ).first()
    if existing is None:
        assert c.id is not None and member.id is not None
        existing = CheckinAnswer(
            checkin_id=c.id, member_id=member.id, occurrence=occurrence, text=text, answered_at=now
        )
    existing.text, existing.answered_at = text, now
    session.add(existing)
    await session.flush()
    return occurrence


@shows("C")
async def show_checkin(ctx: Ctx, number: int) -> Reply:
    c = await get_checkin(ctx, f"C{number}")
    where = f"{c.time_of_day} {c.timezone}" if c.timezone else f"{c.time_of_day} in each member's zone"
    rows = (
        await ctx.session.exec(
            select(CheckinAnswer, Member)
            .join(Member, col(Member.id) == col(CheckinAnswer.member_id))
            .where(CheckinAnswer.checkin_id == c.id)
            .order_by(col(CheckinAnswer.occurrence).desc(), col(CheckinAnswer.id))
        )
    ).all()
    blocks: list = [
        Heading(text=f"C{c.number}: {c.question}"),
        Fields(
            items=[
                ("Asked", f"{recurrence.describe(c.rrule)} at {where}"),
                ("Status", c.status),
                ("Answers", str(len(rows))),
            ]
        ),
    ]
    if rows:
        latest = rows[0][0].occurrence
        lines = [
            f"{m.display_name if m.erased_at is None else 'a former member'}: {a.text}"
            for a, m in rows
            if a.occurrence == latest
        ]
        blocks.append(Text(text=f"Answers for {latest}:\n" + "\n".join(lines[:25])))
    return Reply(blocks=blocks)
