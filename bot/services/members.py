"""Members: joining, profiles and roles."""

from __future__ import annotations

import re

from sqlalchemy import bindparam
from sqlmodel import col, func, select

from bot.errors import Forbidden, UserError
from bot.grammar import quote
from bot.reply import Context, Fields, Heading, Reply, Text
from bot.sanitize import clean_line
from bot.services.context import Ctx, command
from bot.services.invites import use_invitation
from bot.vocab import REGIONS, ROLES, STAKEHOLDER_GROUPS, one_of, timezone
from storage.models import Identity, Member, WorkingGroup

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_LANG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$", re.IGNORECASE)


def valid_email(value: str) -> str:
    v = value.strip()
    if v.lower().startswith("mailto:"):
        v = v[7:]
    if v.startswith("<") and v.endswith(">"):  # Slack wraps addresses: <mailto:a@b.org|a@b.org>
        v = v[1:-1].split("|", 1)[-1]
    if len(v) > 254 or not _EMAIL.match(v):
        raise UserError(f"`{value[:60]}` is not a valid e-mail address (like name@example.org).")
    return v


def valid_language(value: str) -> str:
    v = value.strip()
    if not _LANG.match(v):
        raise UserError(f"`{value[:20]}` is not a language code; use one like en, fr, es, pt-BR.")
    return v


def member_label(m: Member) -> str:
    return f"{m.display_name} ({m.stakeholder_group})"


@command("join")
async def join(ctx: Ctx) -> Reply:
    wg = ctx.require_wg()
    opts = ctx.cmd.options
    group = one_of(ctx.cmd.positionals[0], STAKEHOLDER_GROUPS, "stakeholder group")
    region = one_of(opts["region"], REGIONS, "region") if "region" in opts else None
    tz_given = timezone(opts["tz"]) if "tz" in opts else None
    lang = valid_language(opts["lang"]) if "lang" in opts else None
    email = valid_email(opts["email"]) if "email" in opts else None
    if "name" in opts:
        name = clean_line(opts["name"])
        if not name:
            raise UserError("Your display name cannot be empty.")
        if len(name) > 100:
            raise UserError(f"Your display name is too long ({len(name)} characters; the limit is 100).")
    else:
        name = clean_line(ctx.cmd.user.handle)[:90] or ctx.cmd.user.user_id[:90]
    member = ctx.member
    # Lock the group's row first: two people joining a new group at the same moment must not both
    # see zero members and both become its convener, nor both take one display name (PostgreSQL;
    # SQLite serialises writers anyway).
    await ctx.session.exec(_LOCK_GROUP, params={"wg_id": wg.id})
    if "name" in opts:
        await _refuse_taken_name(ctx, name, member)
    elif member is None:
        name = await _free_default_name(ctx, name)
    if member is not None:  # joining again updates the profile (an invitation is not used up)
        member.stakeholder_group = group
        if region is not None:
            member.region = region
        if tz_given is not None:
            member.timezone = tz_given
        if lang is not None:
            member.language = lang
        note = ""
        if email is not None:
            moved = (member.email or "").lower() != email.lower()
            if moved and member.digest_email and member.role != "convener":
                # the digest never follows an unconfirmed address (double opt-in, /wg digest subscribe);
                # without WGBOT_PUBLIC_URL nothing can be confirmed, so a convener subscribes it
                member.digest_email = False
                if ctx.public_url:
                    again = f"/wg digest subscribe email:{email} sends a confirmation link"
                else:
                    who = quote(name if "name" in opts else member.display_name)
                    again = f"a convener can subscribe it (/wg digest subscribe email:{email} for:{who})"
                note = f" The e-mailed digest stopped; {again}."
            member.email = email
        if "name" in opts:
            member.display_name = name
        ctx.session.add(member)
        await ctx.session.flush()
        return Reply.text(f"Profile updated: {_profile_line(member)}.{note}", private=True)
    platform_tz = None
    if ctx.cmd.user.timezone:
        try:
            platform_tz = timezone(ctx.cmd.user.timezone)
        except UserError:
            platform_tz = None
    user = ctx.cmd.user
    if wg.creator_user_id is not None:  # whoever created the group with /wg bind is its convener
        first = (wg.creator_platform, wg.creator_workspace, wg.creator_user_id) == (
            user.platform,
            user.workspace,
            user.user_id,
        )
    else:  # a group no person created (the simulation's `wg`): its first joiner is convener
        first = (await ctx.session.exec(select(func.count()).where(Member.wg_id == wg.id))).one() == 0
    member = Member(
        wg_id=wg.id,  # type: ignore[arg-type]
        display_name=name,
        stakeholder_group=group,
        region=region,
        timezone=tz_given or platform_tz or wg.timezone,
        language=lang or "en",
        email=email,
        role="convener" if first else "member",
        joined_at=ctx.now,
    )
    if ctx.invitation is not None:
        await use_invitation(ctx, ctx.invitation)
    ctx.session.add(member)
    await ctx.session.flush()
    assert member.id is not None
    ctx.session.add(
        Identity(
            wg_id=wg.id,  # type: ignore[arg-type]
            member_id=member.id,
            platform=user.platform,
            workspace=user.workspace,
            user_id=user.user_id,
            handle=clean_line(user.handle)[:100],
            created_at=ctx.now,
        )
    )
    await ctx.session.flush()
    ctx.member = member
    text = f"Welcome to “{wg.name}”, {member.display_name}: {_profile_line(member)}."
    if member.role == "convener":
        why = "you created it" if wg.creator_user_id is not None else "you are its first member"
        text += f" As {why}, you are its convener."
    return Reply.text(text, private=True)


