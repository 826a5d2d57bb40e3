"""Meeting invitations by e-mail for members reachable only by e-mail (added with /wg member add).

Chat members see the meeting card in their channel; an e-mail-only member gets an .ics invitation
(METHOD:REQUEST), an updated one when the meeting moves, and a METHOD:CANCEL when it is cancelled,
each once (keyed by meeting, revision and member). Their calendar's accept/decline does not reach
wgbot, so the e-mail carries signed Yes/No/Maybe links (bot/emaillinks.py) when WGBOT_PUBLIC_URL is set,
and otherwise says how to answer: reply, and a convener records it with /wg rsvp … for:<member>.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import ics
from bot.emaillinks import sign_buttons
from bot.outbox import enqueue
from bot.reply import Attachment, Block, Context, Fields, Heading, Reply
from bot.services.context import email_destination, email_only
from bot.services.meetings import active_members, next_start, rsvp_buttons, span_text, when_line
from storage.models import Meeting, Member, WorkingGroup

#: the e-mail sender adds how to answer: the signed links, or, with no public address, "reply and a
#: convener records it" (adapters/email/render.py)
HOW_TO_ANSWER = "Your calendar app's accept/decline does not reach the working group's bot."


async def email_invitations(
    session: AsyncSession,
    m: Meeting,
    wg: WorkingGroup,
    now: datetime,
    *,
    method: str,
    members: list[Member] | None = None,
) -> int:
    """Send the invitation (REQUEST) or cancellation (CANCEL) to every e-mail-only member (or to those
    of `members`); returns how many."""
    assert wg.id is not None and m.id is not None
    start = next_start(m, now) or m.start_at
    verb = {"REQUEST": "Invitation" if m.revision == 1 else "Updated invitation", "CANCEL": "Cancelled"}[method]
    sent = 0
    for member in members if members is not None else await active_members(session, wg.id):
        if not await email_only(session, member):
            continue
        assert member.email is not None
        items = [("When", when_line(start, member.timezone)), ("Duration", span_text(m.duration_minutes))]
        if m.link:
            items.append(("Link", m.link))
        blocks: list[Block] = [Heading(text=f"{verb}: M{m.number} “{m.title}” ({wg.name})"), Fields(items=items)]
        if method == "REQUEST":
            blocks += [rsvp_buttons(m), Context(text=HOW_TO_ANSWER)]
        else:
            blocks.append(
                Context(text="The meeting will not take place; the attached file removes it from your calendar.")
            )
        content = ics.invitation(m, wg, now, method=method, attendee=member.email)
        blocks.append(Attachment(filename=ics.filename(m), content=content, mime="text/calendar"))
        stage = "cancel" if method == "CANCEL" else f"r{m.revision}"
        reply = await sign_buttons(session, Reply(blocks=blocks, kind="announcement"), member, now)
        sent += await enqueue(
            session,
            key=f"meeting:{m.id}:invite:{stage}:m{member.id}",
            destination=email_destination(member.email),
            reply=reply,
            now=now,
            wg_id=wg.id,
        )
    return sent


async def invite_to_upcoming(session: AsyncSession, member: Member, wg: WorkingGroup, now: datetime) -> list[int]:
    """A member added by e-mail after meetings were scheduled: the invitation of each meeting still to
    come (its current revision, once, as the others got it); returns the meetings' numbers."""
    q = select(Meeting).where(Meeting.wg_id == wg.id, Meeting.status == "scheduled").order_by(Meeting.number)  # type: ignore[arg-type]
    invited = []
    for m in (await session.exec(q)).all():
        if next_start(m, now) is not None:
            await email_invitations(session, m, wg, now, method="REQUEST", members=[member])
            invited.append(m.number)
    return invited
