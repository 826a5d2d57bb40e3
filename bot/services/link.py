"""`/wg link`: one person, one member, across platforms.

On one platform a member asks for a code; on the other they give it back. The second platform's
account becomes another identity of the same member, so the person has one profile and one vote,
and a convener who joined on Slack is a convener on Discord too (and can bind channels there).
Codes are single-use, expire after 15 minutes, and come from the injected random source.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.errors import UserError
from bot.reply import Reply
from bot.sanitize import clean_line
from bot.services.context import Ctx, command
from storage.models import Identity, LinkCode, Member, WorkingGroup

CODE_TTL = timedelta(minutes=15)
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or retyped across apps
CODE_LENGTH = 8


@command("link")
async def link(ctx: Ctx) -> Reply:
    if ctx.cmd.positionals:
        return await _redeem(ctx, ctx.cmd.positionals[0])
    member = ctx.require_member()
    code = "".join(ctx.rng.choice(_ALPHABET) for _ in range(CODE_LENGTH))
    ctx.session.add(
        LinkCode(
            code=code,
            wg_id=member.wg_id,
            member_id=member.id,  # type: ignore[arg-type]
            platform=ctx.cmd.user.platform,
            created_at=ctx.now,
            expires_at=ctx.now + CODE_TTL,
        )
    )
    await ctx.session.flush()
    return Reply.text(
        f"Your link code is {code}. Within 15 minutes, on your other platform (in a channel of the group "
        f"or a direct message to the bot), run: /wg link {code}",
        private=True,
    )


async def _redeem(ctx: Ctx, raw: str) -> Reply:
    code = raw.strip().upper()
    row = (await ctx.session.exec(select(LinkCode).where(LinkCode.code == code))).first()
    if row is None or row.used_at is not None or row.expires_at <= ctx.now:
        raise UserError(
            "That link code is unknown, used or expired. Run /wg link on your other platform for a new one."
        )
    user = ctx.cmd.user
    if row.platform == user.platform:
        raise UserError(f"Give the code on your other platform, not on {user.platform}.")
    member = await ctx.session.get(Member, row.member_id)
    wg = await ctx.session.get(WorkingGroup, row.wg_id)
    if member is None or member.erased_at is not None or wg is None:
        raise UserError("That link code belongs to a member who has left.")
    existing = (
        await ctx.session.exec(
            select(Identity).where(
                Identity.wg_id == wg.id, Identity.platform == user.platform, Identity.user_id == user.user_id
            )
        )
    ).first()
    if existing is not None:
        if existing.member_id == member.id:
            return Reply.text(f"This {user.platform} account is already linked to {member.display_name}.", private=True)
        raise UserError(
            f"This {user.platform} account already joined “{wg.name}” as a member of its own. "
            f"Link the other way: run /wg link here and give the code on {row.platform}."
        )
    already = (
        await ctx.session.exec(
            select(Identity).where(Identity.member_id == member.id, Identity.platform == user.platform)
        )
    ).first()
    if already is not None:
        raise UserError(f"{member.display_name} already has a {user.platform} account linked ({already.handle}).")
    ctx.session.add(
        Identity(
            wg_id=wg.id,  # type: ignore[arg-type]
            member_id=member.id,  # type: ignore[arg-type]
            platform=user.platform,
            user_id=user.user_id,
            handle=clean_line(user.handle)[:100],
            created_at=ctx.now,
        )
    )
    row.used_at = ctx.now
    ctx.session.add(row)
    await ctx.session.flush()
    platforms = (
        await ctx.session.exec(
            select(Identity.platform).where(Identity.member_id == member.id).order_by(col(Identity.id))
        )
    ).all()
    return Reply.text(
        f"Linked: {member.display_name} is one member of “{wg.name}” on {', '.join(platforms)}"
        " — one profile, one vote.",
        private=True,
    )
