"""What a command handler gets: the unit of work, the speaker, their group, and ways to reach people.

Handlers register with `@command("name")`. `/wg help` lists exactly the registered commands, so
nothing is advertised that does not work.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import ratelimit
from bot.command import PLATFORMS, Command, UserRef, Where
from bot.deps import Deps, Followup
from bot.errors import Forbidden, NotFound, UserError
from bot.grammar import SPECS
from bot.outbox import Destination, enqueue
from bot.ratelimit import Limits
from bot.reply import Reply, Response
from storage.db import counter_upsert, per_dialect
from storage.models import Channel, Identity, Invitation, Member, Sequence, WorkingGroup

Handler = Callable[["Ctx"], Awaitable[Response | Reply | Followup]]
HANDLERS: dict[str, Handler] = {}
#: `/wg show X<n>` dispatches on the letter: P → proposals, M → meetings, …
SHOW_HANDLERS: dict[str, Callable[[Ctx, int], Awaitable[Response | Reply]]] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    if name not in SPECS:
        raise KeyError(f"no grammar for command {name}")

    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


def shows(letter: str) -> Callable[[Callable[[Ctx, int], Awaitable[Response | Reply]]], object]:
    def register(fn: Callable[[Ctx, int], Awaitable[Response | Reply]]) -> object:
        SHOW_HANDLERS[letter] = fn
        return fn

    return register


@per_dialect
def _next_number(dialect: str) -> Any:
    """The group's next public number of a kind, atomically (built once: see storage.db.per_dialect)."""
    return counter_upsert(dialect, Sequence, ("wg_id", "kind"), "value")


