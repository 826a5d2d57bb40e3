"""Live sessions and per-occurrence RSVPs in members' data rights (bot/privacy.py hooks) and in
`/wg link` merging two members into one.

Export: the member's questions (anonymous ones marked), reactions, upvotes and answers for single
occurrences. Erasure: answers for occurrences, upvotes and attendance rows are deleted (the questions'
upvote counts and the written minutes keep the numbers); questions and reactions stay as contributions
of "a former member"; the member's names are replaced in the archived minutes, as in digests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.privacy import ERASERS, EXPORTERS, FORMER
from storage.models import (
    Identity,
    LiveAttendance,
    LivePause,
    LiveQuestion,
    LiveReaction,
    LiveSession,
    LiveUpvote,
    Meeting,
    Member,
    RsvpOccurrence,
)


async def export_live(session: AsyncSession, member: Member) -> dict[str, Any]:
    questions = (
        await session.exec(
            select(LiveQuestion).where(LiveQuestion.member_id == member.id).order_by(col(LiveQuestion.number))
        )
    ).all()
    reactions = (
        await session.exec(
            select(LivePause, LiveReaction)
            .join(LivePause, col(LivePause.id) == col(LiveReaction.pause_id))
            .where(LiveReaction.member_id == member.id)
            .order_by(col(LiveReaction.id))
        )
    ).all()
    upvotes = (
        await session.exec(
            select(LiveQuestion.number)
            .join(LiveUpvote, col(LiveUpvote.question_id) == col(LiveQuestion.id))
            .where(LiveUpvote.member_id == member.id)
        )
    ).all()
    occurrences = (
        await session.exec(
            select(Meeting, RsvpOccurrence)
            .join(Meeting, col(Meeting.id) == col(RsvpOccurrence.meeting_id))
            .where(RsvpOccurrence.member_id == member.id)
            .order_by(col(Meeting.number), col(RsvpOccurrence.occurrence))
        )
    ).all()
    return {
        "questions": [
            {"id": f"Q{q.number}", "text": q.text, "anonymous": q.anonymous, "status": q.status} for q in questions
        ],
        "reactions": [{"prompt": p.prompt, "text": r.text} for p, r in reactions],
        "upvoted": [f"Q{n}" for n in sorted(upvotes)],
        "rsvps_for_single_occurrences": [
            {"meeting": f"M{m.number}", "date": r.occurrence, "answer": r.answer} for m, r in occurrences
        ],
    }


async def erase_live(session: AsyncSession, member: Member, now: datetime) -> None:
    from bot.privacy import _scrub

    await session.exec(delete(RsvpOccurrence).where(col(RsvpOccurrence.member_id) == member.id))
    await session.exec(delete(LiveUpvote).where(col(LiveUpvote.member_id) == member.id))
    await session.exec(delete(LiveAttendance).where(col(LiveAttendance.member_id) == member.id))
    handles = (await session.exec(select(Identity.handle).where(Identity.member_id == member.id))).all()
    names = sorted({member.display_name, *handles} - {"", FORMER}, key=len, reverse=True)
    for live in (await session.exec(select(LiveSession).where(LiveSession.wg_id == member.wg_id))).all():
        if live.minutes:
            scrubbed = _scrub(live.minutes, names)
            if scrubbed != live.minutes:
                live.minutes = scrubbed
                session.add(live)


EXPORTERS["live"] = export_live
ERASERS.append(erase_live)


async def merge_live(session: AsyncSession, keep: Member, gone: Member, now: datetime) -> None:
    """`/wg link` made `gone` part of `keep` (one person): their questions, reactions, attendance and
    answers for single occurrences move over; where both upvoted one question (or `keep` upvoted a
    question `gone` asked), one upvote is dropped and the count corrected, so one person counts once;
    in a pause round where both reacted, the later reaction stays."""
    assert keep.id is not None and gone.id is not None
    await session.exec(update(LiveQuestion).where(col(LiveQuestion.member_id) == gone.id).values(member_id=keep.id))
    await session.exec(update(LiveAttendance).where(col(LiveAttendance.member_id) == gone.id).values(member_id=keep.id))
    await session.flush()
    own = set((await session.exec(select(LiveQuestion.id).where(LiveQuestion.member_id == keep.id))).all())
    kept = set((await session.exec(select(LiveUpvote.question_id).where(LiveUpvote.member_id == keep.id))).all())
    for up in (await session.exec(select(LiveUpvote).where(LiveUpvote.member_id == gone.id))).all():
        if up.question_id in kept or up.question_id in own:
            await session.delete(up)
            await session.exec(
                update(LiveQuestion)
                .where(col(LiveQuestion.id) == up.question_id)
                .values(upvotes=LiveQuestion.upvotes - 1)
            )
        else:
            up.member_id = keep.id
            session.add(up)
    for q_id in own & kept:  # keep had upvoted a question gone asked: now their own
        await session.exec(
            delete(LiveUpvote).where(col(LiveUpvote.question_id) == q_id, col(LiveUpvote.member_id) == keep.id)
        )
        await session.exec(
            update(LiveQuestion).where(col(LiveQuestion.id) == q_id).values(upvotes=LiveQuestion.upvotes - 1)
        )
    mine = {r.pause_id: r for r in (await session.exec(select(LiveReaction).where(LiveReaction.member_id == keep.id)))}
    for r in (await session.exec(select(LiveReaction).where(LiveReaction.member_id == gone.id))).all():
        other = mine.get(r.pause_id)
        if other is not None and other.at >= r.at:
            await session.delete(r)
            continue
        if other is not None:
            await session.delete(other)
            await session.flush()
        r.member_id = keep.id
        session.add(r)
    dates = set(
        (
            await session.exec(
                select(RsvpOccurrence.meeting_id, RsvpOccurrence.occurrence).where(RsvpOccurrence.member_id == keep.id)
            )
        ).all()
    )
    for o in (await session.exec(select(RsvpOccurrence).where(RsvpOccurrence.member_id == gone.id))).all():
        if (o.meeting_id, o.occurrence) in dates:
            await session.delete(o)
        else:
            o.member_id = keep.id
            session.add(o)
    await session.flush()
    live = (await session.exec(select(LiveSession).where(LiveSession.active_wg_id == keep.wg_id))).first()
    if live is not None:  # upvote counts (and askers' names) may have changed: the queue messages follow
        from bot.services.live_board import queue_changed

        await queue_changed(session, live, now)
