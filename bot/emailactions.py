"""What a signed link in an e-mail does (bot/webaccess.py signs and checks it; adapters/web serves
it): answer a meeting invitation, answer a check-in, or stop the e-mailed digest.

The same rules as the chat commands apply (a cancelled or finished meeting takes no answer, a stopped
check-in none, an observer cannot answer, an erased member is nobody). Each function runs inside the
caller's transaction and raises UserError, leaving the data as it was, when it cannot apply."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import UserError
from bot.sanitize import clean
from bot.webaccess import SignedAction
from storage.models import Checkin, CheckinAnswer, Meeting, Member, Rsvp

RSVP_ANSWERS = ("yes", "no", "maybe")
MAX_ANSWER = 4000


async def member_of(session: AsyncSession, action: SignedAction) -> Member:
    member = await session.get(Member, action.member_id)
    if member is None or member.wg_id != action.wg_id or member.erased_at is not None:
        raise UserError("This link is no longer valid.")
    return member


async def rsvp_target(session: AsyncSession, action: SignedAction) -> tuple[Meeting, str]:
    ref, _, answer = action.subject.partition(":")
    if not ref.startswith("M") or not ref[1:].isdigit() or answer not in RSVP_ANSWERS:
        raise UserError("This link is no longer valid.")
    m = (
        await session.exec(select(Meeting).where(Meeting.wg_id == action.wg_id, Meeting.number == int(ref[1:])))
    ).first()
    if m is None:
        raise UserError("This link is no longer valid.")
    return m, answer


async def checkin_target(session: AsyncSession, action: SignedAction) -> tuple[Checkin, str]:
    ref, _, occurrence = action.subject.partition(":")
    if not ref.startswith("C") or not ref[1:].isdigit() or len(occurrence) != 10:
        raise UserError("This link is no longer valid.")
    c = (
        await session.exec(select(Checkin).where(Checkin.wg_id == action.wg_id, Checkin.number == int(ref[1:])))
    ).first()
    if c is None:
        raise UserError("This link is no longer valid.")
    return c, occurrence


async def rsvp(session: AsyncSession, action: SignedAction, now: datetime) -> str:
    from bot.services.meetings import next_start

    member = await member_of(session, action)
    if member.role == "observer":
        raise UserError("Observers do not answer meeting invitations.")
    m, answer = await rsvp_target(session, action)
    if m.status == "cancelled":
        raise UserError(f"M{m.number} was cancelled; there is nothing to answer.")
    if next_start(m, now) is None:
        raise UserError(f"M{m.number} is over; there is nothing to answer.")
    row = (await session.exec(select(Rsvp).where(Rsvp.meeting_id == m.id, Rsvp.member_id == member.id))).first()
    if row is None:
        row = Rsvp(meeting_id=m.id, member_id=member.id, answer=answer, updated_at=now)  # type: ignore[arg-type]
    row.answer, row.updated_at = answer, now
    session.add(row)
    return f"Your answer to M{m.number} “{m.title}” is recorded: {answer}."


async def answer(session: AsyncSession, action: SignedAction, text: str, now: datetime) -> str:
    member = await member_of(session, action)
    if member.role == "observer":
        raise UserError("Observers do not answer check-ins.")
    c, occurrence = await checkin_target(session, action)
    if c.status != "active":
        raise UserError(f"C{c.number} was stopped; it takes no more answers.")
    body = clean(text).strip()
    if not body:
        raise UserError("The answer is empty.")
    if len(body) > MAX_ANSWER:
        raise UserError(f"The answer is too long ({len(body)} characters; the limit is {MAX_ANSWER}).")
    row = (
        await session.exec(
            select(CheckinAnswer).where(
                CheckinAnswer.checkin_id == c.id,
                CheckinAnswer.member_id == member.id,
                CheckinAnswer.occurrence == occurrence,
            )
        )
    ).first()
    if row is None:
        row = CheckinAnswer(checkin_id=c.id, member_id=member.id, occurrence=occurrence, text=body, answered_at=now)  # type: ignore[arg-type]
    row.text, row.answered_at = body, now
    session.add(row)
    return f"Thanks — your answer to C{c.number} ({occurrence}) is recorded."


async def unsubscribe(session: AsyncSession, action: SignedAction) -> str:
    member = await member_of(session, action)
    member.digest_email = False
    session.add(member)
    return "You will no longer receive the digest by e-mail."
