"""The minutes of a live session, written at `/wg live end`: attendance by stakeholder group and
platform, the questions with their upvotes, quick poll results, pause-round syntheses, decisions and
action items, and the balance flag (stakeholder groups not heard from). Archived on the session row
(shown by `/wg show M<n>` and the weekly digest) with its times as UTC stamps, rendered in each
reader's zone when read. Anonymous askers are never named, and an anonymous question is counted
apart from the counts by stakeholder group and platform (in a group where someone is the only member
of their stakeholder group or the only one on a platform, either would name them); asking anonymously
does not record attendance (live_qa.py).

Decisions are the quick polls' outcomes and lines marked as decisions ("decision:", "we agreed");
action items are lines that commit someone ("action:", "I'll …", "we will …") — the same markers the
offline thread summarizer looks for, applied to what was said in the session.
"""

from __future__ import annotations

import re
from collections import Counter

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import bot.digest.live_section  # noqa: F401  (the digest section registers itself)
from bot.engine import JobContext, Skip, cancel_jobs, job_handler
from bot.reply import Block, Context, Fields, Heading, Reply, Text
from bot.services.context import channel_destinations
from bot.services.live_poll import bars
from bot.services.vote_store import stored_result
from bot.timefmt import localize, stamp
from storage.models import (
    LiveAttendance,
    LivePause,
    LivePoll,
    LiveQuestion,
    LiveReaction,
    LiveSession,
    Meeting,
    Member,
    Vote,
    WorkingGroup,
)

_DECISION = re.compile(r"^\s*(decision|decided|resolved)\s*[:\-]|\bwe (have )?(agreed|decided)\b", re.I)
_ACTION = re.compile(r"^\s*(action( item)?|todo|to-do)\s*[:\-]|\b(I'?ll|I will|we'?ll|we will)\b", re.I)


def counts(c: Counter[str]) -> str:
    return ", ".join(f"{k} {n}" for k, n in sorted(c.items())) or "none"


def localized(reply: Reply, tz: str) -> Reply:
    """The minutes for readers in `tz` (a channel: the group's zone)."""
    out = reply.model_copy(deep=True)
    for block in out.blocks:
        if isinstance(block, (Heading, Text, Context)):
            block.text = localize(block.text, tz)
        elif isinstance(block, Fields):
            block.items = [(label, localize(value, tz)) for label, value in block.items]
    return out


