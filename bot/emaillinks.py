"""Signed links for the e-mails of one member: the core signs, where it composes the e-mail.

A button in a message for e-mail (`rsvp M3 yes [date:…]`, `answer C2`, `digest unsubscribe email`)
gets `link`, the path of a signed, expiring, single-purpose link (bot/webaccess.py) that does the same
through the same service code as the chat command (bot/emailactions.py, adapters/web/actions.py).
The e-mail sender turns the path into an address with WGBOT_PUBLIC_URL, or, with none set, tells the
reader how to answer instead (reply; a convener records it).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import webaccess
from bot.reply import Actions, Button, Reply
from storage.models import Member

#: an answer link lives as long as the question is worth answering; unsubscribing keeps working
#: while the digest sits in an inbox (RFC 8058 asks for a link that works for a while)
LIFETIMES = {
    "rsvp": timedelta(days=30),
    "answer": timedelta(days=14),
    "unsubscribe": timedelta(days=90),
    "confirm": timedelta(days=3),
}
UNSUBSCRIBE_ACTION = "digest unsubscribe email"
#: the button of a double opt-in e-mail (bot/services/digests.py signs its link itself)
CONFIRM_ACTION = "digest confirm"


#: an unsubscribe link's subject: `to:` and a digest of the address it was e-mailed to (not the
#: address itself). Links sent before it existed have an empty subject and stop the e-mailed digest
#: wherever it goes; a bound link stops it only while it still goes to that address.
UNSUBSCRIBE_TO = "to:"


def unsubscribe_subject(email: str) -> str:
    """The subject of an unsubscribe link e-mailed to `email` (case does not make another address)."""
    return UNSUBSCRIBE_TO + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def intent(action: str) -> tuple[str, str] | None:
    """(purpose, subject) of a button's chat action, or None for one no link can do.

    `rsvp M3 yes` → ("rsvp", "M3:yes"); `rsvp M3 no date:2026-01-15` → ("rsvp", "M3:no:2026-01-15");
    `answer C2 date:2026-01-05` → ("answer", "C2:2026-01-05"); the unsubscribe action → ("unsubscribe", "")."""
    words = action.split()
    if action == UNSUBSCRIBE_ACTION:
        return "unsubscribe", ""
    if len(words) in (3, 4) and words[0] == "rsvp":
        subject = f"{words[1]}:{words[2]}"
        if len(words) == 4:
            if not words[3].startswith("date:"):
                return None
            subject += ":" + words[3].removeprefix("date:")
        return "rsvp", subject
    if len(words) == 3 and words[0] == "answer" and words[2].startswith("date:"):
        return "answer", f"{words[1]}:{words[2].removeprefix('date:')}"
    return None


async def sign_buttons(
    session: AsyncSession, reply: Reply, member: Member, now: datetime, *, to: str | None = None
) -> Reply:
    """A copy of `reply` whose link-able buttons carry signed links for `member`; `to`, the address the
    message goes to, binds an unsubscribe link to it (`unsubscribe_subject`)."""
    assert member.id is not None
    # only the button rows are changed, so only they are copied (a digest goes to hundreds of e-mail
    # readers; copying all its text for each was most of the cost)
    out = reply.model_copy(
        update={"blocks": [b.model_copy(deep=True) if isinstance(b, Actions) else b for b in reply.blocks]}
    )
    for block in out.blocks:
        if not isinstance(block, Actions):
            continue
        for el in block.elements:
            if not isinstance(el, Button) or (what := intent(el.action)) is None:
                continue
            purpose, subject = what
            if purpose == "unsubscribe" and to:
                subject = unsubscribe_subject(to)
            el.link = await webaccess.signed_path(
                session,
                wg_id=member.wg_id,
                member_id=member.id,
                purpose=purpose,
                subject=subject,
                now=now,
                lifetime=LIFETIMES[purpose],
            )
    return out


async def with_unsubscribe(session: AsyncSession, reply: Reply, member: Member, now: datetime) -> Reply:
    """The digest for one e-mail reader, with its one-click unsubscribe link (the sender puts it in
    the footer and the List-Unsubscribe header, not among the message's own buttons), bound to the
    address it goes to (`member.email`): once the digest goes elsewhere, the link stops nothing."""
    out = reply.model_copy(
        update={"blocks": [*reply.blocks, Actions(elements=[Button(label="Unsubscribe", action=UNSUBSCRIBE_ACTION)])]}
    )
    return await sign_buttons(session, out, member, now, to=member.email)  # copies the button rows it signs
