"""Access to a group's public web record, and the signed links that e-mails carry.

The record is private by default: only `/r/<token>` reaches it, a 256-bit random token that a
convener shows (`/wg web link`) and rotates (`/wg web link rotate`, the old address 404s at once, and
so do the feed's and the e-mails' answer links, below).
A public group is also at `/g/<id>`. The calendar feed of a private group has an address of its own,
`/f/<feed token>/calendar.ics`, whose token opens the feed and nothing else: `/wg ics` and `/wg show`
give it to any member (and `show` in the channel), so it must never be the record's token. It is
rotated with the record's link, or on its own (`/wg web feed rotate`: members paste it into calendar
apps and it is posted in the channel, so it leaks more easily than the record's link, and replacing it
should not cost everyone the record's address). Nothing here renders HTML: the web adapter does that.

Signed links (`/a/<payload>.<mac>`) let a member reachable only by e-mail answer an RSVP or a
check-in, or unsubscribe from the digest, and let the owner of an address confirm a digest
subscription to it (double opt-in), with one click: the payload names the group, the member,
the purpose and an expiry; the MAC is an HMAC-SHA256 keyed with the group's own secret, so a link is
single-purpose (changing any field breaks it), expires, and is worthless for another group.

The payload also carries the group's link generation, which `/wg web link rotate` bumps: a convener
who rotates because a link leaked expects every secret address the group gave out to stop working, so
the answer and confirmation links of e-mails sent before are refused from then on ("replaced"; the next
reminder or check-in carries new ones). Unsubscribe links are the exception, on purpose: a digest sits
in inboxes for weeks and RFC 8058's one-click unsubscribe must keep working (a mail client retries it,
and a refused unsubscribe means mail the reader asked to stop, and spam reports). The worst a leaked
one does is stop one member's e-mailed digest, which sends nothing and is undone by subscribing again.
Links from before generations existed (five fields) are generation 0.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import dialect_insert
from storage.models import WebAccess

#: what a signed link may do; anything else is refused before the MAC is even checked
PURPOSES = frozenset({"rsvp", "answer", "unsubscribe", "confirm"})
#: the purposes whose links keep working after `/wg web link rotate` (see the module's docstring)
SURVIVES_ROTATION = frozenset({"unsubscribe"})
#: a `confirm` link (double opt-in of a digest address) carries the address itself as its subject
MAX_SUBJECT = {"confirm": 254}
DEFAULT_LIFETIME = timedelta(days=14)
MAX_LINK = 600
#: ids are INTEGER columns: a claimed id outside them would reach the database as an error (PostgreSQL
#: refuses the parameter), so it is refused here, before any query
MAX_ID = 2**31 - 1


def new_token() -> str:
    return secrets.token_urlsafe(32)


async def access_for(session: AsyncSession, wg_id: int, now: datetime) -> WebAccess:
    """The group's access row, created on first use (concurrent creators agree: insert-or-ignore)."""
    row = await session.get(WebAccess, wg_id)
    if row is not None:
        return row
    stmt = (
        dialect_insert(session, WebAccess)
        .values(
            wg_id=wg_id,
            public=False,
            token=new_token(),
            feed_token=new_token(),
            summaries=False,
            link_secret=secrets.token_hex(32),
            link_generation=0,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["wg_id"])
    )
    await session.exec(stmt)
    row = (await session.exec(select(WebAccess).where(WebAccess.wg_id == wg_id))).one()
    return row


def record_path(access: WebAccess) -> str:
    """The address of the record that works whatever the visibility (the token link)."""
    return f"/r/{access.token}/"


def feed_path(access: WebAccess) -> str:
    """The calendar feed's address: the public one for a public group, else the feed-only token's
    (never the record's token, which would open the whole record)."""
    if access.public:
        return public_path(access.wg_id) + "calendar.ics"
    return f"/f/{access.feed_token}/calendar.ics"


def rotate(access: WebAccess, now: datetime) -> None:
    """New record and feed tokens, and a new link generation: the old addresses 404 from the next
    request on, and the answer and confirmation links of e-mails sent so far are refused as replaced
    (unsubscribe links keep working: SURVIVES_ROTATION)."""
    access.token = new_token()
    access.feed_token = new_token()
    access.link_generation += 1
    access.rotated_at = now