@dataclass
class Ctx:
    session: AsyncSession
    cmd: Command
    now: datetime
    rng: random.Random
    wg: WorkingGroup | None = None
    member: Member | None = None
    identity: Identity | None = None
    notes: list[str] = field(default_factory=list)
    #: WGBOT_PUBLIC_URL: where the web record and the calendar feed are served (None: not served)
    public_url: str | None = None
    limits: Limits = field(default_factory=Limits)
    #: the invitation a `join … invite:<code>` came with (it named the group)
    invitation: Invitation | None = None
    #: work a refusal must still commit (counting a wrong code): run by Core in its own transaction
    on_refusal: list[Callable[[AsyncSession], Awaitable[object]]] = field(default_factory=list)
    #: slow collaborators (thread readers, summarizer); None in a core built without them
    deps: Deps | None = None

    def require_deps(self) -> Deps:
        if self.deps is None:
            raise UserError("This needs the full bot (thread readers and the summarizer); it is not set up here.")
        return self.deps

    @property
    def spec_usage(self) -> str:
        return SPECS[self.cmd.name].usage

    def fail(self, message: str) -> UserError:
        return UserError(message, self.spec_usage)

    def require_wg(self) -> WorkingGroup:
        if self.wg is None:
            raise UserError(
                "This channel is not bound to a working group: ask a convener of your group to bind it "
                "(/wg bind <group name>). Only a convener can bind a channel or create another group; the "
                "very first group of a new installation is created by whoever runs /wg bind <name> first.",
            )
        return self.wg

    def require_member(self) -> Member:
        self.require_wg()
        if self.member is None:
            raise Forbidden(
                "You have not joined this working group yet.",
                SPECS["join"].usage,
            )
        return self.member

    def require_participant(self, what: str) -> Member:
        """The speaker, if they may act (not only read). Every write command calls this (or
        `require_convener`), so an observer can never propose, vote, answer, RSVP, ask or react."""
        member = self.require_member()
        if member.role == "observer":
            raise Forbidden(f"Observers can read but not {what}. A convener can change your role with /wg role.")
        return member

    async def respondent(self, what: str) -> tuple[Member, bool]:
        """Who an answer (RSVP, check-in) is for: the speaker, or — with `for:<member>`, conveners only —
        a member reachable only by e-mail who replied by e-mail. Returns (member, recorded by a convener)."""
        ref = (self.cmd.options.get("for") or "").strip()
        if not ref:
            return self.require_participant(what), False
        self.require_convener("record answers for other members")
        target = await self.member_by_ref(ref)
        if target.role == "observer":
            raise Forbidden(f"{target.display_name} is an observer and cannot {what}.")
        if not await email_only(self.session, target):
            raise Forbidden(
                f"{target.display_name} can answer in the chat; answers are recorded only for e-mail-only members."
            )
        return target, True

    def require_convener(self, what: str) -> Member:
        member = self.require_member()
        if member.role != "convener":
            raise Forbidden(f"Only a convener can {what}.")
        return member

    @property
    def tz(self) -> str:
        """The zone the speaker reads in."""
        if self.member is not None:
            return self.member.timezone
        if self.wg is not None:
            return self.wg.timezone
        return "UTC"

    async def next_number(self, kind: str) -> int:
        """Hand out the next public number (P<n>, M<n>, …) of this group, atomically."""
        wg = self.require_wg()
        conn = await self.session.connection()  # an upsert costs twice the CPU through the ORM session
        return int((await conn.execute(_next_number(self.session), {"wg_id": wg.id, "kind": kind})).scalar_one())

    async def announce(self, reply: Reply, key: str) -> None:
        """Post to every channel bound to the group, on every platform (once each, by key)."""
        wg = self.require_wg()
        assert wg.id is not None
        await self._count_announcement()
        if reply.kind == "reply":
            reply = reply.model_copy(update={"kind": "announcement"})
        for ch, dest in await channel_destinations(self.session, wg.id):
            await enqueue(
                self.session, key=f"{key}:ch{ch.id}", destination=dest, reply=reply, now=self.now, wg_id=wg.id
            )

    async def _count_announcement(self) -> None:
        """A member may cause only so many announcements an hour (each goes to every bound channel)."""
        limit = self.limits.announcements
        if self.member is None or limit.off:
            return
        count = await ratelimit.hit(self.session, f"announce:member:{self.member.id}", limit, self.now)
        if count > limit.count:
            raise UserError(
                f"You have caused {limit.count} announcements this hour, the most one member may "
                f"({limit.count} {ratelimit.per(limit)}, so channels stay readable and reminders on time). "
                f"Try again in {ratelimit.wait_text(self.now, limit)}."
            )

    async def dm(self, member: Member, reply: Reply, key: str) -> bool:
        """Send `reply` privately to a member (on their primary identity's platform), once per key.

        Returns False when the member cannot be reached (no identity left, e.g. after erasure)."""
        dest = await dm_destination(self.session, member)
        if dest is None:
            return False
        await enqueue(self.session, key=key, destination=dest, reply=reply, now=self.now, wg_id=member.wg_id)
        return True

    async def member_by_ref(self, ref: str) -> Member:
        """A member named by mention (`<@U123>`, `<@123|bob>`: an id on the speaker's platform and
        workspace), by platform-qualified handle (`bob@slack`), by handle (`bob`, `@bob`) or by display
        name (unique within a group). A reference that fits several members is refused with the
        candidates listed, never resolved by chance."""
        wg = self.require_wg()
        text = ref.strip()
        if text.startswith("<@") and text.endswith(">"):
            user_id = text[2:-1].lstrip("!").split("|", 1)[0]
            me = self.cmd.user
            q = select(Identity).where(
                Identity.wg_id == wg.id,
                Identity.platform == me.platform,
                Identity.workspace == me.workspace,
                Identity.user_id == user_id,
            )
            ident = (await self.session.exec(q)).first()
            member = await self.session.get(Member, ident.member_id) if ident else None
            if member is None or member.erased_at is not None:
                raise NotFound("The member you mentioned has not joined this working group.")
            return member
        name = text.lstrip("@")
        platform: str | None = None
        if "@" in name:
            head, _, tail = name.rpartition("@")
            if tail.lower() in PLATFORMS and head:
                name, platform = head, tail.lower()
        iq = select(Identity).where(Identity.wg_id == wg.id, func.lower(Identity.handle) == name.lower())
        if platform is not None:
            iq = iq.where(Identity.platform == platform)
        ids = {i.member_id for i in (await self.session.exec(iq)).all()}
        candidates = {
            m.id: m
            for m in (
                await self.session.exec(select(Member).where(col(Member.id).in_(ids), col(Member.erased_at).is_(None)))
            ).all()
        }
        if platform is None:
            mq = select(Member).where(
                Member.wg_id == wg.id, func.lower(Member.display_name) == name.lower(), col(Member.erased_at).is_(None)
            )
            candidates.update({m.id: m for m in (await self.session.exec(mq)).all()})
        if len(candidates) == 1:
            return next(iter(candidates.values()))
        if not candidates:
            raise NotFound(f"No member `{text[:40]}` in this working group.")
        named = []
        for m in sorted(candidates.values(), key=lambda m: m.id or 0):
            refs = await member_refs(self.session, m)
            first_handle = refs.split("@", 1)[0]
            named.append(refs if m.display_name == first_handle else f"{refs} (“{m.display_name}”)")
        raise UserError(
            f"`{text[:40]}` could mean several members: {' or '.join(named)}. "
            "Name one as handle@platform, or mention them."
        )


async def member_refs(session: AsyncSession, member: Member) -> str:
    """How to name a member unambiguously: `bob@slack/bob_d@discord` (one per linked account)."""
    q = select(Identity).where(Identity.member_id == member.id).order_by(col(Identity.id))
    return "/".join(f"{i.handle}@{i.platform}" for i in (await session.exec(q)).all())


async def find_channel(session: AsyncSession, where: Where) -> Channel | None:
    """The bound channel a command came from (see `find_channel_and_group`)."""
    return (await find_channel_and_group(session, where))[0]


# built once (every command runs it; see storage.db.per_dialect on why that matters)
_CHANNEL_AND_GROUP = (
    select(Channel, WorkingGroup)
    .outerjoin(WorkingGroup, col(WorkingGroup.id) == col(Channel.wg_id))
    .where(
        Channel.platform == bindparam("platform"),
        Channel.workspace == bindparam("workspace"),
        Channel.channel_id == bindparam("channel_id"),
    )
)


