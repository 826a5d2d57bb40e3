"""Invitations: how someone joins without being in one of the group's channels.

Joining needs a bound channel of the group (being there is the platform's own access control) or an
invitation code from a convener: `/wg member invite [<uses>] [expires:<d>]`. The invitee sends
`/wg join <stakeholder-group> invite:<code>` from a direct message to the bot (or anywhere). Codes
come from `secrets` (10 characters of a 32-letter alphabet, about 50 bits); only their SHA-256 is
stored, so reading the database gives no usable code. Single-use and valid 7 days by default (at
most 100 uses, 30 days). Wrong codes count against the per-person wrong-code limit, shared with
`/wg link` (bot/ratelimit.py), so codes cannot be guessed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select

from bot.errors import UserError
from bot.reply import Reply
from bot.services.context import Ctx, command
from bot.services.link import count_wrong_code, refuse_if_guessing
from bot.timefmt import fmt
from bot.timeparse import parse_span
from storage.models import Invitation, WorkingGroup

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
DEFAULT_TTL = timedelta(days=7)
MAX_TTL = timedelta(days=30)
MAX_USES = 100


def code_hash(code: str) -> str:
    normal = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


@command("member.invite")
async def invite(ctx: Ctx) -> Reply:
    who = ctx.require_convener("invite people")
    wg = ctx.require_wg()
    uses = 1
    if ctx.cmd.positionals:
        raw = ctx.cmd.positionals[0].strip()
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 3 and 1 <= int(raw) <= MAX_USES):
            raise ctx.fail(f"The number of uses must be a whole number from 1 to {MAX_USES}.")
        uses = int(raw)
    ttl = DEFAULT_TTL
    if "expires" in ctx.cmd.options:
        ttl = parse_span(ctx.cmd.options["expires"])
        if not timedelta(hours=1) <= ttl <= MAX_TTL:
            raise ctx.fail("expires: must be between 1 hour and 30 days, e.g. expires:7d.")
    code = new_code()
    ctx.session.add(
        Invitation(
            wg_id=wg.id,  # type: ignore[arg-type]
            code_hash=code_hash(code),
            created_by=who.id,  # type: ignore[arg-type]
            uses_left=uses,
            created_at=ctx.now,
            expires_at=ctx.now + ttl,
        )
    )
    await ctx.session.flush()
    times = "once" if uses == 1 else f"{uses} times"
    return Reply.text(
        f"Invitation code for “{wg.name}”: {code} (usable {times}, until {fmt(ctx.now + ttl, ctx.tz)}). "
        f"Give it privately; the person sends the bot a direct message: /wg join <stakeholder-group> invite:{code}",
        private=True,
    )


async def group_of_invitation(ctx: Ctx, code: str) -> tuple[WorkingGroup, Invitation]:
    """The group an invitation code opens (refusing a guesser before looking, counting a wrong code)."""
    await refuse_if_guessing(ctx)
    q = select(Invitation).where(Invitation.code_hash == code_hash(code))
    row = (await ctx.session.exec(q)).first()
    wg = await ctx.session.get(WorkingGroup, row.wg_id) if row is not None else None
    if row is None or wg is None or row.uses_left <= 0 or row.expires_at <= ctx.now:
        count_wrong_code(ctx)
        raise UserError("That invitation code is unknown, used up or expired. Ask a convener for a new one.")
    return wg, row


async def use_invitation(ctx: Ctx, row: Invitation) -> None:
    """Take one use, atomically: two people redeeming the last use at once cannot both get in."""
    stmt = (
        update(Invitation)
        .where(col(Invitation.id) == row.id, col(Invitation.uses_left) > 0)
        .values(uses_left=col(Invitation.uses_left) - 1)
    )
    if (await ctx.session.exec(stmt)).rowcount != 1:
        raise UserError("That invitation code was just used up. Ask a convener for a new one.")
