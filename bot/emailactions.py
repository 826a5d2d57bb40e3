"""What a signed link in an e-mail does (bot/webaccess.py signs and checks it; adapters/web serves
it): answer a meeting invitation, answer a check-in, stop the e-mailed digest, or confirm an address
for it (double opt-in).

Each goes through the chat command's own service code (bot/services/rsvp.py `record`,
bot/services/checkins.py `record_answer`, bot/services/digests.py `stop`), so the same rules
apply: a cancelled or finished meeting takes no answer, a stopped check-in none, an observer cannot
answer, an erased member is nobody. Each function runs inside the
caller's transaction and raises UserError, leaving the data as it was, when it cannot apply."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.emaillinks import UNSUBSCRIBE_TO, unsubscribe_subject
from bot.errors import UserError
from bot.services import rsvp as rsvp_service
from bot.services.checkins import record_answer
from bot.services.digests import confirm as confirm_subscription
from bot.services.digests import stop
from bot.services.members import valid_email
from bot.timefmt import fmt
from bot.webaccess import SignedAction
from storage.models import Checkin, Meeting, Member

RSVP_ANSWERS = ("yes", "no", "maybe")


async def member_of(session: AsyncSession, action: SignedAction) -> Member:
    member = await session.get(Member, action.member_id)
    if member is None or member.wg_id != action.wg_id or member.erased_at is not None:
        raise UserError("This link is no longer valid.")
    return member


async def rsvp_target(session: AsyncSession, action: SignedAction) -> tuple[Meeting, str, str]:
    """(meeting, answer, date) of an RSVP link: `M3:yes` (the meeting, or a whole series) or
    `M3:no:2026-01-15` (one occurrence of a series)."""
    ref, answer, date = ([*action.subject.split(":"), ""])[:3]
    if (
        not ref.startswith("M")
        or not ref[1:].isdigit()
        or answer not in RSVP_ANSWERS
        or action.subject.count(":") > 2
        or (date and len(date) != 10)
    ):
        raise UserError("This link is no longer valid.")
    m = (
        await session.exec(select(Meeting).where(Meeting.wg_id == action.wg_id, Meeting.number == int(ref[1:])))
    ).first()
    if m is None:
        raise UserError("This link is no longer valid.")
    return m, answer, date


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


def _participant(member: Member, what: str) -> None:
    if member.role == "observer":
        raise UserError(f"Observers can read but not {what}.")


async def rsvp(session: AsyncSession, action: SignedAction, now: datetime) -> str:
    member = await member_of(session, action)
    _participant(member, "answer meeting invitations")
    m, answer, date = await rsvp_target(session, action)
    at = await rsvp_service.record(session, m, member, answer, date, now)
    if at is not None:
        return f"Your answer to M{m.number} “{m.title}” on {fmt(at, member.timezone)} is recorded: {answer}."
    series = " (for the whole series)" if m.rrule else ""
    return f"Your answer to M{m.number} “{m.title}” is recorded: {answer}{series}."


async def answer(session: AsyncSession, action: SignedAction, text: str, now: datetime) -> str:
    member = await member_of(session, action)
    _participant(member, "answer check-ins")
    c, occurrence = await checkin_target(session, action)
    await record_answer(session, c, member, occurrence, text, now)
    return f"Thanks — your answer to C{c.number} ({occurrence}) is recorded."


#: an unsubscribe link e-mailed to an address the digest no longer goes to
ELSEWHERE = (
    "The address this link was e-mailed to no longer receives the digest (it goes to another address "
    "now, which this link cannot stop); nothing changed."
)


def unsubscribe_elsewhere(member: Member, action: SignedAction) -> bool:
    """Whether an unsubscribe link is bound to an address (`emaillinks.unsubscribe_subject`) that is not
    the one the e-mailed digest goes to now. A link without an address (sent before links were bound)
    is never "elsewhere": it stops the e-mailed digest wherever it goes, as it always did."""
    if not action.subject:
        return False
    if not action.subject.startswith(UNSUBSCRIBE_TO):
        raise UserError("This link is no longer valid.")
    return not (member.email and unsubscribe_subject(member.email) == action.subject)


async def unsubscribe(session: AsyncSession, action: SignedAction) -> str:
    """One click stops the e-mailed digest; a second click (mail clients retry) says it is already off.
    A link e-mailed to an address the digest has left stops nothing (`unsubscribe_elsewhere`)."""
    member = await member_of(session, action)
    if not member.digest_email:
        return "You do not receive the digest by e-mail (any more); nothing to stop."
    if unsubscribe_elsewhere(member, action):
        return ELSEWHERE
    stop(session, member, "email")
    return "You will no longer receive the digest by e-mail."


async def confirm(session: AsyncSession, action: SignedAction) -> str:
    """The owner of an address confirms the digest subscription a member asked for it (double opt-in)."""
    member = await member_of(session, action)
    try:
        email = valid_email(action.subject)
    except UserError:
        raise UserError("This link is no longer valid.") from None
    return confirm_subscription(session, member, email)
