"""Working groups: binding channels, settings, and help."""

from __future__ import annotations

import re

from sqlmodel import col, func, select

from bot import helptext
from bot.didyoumean import closest_commands, phrase
from bot.errors import Forbidden, UserError
from bot.grammar import SPECS, find_spec
from bot.reply import Context, Fields, Heading, Reply, Response, Text
from bot.sanitize import clean_line
from bot.services import web
from bot.services.context import HANDLERS, Ctx, command, find_channel, identity_is
from bot.services.members import valid_language
from bot.vocab import DEFAULT_THEMES, WEEKDAYS, timezone
from storage.models import Channel, Identity, Member, WorkingGroup

MAX_NAME = 100
#: a PostgreSQL advisory lock key for `/wg bind` (any constant unique within the application)
BIND_LOCK = 0x57_47_42_4E


def _valid_name(raw: str) -> str:
    name = clean_line(raw)
    if not name:
        raise UserError("The working group name cannot be empty.")
    if len(name) > MAX_NAME:
        raise UserError(f"The working group name is too long ({len(name)} characters; the limit is {MAX_NAME}).")
    return name


def parse_digest(value: str) -> tuple[int | None, str]:
    """`monday 09:00` → (0, "09:00"); `off` → (None, "09:00")."""
    v = " ".join(value.lower().split())
    if v in ("off", "none", "no"):
        return None, "09:00"
    m = re.fullmatch(r"([a-z]+)\s+([0-9]{1,2}):([0-9]{2})", v)
    if not m:
        raise UserError('Give the digest as digest:"<weekday> <HH:MM>" (e.g. digest:"monday 09:00") or digest:off.')
    day = m.group(1)
    matches = [i for i, d in enumerate(WEEKDAYS) if d.startswith(day)] if len(day) >= 3 else []
    if len(matches) != 1:
        raise UserError(f"Unknown weekday `{m.group(1)}`. Use one of: {', '.join(WEEKDAYS)}.")
    hour, minute = int(m.group(2)), int(m.group(3))
    if hour > 23 or minute > 59:
        raise UserError(f"`{m.group(2)}:{m.group(3)}` is not a time of day; use HH:MM from 00:00 to 23:59.")
    return matches[0], f"{hour:02d}:{minute:02d}"


def digest_label(wg: WorkingGroup) -> str:
    if wg.digest_weekday is None:
        return "off"
    return f"{WEEKDAYS[wg.digest_weekday].capitalize()} {wg.digest_time} {wg.timezone}"


@command("help")
async def help_(ctx: Ctx) -> Reply:
    topic = ctx.cmd.rest.strip().removeprefix("/wg").strip()
    if topic:
        existing = {name: spec for name, spec in SPECS.items() if name in HANDLERS}
        spec, _ = find_spec(topic.split()[:2])
        family = [existing[n] for n in helptext.TOPICS.get(topic.lower(), ()) if n in existing]
        if family:  # `/wg help live`: every live-session command
            return helptext.detail(family[0], existing, family)
        if spec is None or spec.name not in HANDLERS:
            near = [f"/wg help {n.replace('.', ' ')}" for n in closest_commands(topic, existing)]
            raise UserError(f"No command `{topic[:40]}`. {phrase(near) or 'Type /wg help for the list.'}")
        return helptext.detail(spec, existing)
    lines = [f"{SPECS[name].usage}\n    {SPECS[name].summary}" for name in SPECS if name in HANDLERS]
    return Reply(
        blocks=[
            Heading(text="wgbot commands"),
            Text(text="\n".join(lines)),
            Context(text="/wg help <command> for one."),
        ],
        private=True,
    )


@command("bind")
async def bind(ctx: Ctx) -> Response | Reply:
    where = ctx.cmd.where
    if where.is_dm:
        raise UserError("Bind a channel, not a direct message: run /wg bind in the channel the group uses.")
    wanted = _valid_name(ctx.cmd.rest) if ctx.cmd.rest.strip() else None
    existing = await find_channel(ctx.session, where)
    if existing is not None:
        bound = await ctx.session.get(WorkingGroup, existing.wg_id)
        assert bound is not None
        if wanted is None or wanted.lower() == bound.name.lower():
            return Reply.text(f"This channel is already bound to working group “{bound.name}”.", private=True)
        raise UserError(f"This channel is already bound to working group “{bound.name}”.")
    if ctx.session.get_bind().dialect.name == "postgresql":
        # binds that may create a group take turns, so two first binds cannot create two groups
        # (SQLite serialises writers already)
        await ctx.session.exec(select(func.pg_advisory_xact_lock(BIND_LOCK)))
    groups = list((await ctx.session.exec(select(WorkingGroup).order_by(col(WorkingGroup.id)))).all())
    # Someone who may not bind learns nothing about the deployment's groups: the groups named are only
    # those they may bind, and a refused name is refused alike whether or not a group has it.
    target: WorkingGroup | None = None
    if wanted is not None:
        target = next((g for g in groups if g.name.lower() == wanted.lower()), None)
        if target is not None and not await _may_bind(ctx, target):
            raise Forbidden(_not_a_binder(wanted))
        if target is None and groups and not await _is_convener_anywhere(ctx):
            raise Forbidden(_not_a_binder(wanted))
    elif groups:
        mine = [g for g in groups if await _may_bind(ctx, g)]
        if not mine:
            raise Forbidden(_not_a_binder(None))
        if len(groups) > 1:
            names = ", ".join(g.name for g in mine)
            raise UserError(f"Name the working group to bind: /wg bind <name> (groups you can bind: {names}).")
        target = mine[0]
    created = False
    if target is None:
        user = ctx.cmd.user
        target = WorkingGroup(
            name=wanted or _valid_name(where.channel_name or "wg"),
            themes=list(DEFAULT_THEMES),
            created_at=ctx.now,
            creator_platform=user.platform,
            creator_workspace=user.workspace,
            creator_user_id=user.user_id,
        )
        ctx.session.add(target)
        await ctx.session.flush()
        created = True
        from bot.services.digests import plan as plan_digest

        await plan_digest(ctx.session, target, ctx.now)
    assert target.id is not None
    ctx.session.add(
        Channel(
            wg_id=target.id,
            platform=where.platform,
            workspace=where.workspace,
            channel_id=where.channel_id,
            name=clean_line(where.channel_name or where.channel_id)[:100],
            created_at=ctx.now,
        )
    )
    await ctx.session.flush()
    ctx.wg = target
    if created:
        text = (
            f"Working group “{target.name}” created and bound to this channel. You created it, so you are "
            "its convener: /wg join <stakeholder-group> to complete your profile. Others join with "
            "/wg join in this channel."
        )
    else:
        text = f"This channel is now bound to working group “{target.name}”."
    return Reply.text(text)


