"""`/wg todo`: what still needs the speaker — RSVPs to upcoming meetings, check-ins not answered, votes not
cast, open action items they own; `/wg todo done|reopen A<n>` closes or reopens an action item.

Votes come from bot/services/votes.py, action items from bot/services/action_items.py.
"""

from __future__ import annotations

from sqlmodel import col, select

from bot.reply import Heading, Reply, Text
from bot.services import action_items
from bot.services.context import Ctx, command
from bot.services.meetings import next_start
from bot.services.votes import todo_lines
from bot.timefmt import fmt_short
from storage.models import Checkin, CheckinAnswer, Meeting, Rsvp, ScheduledJob


async def last_asked(ctx: Ctx, checkin_id: int, member_id: int) -> str | None:
    """The date of the last question of this check-in actually sent to the member (its `checkin.ask`
    job done), not merely due by the rule: a member who joined after a date was planned, or whom the
    bot could not reach, was not asked that date."""
    job = (
        await ctx.session.exec(
            select(ScheduledJob)
            .where(
                ScheduledJob.kind == "checkin.ask",
                ScheduledJob.status == "done",
                col(ScheduledJob.key).like(f"checkin:{checkin_id}:%:ask:m{member_id}"),
                col(ScheduledJob.due_at) <= ctx.now,
            )
            .order_by(col(ScheduledJob.due_at).desc())
            .limit(1)
        )
    ).first()
    return str(job.payload.get("occurrence")) if job is not None and job.payload.get("occurrence") else None


@command("todo")
async def todo(ctx: Ctx) -> Reply:
    member = ctx.require_member()
    wg = ctx.require_wg()
    assert wg.id is not None and member.id is not None
    if ctx.cmd.positionals:
        verb = ctx.cmd.positionals[0].strip().lower()
        if verb not in ("done", "reopen"):
            raise ctx.fail(f"`{verb[:20]}`: say done A<n> or reopen A<n>, or nothing to see what waits for you.")
        if len(ctx.cmd.positionals) < 2:
            raise ctx.fail(f"Which action item? e.g. /wg todo {verb} A3")
        said = await action_items.close(
            ctx.session, wg.id, ctx.cmd.positionals[1], member, ctx.now, done=verb == "done"
        )
        return Reply.text(said, private=True)
    lines: list[str] = []
    meetings = (
        await ctx.session.exec(
            select(Meeting).where(Meeting.wg_id == wg.id, Meeting.status == "scheduled").order_by(col(Meeting.number))
        )
    ).all()
    answered = set((await ctx.session.exec(select(Rsvp.meeting_id).where(Rsvp.member_id == member.id))).all())
    for m in meetings:
        start = next_start(m, ctx.now)
        if start is not None and start > ctx.now and m.id not in answered:
            lines.append(
                f"RSVP to M{m.number} “{m.title}” ({fmt_short(start, ctx.tz)}): /wg rsvp M{m.number} yes|no|maybe"
            )
    checkins = (
        await ctx.session.exec(
            select(Checkin).where(Checkin.wg_id == wg.id, Checkin.status == "active").order_by(col(Checkin.number))
        )
    ).all()
    for c in checkins:
        occurrence = await last_asked(ctx, c.id, member.id)  # type: ignore[arg-type]
        if occurrence is None:
            continue
        done = (
            await ctx.session.exec(
                select(CheckinAnswer.id).where(
                    CheckinAnswer.checkin_id == c.id,
                    CheckinAnswer.member_id == member.id,
                    CheckinAnswer.occurrence == occurrence,
                )
            )
        ).first()
        if done is None:
            lines.append(f"Answer C{c.number} “{c.question}” ({occurrence}): /wg answer C{c.number} <text>")
    lines += await todo_lines(ctx, member)
    lines += await action_items.todo_lines(ctx.session, wg.id, member.id, ctx.tz, ctx.now)
    if not lines:
        return Reply.text("Nothing is waiting for you. 🎉", private=True)
    return Reply(blocks=[Heading(text=f"Waiting for you ({len(lines)})"), Text(text="\n".join(lines))], private=True)