def rotate_feed(access: WebAccess) -> None:
    """A new calendar feed token only: the old feed address 404s; the record's link and the e-mails'
    links are untouched."""
    access.feed_token = new_token()


def superseded(access: WebAccess, action: SignedAction) -> bool:
    """A link signed before the group's links were last renewed (`rotate`), whose purpose does not
    survive that."""
    return action.purpose not in SURVIVES_ROTATION and action.generation != access.link_generation


def public_path(wg_id: int) -> str:
    return f"/g/{wg_id}/"


def absolute(base: str | None, path: str) -> str | None:
    """`WGBOT_PUBLIC_URL` + path, or None when no public address is configured."""
    if not base:
        return None
    return base.rstrip("/") + path


@dataclass(frozen=True)
class SignedAction:
    wg_id: int
    member_id: int
    purpose: str
    #: what the action is about: `M3:yes` for an RSVP, `C2:2026-12-04` for an answer, the address
    #: to confirm for `confirm`, "" otherwise
    subject: str
    expires: int
    #: the group's link generation when it was signed (WebAccess.link_generation)
    generation: int = 0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode("ascii"), payload.encode("ascii"), hashlib.sha256).digest())


def sign(secret: str, action: SignedAction) -> str:
    """The link token for one action: `<payload>.<mac>` (URL-safe, no padding)."""
    if action.purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {action.purpose}")
    body = [action.wg_id, action.member_id, action.purpose, action.subject, action.expires, action.generation]
    payload = _b64(json.dumps(body, separators=(",", ":")).encode("utf-8"))
    return f"{payload}.{_mac(secret, payload)}"


def peek(token: str) -> SignedAction | None:
    """The claimed action, unverified (to find whose secret checks it); None when malformed."""
    if len(token) > MAX_LINK or token.count(".") != 1:
        return None
    payload, _ = token.split(".")
    try:
        body = json.loads(_unb64(payload))
        if isinstance(body, list) and len(body) == 5:  # signed before link generations: generation 0
            body = [*body, 0]
        wg_id, member_id, purpose, subject, expires, generation = body
    except (ValueError, TypeError):
        return None
    numbers = (wg_id, member_id, expires, generation)
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        return None
    if not 0 <= generation <= MAX_ID:
        return None
    if not (0 < wg_id <= MAX_ID and 0 < member_id <= MAX_ID):
        return None
    if purpose not in PURPOSES or not isinstance(subject, str) or len(subject) > MAX_SUBJECT.get(purpose, 60):
        return None
    return SignedAction(wg_id, member_id, purpose, subject, expires, generation)


def verify(secret: str, token: str, now: datetime) -> SignedAction | None:
    """The action if the MAC is right and the link has not expired; None otherwise."""
    action = peek(token)
    if action is None:
        return None
    payload, mac = token.split(".")
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        return None
    if now.timestamp() > action.expires:
        return None
    return action


def expiry(now: datetime, lifetime: timedelta = DEFAULT_LIFETIME) -> int:
    return int((now + lifetime).timestamp())


async def signed_path(
    session: AsyncSession,
    *,
    wg_id: int,
    member_id: int,
    purpose: str,
    subject: str,
    now: datetime,
    lifetime: timedelta = DEFAULT_LIFETIME,
) -> str:
    """The path of a signed link (`/a/<token>`), relative to `WGBOT_PUBLIC_URL`.

    The core signs when it composes an e-mail (it knows the member and what the button does); the
    e-mail sender prefixes the public address when one is configured, and otherwise says how to
    answer instead (a convener records it)."""
    access = await access_for(session, wg_id, now)
    action = SignedAction(wg_id, member_id, purpose, subject, expiry(now, lifetime), access.link_generation)
    token = sign(access.link_secret, action)
    return f"/a/{token}"


async def signed_link(
    session: AsyncSession,
    base: str | None,
    *,
    wg_id: int,
    member_id: int,
    purpose: str,
    subject: str,
    now: datetime,
    lifetime: timedelta = DEFAULT_LIFETIME,
) -> str | None:
    """An absolute signed link for an e-mail, or None without `WGBOT_PUBLIC_URL`."""
    path = await signed_path(
        session, wg_id=wg_id, member_id=member_id, purpose=purpose, subject=subject, now=now, lifetime=lifetime
    )
    return absolute(base, path)
