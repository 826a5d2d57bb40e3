"""`/wg link`: one person, one member, across platforms.

On one platform a member asks for a code; on the other they give it back. The second platform's
account becomes another identity of the same member, so the person has one profile and one vote,
and a convener who joined on Slack is a convener on Discord too (and can bind channels there).
Codes are single-use, expire after 15 minutes, and come from `secrets` (a cryptographic source: the
injected random source is for reproducible simulations, not for codes). Wrong codes count against a
per-person hourly limit (bot/ratelimit.py), so guessing is hopeless: 32^8 codes, five tries an hour.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select

from bot import ratelimit
from bot.errors import UserError
from bot.reply import Reply
from bot.sanitize import clean_line
from bot.services.context import Ctx, command, identity_is
from storage.models import CheckinAnswer, Identity, LinkCode, Member, Proposal, Rsvp, WorkingGroup

CODE_TTL = timedelta(minutes=15)
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or retyped across apps
CODE_LENGTH = 8


async def refuse_if_guessing(ctx: Ctx) -> None:
    """Someone who gave too many wrong codes this hour is refused before any code is looked at."""
    limit = ctx.limits.wrong_codes
    if not limit.off and await ratelimit.used(ctx.session, _wrong_key(ctx), limit, ctx.now) >= limit.count:
        raise UserError(
            f"Too many wrong codes ({limit.count} {ratelimit.per(limit)}). "
            f"Try again in {ratelimit.wait_text(ctx.now, limit)}."
        )


def count_wrong_code(ctx: Ctx) -> None:
    """Count a wrong code once the refusal is final (the command's own transaction is rolled back)."""
    limit = ctx.limits.wrong_codes
    if not limit.off:
        key = _wrong_key(ctx)
        ctx.on_refusal.append(lambda session: ratelimit.hit(session, key, limit, ctx.now))


def _wrong_key(ctx: Ctx) -> str:
    return ratelimit.person_key("wrongcode", ctx.cmd.user)


@command("link")
async def link(ctx: Ctx) -> Reply:
    if ctx.cmd.positionals:
        return await _redeem(ctx, ctx.cmd.positionals[0])
    member = ctx.require_member()
    code = "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))
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
    await refuse_if_guessing(ctx)
    code = raw.strip().upper()
    row = (await ctx.session.exec(select(LinkCode).where(LinkCode.code == code))).first()
    if row is None or row.used_at is not None or row.expires_at <= ctx.now:
        count_wrong_code(ctx)
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
    existing = (await ctx.session.exec(select(Identity).where(Identity.wg_id == wg.id, *identity_is(user)))).first()
    if existing is not None:
        if existing.member_id == member.id:
            return Reply.text(f"This {user.platform} account is already linked to {member.display_name}.", private=True)
        other = await ctx.session.get(Member, existing.member_id)
        if other is None or other.erased_at is not None:
            raise UserError("This account belongs to a member who has left; it cannot be linked.")
        return await _merge(ctx, member, other, row)
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
            workspace=user.workspace,
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


_RANK = {"observer": 0, "member": 1, "convener": 2}


def merged_role(a: str, b: str) -> str:
    """The role of one member made of two: convener if either was, else the lower of the two."""
    if "convener" in (a, b):
        return "convener"
    return a if _RANK.get(a, 0) <= _RANK.get(b, 0) else b


async def _merge(ctx: Ctx, keep: Member, gone: Member, row: LinkCode) -> Reply:
    """Both accounts had joined as separate members: they are one person, so they become one member.

    The identities, answers and authorship of `gone` move to `keep`; on each open vote only the later
    of the two ballots remains (recorded in the ballot log).

    The role is the more restrictive of the two, except that a convener stays a convener: linking must
    not undo a demotion (an account a convener made an observer stays an observer), and a convener
    could set any role anyway, so keeping theirs grants nothing new."""
    from bot.services.live_privacy import merge_live
    from bot.services.vote_jobs import merge_ballots

    s = ctx.session
    keep_platforms = set((await s.exec(select(Identity.platform).where(Identity.member_id == keep.id))).all())
    gone_idents = (await s.exec(select(Identity).where(Identity.member_id == gone.id))).all()
    clash = sorted({i.platform for i in gone_idents} & keep_platforms)
    if clash:
        raise UserError(f"Both memberships have a {clash[0]} account; one person has one account per platform.")
    for ident in gone_idents:
        ident.member_id = keep.id  # type: ignore[assignment]
        s.add(ident)
    await s.exec(update(Proposal).where(col(Proposal.author_id) == gone.id).values(author_id=keep.id))
    kept_rsvps = set((await s.exec(select(Rsvp.meeting_id).where(Rsvp.member_id == keep.id))).all())
    for r in (await s.exec(select(Rsvp).where(Rsvp.member_id == gone.id))).all():
        if r.meeting_id in kept_rsvps:
            await s.delete(r)
        else:
            r.member_id = keep.id  # type: ignore[assignment]
            s.add(r)
    kept_answers = set(
        (
            await s.exec(
                select(CheckinAnswer.checkin_id, CheckinAnswer.occurrence).where(CheckinAnswer.member_id == keep.id)
            )
        ).all()
    )
    for a in (await s.exec(select(CheckinAnswer).where(CheckinAnswer.member_id == gone.id))).all():
        if (a.checkin_id, a.occurrence) in kept_answers:
            await s.delete(a)
        else:
            a.member_id = keep.id  # type: ignore[assignment]
            s.add(a)
    await s.flush()
    votes = await merge_ballots(s, keep, gone, ctx.now)
    await merge_live(s, keep, gone, ctx.now)
    before = keep.role
    keep.role = merged_role(keep.role, gone.role)
    gone.erased_at = ctx.now
    row.used_at = ctx.now
    s.add_all([keep, gone, row])
    await s.flush()
    merged = f" Ballots merged on {', '.join(votes)}: on each, only your latest ballot counts." if votes else ""
    if keep.role != before:
        why = "kept from your other membership" if keep.role == "convener" else "the more restrictive of the two"
        merged += f" Your role is now {keep.role} ({why})."
    return Reply.text(
        f"Linked: your two memberships are now one member, {keep.display_name}, on "
        f"{', '.join(sorted(keep_platforms | {i.platform for i in gone_idents}))} — one profile, one vote.{merged}",
        private=True,
    )