# built once (every join runs them: see storage.db.per_dialect)
_NAME_HOLDER = select(Member).where(
    Member.wg_id == bindparam("wg_id"),
    func.lower(Member.display_name) == bindparam("name"),
    col(Member.erased_at).is_(None),
)
_LOCK_GROUP = select(WorkingGroup.id).where(WorkingGroup.id == bindparam("wg_id")).with_for_update()


async def _name_holder(ctx: Ctx, name: str) -> Member | None:
    params = {"wg_id": ctx.require_wg().id, "name": name.lower()}
    return (await ctx.session.exec(_NAME_HOLDER, params=params)).first()


async def _refuse_taken_name(ctx: Ctx, name: str, me: Member | None) -> None:
    """Display names are unique within a group (case-insensitively): nobody can pass for another."""
    holder = await _name_holder(ctx, name)
    if holder is not None and (me is None or holder.id != me.id):
        raise UserError(
            f"Another member of this working group is already called “{holder.display_name}”; "
            'choose another with name:"…".'
        )


async def _free_default_name(ctx: Ctx, handle: str) -> str:
    """The handle, made unique: `bob`, else `bob@discord`, else `bob@discord 2`, …"""
    platform = ctx.cmd.user.platform
    for candidate in (handle, f"{handle}@{platform}", *(f"{handle}@{platform} {n}" for n in range(2, 100))):
        if await _name_holder(ctx, candidate) is None:
            return candidate
    raise UserError('Choose a display name with name:"…" (yours is taken).')


def _profile_line(m: Member) -> str:
    parts = [m.stakeholder_group]
    if m.region:
        parts.append(m.region)
    parts += [m.timezone, m.language]
    if m.email:
        parts.append(m.email)
    return ", ".join(parts)


@command("me")
async def me(ctx: Ctx) -> Reply:
    m = ctx.require_member()
    idents = (
        await ctx.session.exec(select(Identity).where(Identity.member_id == m.id).order_by(col(Identity.id)))
    ).all()
    return Reply(
        blocks=[
            Heading(text=m.display_name),
            Fields(
                items=[
                    ("Role", m.role),
                    ("Stakeholder group", m.stakeholder_group),
                    ("Region", m.region or "not set"),
                    ("Time zone", m.timezone),
                    ("Language", m.language),
                    ("E-mail", m.email or "not set"),
                    ("Accounts", ", ".join(f"{i.handle} on {i.platform}" for i in idents) or "none (e-mail only)"),
                    ("Digest", await _digest_line(ctx, m)),
                ]
            ),
            Context(
                text="Change any of this with /wg join <stakeholder-group> [region:…] [tz:…] [lang:…] [email:…] "
                "[name:…]"
            ),
        ],
        private=True,
    )


async def _digest_line(ctx: Ctx, m: Member) -> str:
    from bot.services.groups import digest_label

    wg = ctx.require_wg()
    if wg.digest_weekday is None:
        return "off for this group (a convener turns it on with /wg settings digest:)"
    ways = ["in the group's channels"]
    if m.digest_dm:
        ways.append("by DM")
    if m.digest_email and m.email:
        ways.append(f"by e-mail to {m.email}")
    return f"{digest_label(wg)}: {', '.join(ways)} (/wg digest subscribe|unsubscribe)"