def _not_a_binder(name: str | None) -> str:
    """The refusal of a bind: the same whether or not a group of that name exists."""
    which = f"“{name}”" if name is not None else "a working group"
    return (
        f"Only a convener of {which} can bind a channel to it, and only a convener can create another "
        "working group. A convener from another platform can first link this account with /wg link."
    )


async def _may_bind(ctx: Ctx, target: WorkingGroup) -> bool:
    """Binding a channel to an existing group takes one of its conveners, or its creator before they
    have joined; a group no person created and nobody joined yet (the simulation's) takes anyone."""
    user = ctx.cmd.user
    if (target.creator_platform, target.creator_workspace, target.creator_user_id) == (
        user.platform,
        user.workspace,
        user.user_id,
    ):
        return True
    if target.creator_user_id is None:
        members = (await ctx.session.exec(select(func.count()).where(Member.wg_id == target.id))).one()
        if not members:
            return True
    ident = (await ctx.session.exec(select(Identity).where(Identity.wg_id == target.id, *identity_is(user)))).first()
    member = await ctx.session.get(Member, ident.member_id) if ident else None
    return member is not None and member.erased_at is None and member.role == "convener"


async def _is_convener_anywhere(ctx: Ctx) -> bool:
    q = (
        select(Member)
        .join(Identity, col(Identity.member_id) == col(Member.id))
        .where(*identity_is(ctx.cmd.user), Member.role == "convener", col(Member.erased_at).is_(None))
    )
    return (await ctx.session.exec(q)).first() is not None


@command("settings")
async def settings(ctx: Ctx) -> Reply:
    wg = ctx.require_wg()
    opts = ctx.cmd.options
    if not opts:
        return Reply(
            blocks=[
                Heading(text=f"Settings of “{wg.name}”"),
                Fields(
                    items=[
                        ("Time zone", wg.timezone),
                        ("Digest", digest_label(wg)),
                        ("Summary language", wg.language),
                        *await web.settings_fields(ctx, wg),
                    ]
                ),
                Context(text=SPECS["settings"].usage),
            ],
            private=True,
        )
    who = ctx.require_convener("change the settings")
    changes: list[str] = []
    # validate everything first, so that nothing is half-applied
    new_tz = timezone(opts["tz"]) if "tz" in opts else None
    new_digest = parse_digest(opts["digest"]) if "digest" in opts else None
    new_name = _valid_name(opts["name"]) if "name" in opts else None
    new_web = web.parse_visibility(opts["web"]) if "web" in opts else None
    new_summaries = web.parse_on_off("summaries", opts["summaries"]) if "summaries" in opts else None
    new_lang = valid_language(opts["lang"]) if "lang" in opts else None
    if new_name is not None and new_name.lower() != wg.name.lower():
        clash = (
            await ctx.session.exec(select(WorkingGroup).where(func.lower(WorkingGroup.name) == new_name.lower()))
        ).first()
        if clash is not None:
            raise UserError(f"Another working group is already called “{new_name}”.")
    if new_tz is not None:
        wg.timezone = new_tz
        changes.append(f"time zone {new_tz}")
    if new_digest is not None:
        wg.digest_weekday, wg.digest_time = new_digest
        changes.append(f"digest {digest_label(wg)}")
    if new_name is not None:
        wg.name = new_name
        changes.append(f"name “{new_name}”")
    if new_web is not None or new_summaries is not None:
        changes += await web.apply_settings(ctx, wg, new_web, new_summaries)
    if new_lang is not None:
        wg.language = new_lang
        changes.append(f"summary language {new_lang}")
    ctx.session.add(wg)
    await ctx.session.flush()
    if new_tz is not None or new_digest is not None:
        from bot.services.digests import replan

        await replan(ctx.session, wg, ctx.now)
    summary = ", ".join(changes)
    await ctx.announce(
        Reply.text(f"{who.display_name} changed the settings: {summary}."),
        key=f"settings:{wg.id}:{ctx.now.isoformat()}:{ctx.rng.getrandbits(32)}",
    )
    return Reply.text(f"Settings changed: {summary}.", private=True)