async def write_minutes(session: AsyncSession, live: LiveSession) -> Reply:
    """The minutes with their times stored as UTC stamps (`bot.timefmt.stamp`): whoever reads them
    later — `/wg show M<n>`, a digest recipient, the white paper — sees them in their own zone."""
    wg = await session.get(WorkingGroup, live.wg_id)
    meeting = await session.get(Meeting, live.meeting_id)
    assert wg is not None and meeting is not None
    attendance = (await session.exec(select(LiveAttendance).where(LiveAttendance.session_id == live.id))).all()
    people = {a.member_id: a.stakeholder_group for a in attendance}
    by_platform = Counter(a.platform for a in attendance)
    questions = (
        await session.exec(
            select(LiveQuestion)
            .where(LiveQuestion.session_id == live.id)
            .order_by(col(LiveQuestion.upvotes).desc(), col(LiveQuestion.asked_at))
        )
    ).all()
    members = {
        m.id: m for m in (await session.exec(select(Member).where(Member.wg_id == wg.id))).all() if m.id is not None
    }
    blocks: list[Block] = [Heading(text=f"Minutes: M{meeting.number} “{meeting.title}” (live session)")]
    ended = stamp(live.ended_at) if live.ended_at else "—"
    blocks.append(
        Fields(
            items=[
                ("Started", stamp(live.started_at)),
                ("Ended", ended),
                ("Attendance", f"{len(people)} people (said they were here or took part)"),
                ("By stakeholder group", counts(Counter(people.values()))),
                ("By platform", counts(by_platform)),
            ]
        )
    )
    texts: list[str] = []
    if questions:
        answered = sum(q.status == "answered" for q in questions)
        lines = []
        for q in questions:
            m = members.get(q.member_id)
            if q.anonymous:  # neither name nor platform: either could name the only one of their kind
                who = "anonymous"
            else:
                name = m.display_name if m and m.erased_at is None else "a former member"
                who = f"{name}, {q.platform}"
            lines.append(f"Q{q.number} [{q.status}] ▲{q.upvotes} — {q.text} ({who})")
            texts.append(q.text)
        blocks.append(Text(text=f"Questions ({len(questions)} asked, {answered} answered):\n" + "\n".join(lines)))
    decisions: list[str] = []
    polls = (
        await session.exec(
            select(Vote).join(LivePoll, col(LivePoll.vote_id) == col(Vote.id)).where(LivePoll.session_id == live.id)
        )
    ).all()
    if polls:
        lines = []
        for v in sorted(polls, key=lambda v: v.number):
            if v.status == "closed" and v.result is not None:
                r = stored_result(v)
                lines.append(f"V{v.number} “{v.question}”: {r.outcome} ({r.cast} of {r.roll} voted)")
                lines.append(bars(list(v.options), list(r.totals), r.cast))
                decisions.append(f"Poll V{v.number}: {r.outcome}")
            else:
                closes = stamp(v.closes_at or live.started_at)
                lines.append(f"V{v.number} “{v.question}”: still open, closes {closes}")
        blocks.append(Text(text="Quick polls:\n" + "\n".join(lines)))
    pauses = (
        await session.exec(select(LivePause).where(LivePause.session_id == live.id).order_by(col(LivePause.opened_at)))
    ).all()
    reactions: list[LiveReaction] = []
    for p in pauses:
        reactions += (await session.exec(select(LiveReaction).where(LiveReaction.pause_id == p.id))).all()
    if pauses:
        blocks.append(Text(text="Pause rounds:\n" + "\n".join(f"• {p.synthesis or p.prompt}" for p in pauses)))
    texts += [r.text for r in reactions]
    decisions += [t for t in texts if _DECISION.search(t)]
    actions = [t for t in texts if _ACTION.search(t) and not _DECISION.search(t)]
    blocks.append(Text(text="Decisions:\n" + ("\n".join(f"• {d}" for d in decisions) or "• none recorded")))
    blocks.append(Text(text="Action items:\n" + ("\n".join(f"• {a}" for a in actions) or "• none recorded")))
    signed = [q for q in questions if not q.anonymous]
    spoke = Counter([q.stakeholder_group for q in signed] + [r.stakeholder_group for r in reactions])
    via = Counter([q.platform for q in signed] + [r.platform for r in reactions])
    groups = sorted({m.stakeholder_group for m in members.values() if m.erased_at is None})
    silent = [g for g in groups if g not in spoke]
    balance = f"Questions and reactions by stakeholder group: {counts(spoke)} · by platform: {counts(via)}"
    if len(signed) < len(questions):
        balance += f" · anonymous questions: {len(questions) - len(signed)} (counted by neither)"
    if silent:
        balance += " · ⚠ not heard from: " + ", ".join(silent)
    blocks.append(Context(text=balance))
    return Reply(blocks=blocks, kind="summary")


@job_handler("live.minutes", grace=False)
async def minutes_job(ctx: JobContext) -> None:
    """After `/wg live end`: close a round still open (normally its own job, brought forward, has
    closed it first), write the minutes, archive them, note their action items, post them."""
    from bot.services.action_items import record_live_items
    from bot.services.live_pause import close_pause

    live = await ctx.session.get(LiveSession, ctx.payload["session_id"], with_for_update=True)
    if live is None or live.minutes is not None:
        raise Skip("the minutes were already written", status="cancelled")
    wg = await ctx.session.get(WorkingGroup, live.wg_id)
    assert wg is not None and wg.id is not None
    channels = await channel_destinations(ctx.session, wg.id)
    still_open = (
        await ctx.session.exec(select(LivePause).where(LivePause.session_id == live.id, LivePause.status == "open"))
    ).all()
    for pause in still_open:
        await cancel_jobs(ctx.session, f"live-pause:{pause.id}", ctx.now, "closed with the minutes")
        cut = await close_pause(ctx.session, pause, ctx.now, note="the round was closed with the minutes")
        for ch, dest in channels:
            await ctx.send(dest, cut, part=f"pause{pause.id}:ch{ch.id}")
    minutes = await write_minutes(ctx.session, live)
    await record_live_items(ctx.session, live, ctx.now)  # its action items, for the digest and /wg todo
    live.minutes = minutes.to_text()[:20000]  # times as UTC stamps: each reader sees their own zone
    ctx.session.add(live)
    shown = localized(minutes, wg.timezone).model_copy(update={"kind": "summary"})
    for ch, dest in channels:
        await ctx.send(dest, shown, part=f"ch{ch.id}")