def a_role(role: str) -> str:
    """`an observer`, `a member`, `a convener`."""
    return f"{'an' if role[:1] in 'aeiou' else 'a'} {role}"


@command("role")
async def role(ctx: Ctx) -> Reply:
    who = ctx.require_convener("change roles")
    target = await ctx.member_by_ref(ctx.cmd.positionals[0])
    new_role = one_of(ctx.cmd.positionals[1], ROLES, "role")
    if target.role == new_role:
        return Reply.text(f"{target.display_name} is already {a_role(new_role)}.", private=True)
    if target.role == "convener" and new_role != "convener":
        conveners = (
            await ctx.session.exec(
                select(func.count()).where(
                    Member.wg_id == target.wg_id, Member.role == "convener", col(Member.erased_at).is_(None)
                )
            )
        ).one()
        if conveners <= 1:
            raise Forbidden("The group needs at least one convener: make someone else convener first.")
    old = target.role
    target.role = new_role
    ctx.session.add(target)
    await ctx.session.flush()
    await ctx.announce(
        Reply.text(f"{who.display_name} made {target.display_name} {a_role(new_role)} (was {old})."),
        key=f"role:{target.id}:{ctx.now.isoformat()}:{ctx.rng.getrandbits(32)}",
    )
    return Reply.text(f"{target.display_name} is now {a_role(new_role)}.", private=True)


@command("member.add")
async def add_member(ctx: Ctx) -> Reply:
    """A member reachable only by e-mail: invitations, reminders, check-ins and the digest come by
    e-mail; a convener records their answers until the public web record exists."""
    ctx.require_convener("add members")
    wg = ctx.require_wg()
    opts = ctx.cmd.options
    name = clean_line(ctx.cmd.positionals[0])
    if not name:
        raise ctx.fail("The name cannot be empty.")
    if len(name) > 100:
        raise ctx.fail(f"The name is too long ({len(name)} characters; the limit is 100).")
    group = one_of(ctx.cmd.positionals[1], STAKEHOLDER_GROUPS, "stakeholder group")
    if not opts.get("email"):
        raise ctx.fail("Give the address with email:<address>: it is how this member is reached.")
    email = valid_email(opts["email"])
    region = one_of(opts["region"], REGIONS, "region") if "region" in opts else None
    tz = timezone(opts["tz"]) if "tz" in opts else wg.timezone
    taken = (
        await ctx.session.exec(
            select(Member).where(
                Member.wg_id == wg.id,
                col(Member.erased_at).is_(None),
                (func.lower(Member.email) == email.lower()) | (func.lower(Member.display_name) == name.lower()),
            )
        )
    ).first()
    if taken is not None:
        same = "address" if (taken.email or "").lower() == email.lower() else "name"
        raise UserError(f"A member with this {same} is already in the group: {taken.display_name}.")
    member = Member(
        wg_id=wg.id,  # type: ignore[arg-type]
        display_name=name,
        stakeholder_group=group,
        region=region,
        timezone=tz,
        email=email,
        digest_email=True,
        joined_at=ctx.now,
    )
    ctx.session.add(member)
    await ctx.session.flush()
    welcome = Reply(
        blocks=[
            Heading(text=f"Welcome to the working group “{wg.name}”"),
            Text(
                text=(
                    f"A convener added you as {name} ({group}). You will receive meeting invitations with a "
                    "calendar file, reminders, check-in questions and the weekly digest by e-mail, with times "
                    f"in {tz}."
                )
            ),
            Context(text="To answer an invitation or a check-in, reply to the e-mail: a convener records your answer."),
        ],
        kind="announcement",
    )
    await ctx.dm(member, welcome, key=f"member:{member.id}:welcome")
    from bot.services.invitations import invite_to_upcoming  # it builds on the meetings module

    invited = await invite_to_upcoming(ctx.session, member, wg, ctx.now)
    also = f", with the invitations to {', '.join(f'M{n}' for n in invited)}," if invited else ""
    return Reply.text(
        f"Added {name} ({group}{', ' + region if region else ''}, {tz}), reachable by e-mail at {email}; "
        f"a welcome e-mail is on its way{also} and the weekly digest will follow.",
        private=True,
    )