async def find_channel_and_group(session: AsyncSession, where: Where) -> tuple[Channel | None, WorkingGroup | None]:
    """The bound channel a command came from and its group, in one query: its id is only compared
    within its platform and workspace.

    A channel bound before workspaces were recorded (migration 0005) has an empty workspace; the first
    command from it with a workspace adopts it. Until then a deployment served one Slack workspace
    (one token), and Discord channel ids are globally unique, so that channel can only be this one."""
    params = {"platform": where.platform, "workspace": where.workspace, "channel_id": where.channel_id}
    row = (await session.exec(_CHANNEL_AND_GROUP, params=params)).first()
    if row is not None:
        return row[0], row[1]
    found = None
    if where.workspace:
        legacy = select(Channel).where(
            Channel.platform == where.platform, Channel.workspace == "", Channel.channel_id == where.channel_id
        )
        found = (await session.exec(legacy)).first()
        if found is not None:
            found.workspace = where.workspace
            session.add(found)
            await session.flush()
    return found, await session.get(WorkingGroup, found.wg_id) if found is not None else None


async def adopt_identities(session: AsyncSession, user: UserRef) -> None:
    """Identities recorded before workspaces were (see `find_channel`) take the speaker's workspace."""
    if not user.workspace:
        return
    await session.exec(
        update(Identity)
        .where(
            col(Identity.platform) == user.platform,
            col(Identity.workspace) == "",
            col(Identity.user_id) == user.user_id,
        )
        .values(workspace=user.workspace)
    )


def identity_is(user: UserRef | None = None) -> tuple[ColumnElement[bool], ...]:
    """The conditions that find `user`'s identities: ids are only compared within their platform and
    workspace (Slack team), so the same id in two workspaces never names the same person. Without a
    user, the same conditions on bound parameters `platform`, `workspace` and `user_id` (for a
    statement built once)."""
    platform: Any
    workspace: Any
    user_id: Any
    if user is None:
        platform, workspace, user_id = bindparam("platform"), bindparam("workspace"), bindparam("user_id")
    else:
        platform, workspace, user_id = user.platform, user.workspace, user.user_id
    return (
        col(Identity.platform) == platform,
        col(Identity.workspace) == workspace,
        col(Identity.user_id) == user_id,
    )


async def dm_destination(session: AsyncSession, member: Member) -> Destination | None:
    """Where a DM to `member` goes: their primary identity (the lowest id, i.e. the one they joined with);
    for a member reachable only by e-mail (added with /wg member add), their address."""
    if member.erased_at is not None:
        return None
    q = select(Identity).where(Identity.member_id == member.id).order_by(col(Identity.id)).limit(1)
    ident = (await session.exec(q)).first()
    if ident is None:
        return email_destination(member.email) if member.email else None
    return Destination(ident.platform, f"dm:{ident.user_id}", f"dm:{ident.handle}")


async def dm_destinations(session: AsyncSession, members: Seq[Member]) -> dict[int, Destination | None]:
    """`dm_destination` for many members in one query (a digest goes to thousands)."""
    ids = [m.id for m in members if m.id is not None and m.erased_at is None]
    primary: dict[int, Identity] = {}
    if ids:
        q = select(Identity).where(col(Identity.member_id).in_(ids)).order_by(col(Identity.id))
        for ident in (await session.exec(q)).all():
            primary.setdefault(ident.member_id, ident)
    out: dict[int, Destination | None] = {}
    for m in members:
        assert m.id is not None
        first = primary.get(m.id)
        if m.erased_at is not None:
            out[m.id] = None
        elif first is None:
            out[m.id] = email_destination(m.email) if m.email else None
        else:
            out[m.id] = Destination(first.platform, f"dm:{first.user_id}", f"dm:{first.handle}")
    return out


def email_destination(address: str) -> Destination:
    return Destination("email", f"email:{address}", f"email:{address}")


async def email_only(session: AsyncSession, member: Member) -> bool:
    """A member with an address and no chat account: e-mail is the only way to reach them."""
    if member.erased_at is not None or not member.email:
        return False
    q = select(Identity.id).where(Identity.member_id == member.id).limit(1)
    return (await session.exec(q)).first() is None


_BOUND_CHANNELS = select(Channel).where(Channel.wg_id == bindparam("wg_id")).order_by(col(Channel.id))


async def channel_destinations(session: AsyncSession, wg_id: int) -> list[tuple[Channel, Destination]]:
    """Every channel bound to a group, with its outbox destination (what `Ctx.announce` posts to)."""
    return [
        (ch, Destination(ch.platform, f"channel:{ch.channel_id}", f"channel:{ch.name}"))
        for ch in (await session.exec(_BOUND_CHANNELS, params={"wg_id": wg_id})).all()
    ]


def parse_ref(value: str, letter: str, what: str) -> int:
    """`P3`, `p3`, `#P3` → 3; anything else is a clear error."""
    v = value.strip().lstrip("#").upper()
    if len(v) >= 2 and v[0] == letter and v[1:].isascii() and v[1:].isdigit() and len(v) < 10:
        return int(v[1:])
    raise UserError(f"`{value[:40]}` is not a {what} id; they look like {letter}1, {letter}2, …")
