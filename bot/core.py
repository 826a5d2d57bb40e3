"""The core's entry point: a command in, a Response out, in one transaction.

Adapters call `Core.handle_text()` (typed text, buttons, forms) or `Core.handle()` (already parsed).
A handler either completes — its changes and its outbox messages committed together — or raises a
UserError, in which case nothing it did is kept and the speaker gets a private, specific error.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import bindparam, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import bot.services  # noqa: F401  (registers the handlers)
from bot import ratelimit
from bot.clock import Clock
from bot.command import Command, UserRef, Where
from bot.deps import Deps, Followup
from bot.didyoumean import answer_unknown, is_plain_words
from bot.errors import UnknownCommand, UserError
from bot.grammar import SPECS, Spec, parse
from bot.ratelimit import Limits
from bot.reply import Reply, Response
from bot.services.context import HANDLERS, Ctx, adopt_identities, find_channel_and_group, identity_is
from bot.services.invites import group_of_invitation
from bot.suggest import suggest_command
from storage.db import Database, is_unavailable
from storage.models import Identity, InboundEvent, Member, WorkingGroup

log = logging.getLogger(__name__)

#: the answer while the database is down or restarting: nothing was done, and it is worth retrying
DATABASE_AWAY = (
    "The bot cannot reach its database right now (it may be restarting); nothing was changed. Try again in a minute."
)
#: commands that work before the speaker has a group or a membership (link finds the group by its code)
NO_GROUP_NEEDED = {"help", "bind", "link"}
_RECORD_EVENT = insert(InboundEvent)  # its values as parameters: built and compiled once
# the speaker's identity in a group and their member, built once (run by every command; see
# storage.db.per_dialect)
_IDENTITY_AND_MEMBER = (
    select(Identity, Member)
    .outerjoin(Member, col(Member.id) == col(Identity.member_id))
    .where(Identity.wg_id == bindparam("wg_id"), *identity_is())
)
NOT_A_MEMBER = (
    "You are not a member of any working group yet. To join one, run /wg join <stakeholder-group> "
    "in a channel bound to it, or ask one of its conveners for an invitation code and send here: "
    "/wg join <stakeholder-group> invite:<code>"
)


class _OverLimit(Exception):
    def __init__(self, refusal: str) -> None:
        self.refusal = refusal


def available_commands() -> dict[str, Spec]:
    """The grammar of the commands that exist today (registered handlers), in the grammar's order."""
    return {name: spec for name, spec in SPECS.items() if name in HANDLERS}


class Core:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        rng: random.Random | None = None,
        on_enqueued: Callable[[], None] | None = None,
        public_url: str | None = None,
        limits: Limits | None = None,
        deps: Deps | None = None,
    ) -> None:
        self.db = db
        self.public_url = public_url
        self.limits = limits or Limits()
        self.deps = deps
        self.clock = clock
        self.rng = rng or random.Random()
        self._on_enqueued = on_enqueued or (lambda: None)

    async def _database_away(self, exc: BaseException) -> bool:
        """The failure is the database being unreachable (down, restarting), not a bug."""
        return is_unavailable(exc) or (isinstance(exc, OSError) and not await self.db.reachable())

    def set_enqueued_hook(self, hook: Callable[[], None]) -> None:
        self._on_enqueued = hook

    async def handle_text(
        self,
        text: str,
        user: UserRef,
        where: Where,
        *,
        from_action: bool = False,
        event_id: str | None = None,
    ) -> Response:
        """Parse and run a command. With `event_id` (a platform's delivery id), a re-delivery of an
        event already handled does nothing and returns an empty Response."""
        try:
            return await self._handle_text(text, user, where, from_action=from_action, event_id=event_id)
        except Exception as exc:
            if await self._database_away(exc):
                log.warning("command refused: the database is unreachable (%s)", type(exc).__name__)
                return Response(replies=[Reply.error(DATABASE_AWAY)])
            raise

    async def _handle_text(
        self,
        text: str,
        user: UserRef,
        where: Where,
        *,
        from_action: bool = False,
        event_id: str | None = None,
    ) -> Response:
        if event_id is not None and await self.event_handled(user.platform, event_id):
            return Response()
        try:
            cmd = parse(text, user, where)
        except UserError as exc:
            # no command, but it counts against the sender's limit all the same (before any model is
            # asked what plain words mean: an unknown command must not be a way round the limit)
            duplicate, refusal = await self._count_unparsed(user, event_id)
            if duplicate:
                return Response()
            if refusal is not None:
                return Response(replies=[Reply.error(refusal)])
            if isinstance(exc, UnknownCommand):
                return Response(replies=[await self._unknown(exc.typed, user, where)])
            return Response(replies=[Reply.error(exc.message, exc.usage)])
        cmd.from_action = from_action
        return await self._handle(cmd, event_id=event_id)

    async def _count_unparsed(self, user: UserRef, event_id: str | None) -> tuple[bool, str | None]:
        """Text that parsed as no command: record its event id and count it against its sender's
        per-minute limit, in one transaction. (True if the event was already handled, a refusal
        text if the sender is over the limit.)"""
        limit = self.limits.commands
        if limit.off:
            return (event_id is not None and await self.seen_event(user.platform, event_id)), None
        now = self.clock.now()
        try:
            async with self.db.transaction() as session:
                if event_id is not None:  # a duplicate fails here, on the unique key
                    conn = await session.connection()
                    event = {"platform": user.platform, "event_id": event_id[:200], "received_at": now}
                    await conn.execute(_RECORD_EVENT, event)
                count = await ratelimit.hit(session, ratelimit.person_key("cmd", user), limit, now)
        except IntegrityError:
            return True, None
        return False, (self._too_fast(limit, now) if count > limit.count else None)

    @staticmethod
    def _too_fast(limit: ratelimit.Limit, now: datetime) -> str:
        return (
            f"You are sending commands too fast (the limit is {limit.count} {ratelimit.per(limit)}). "
            f"Try again in {ratelimit.wait_text(now, limit)}."
        )

    async def _unknown(self, typed: str, user: UserRef, where: Where) -> Reply:
        """Text that is no command: with a model, plain words get the command it would run, for the
        person to confirm (bot/suggest.py); otherwise, and for typos, the offline "did you mean"."""
        commands = available_commands()
        if self.deps is not None and self.deps.llm is not None and is_plain_words(typed, commands):
            try:
                suggestion = await suggest_command(self.deps, typed, user, where, set(commands))
            except Exception:
                log.exception("suggesting a command failed; answering offline")
                suggestion = None
            if suggestion is not None:
                return suggestion
        return answer_unknown(typed, commands)

    async def handle(self, cmd: Command, *, event_id: str | None = None) -> Response:
        """Run a command (see `_handle`); while the database is unreachable, a clear "try again"."""
        try:
            return await self._handle(cmd, event_id=event_id)
        except Exception as exc:
            if await self._database_away(exc):
                log.warning("command %s refused: the database is unreachable (%s)", cmd.name, type(exc).__name__)
                return Response(replies=[Reply.error(DATABASE_AWAY)])
            raise

    async def _handle(self, cmd: Command, *, event_id: str | None = None) -> Response:
        """Run a command in one transaction.

        The event id, when given, is recorded in that same transaction: a crash before the commit
        leaves the event unrecorded, so the platform's retry runs it; a concurrent duplicate fails on
        the unique key and is dropped. Refusals (user errors) are recorded too, so a retried bad
        command is answered once.
        """
        platform = cmd.user.platform
        handler = HANDLERS.get(cmd.name)
        if handler is None:
            if event_id is not None:
                await self.seen_event(platform, event_id)
            word = cmd.name.replace(".", " ")
            return Response(replies=[Reply.error(f"`/wg {word}` is not available yet. Type /wg help for what works.")])
        ctx: Ctx | None = None
        try:
            async with self.db.transaction() as session:
                # counted first, in the command's own transaction: one transaction per command, not two
                # (a refused or failed command is counted again below, in a transaction of its own)
                if (refusal := await self._over_command_limit(session, cmd)) is not None:
                    raise _OverLimit(refusal)
                if event_id is not None:  # a duplicate fails here, on the unique key (IntegrityError below)
                    conn = await session.connection()
                    event = {"platform": platform, "event_id": event_id[:200], "received_at": self.clock.now()}
                    await conn.execute(_RECORD_EVENT, event)
                ctx = Ctx(
                    session=session,
                    cmd=cmd,
                    now=self.clock.now(),
                    rng=self.rng,
                    public_url=self.public_url,
                    limits=self.limits,
                    deps=self.deps,
                )
                await self._resolve(ctx)
                result = await handler(ctx)
        except _OverLimit as over:
            if event_id is not None:
                await self.seen_event(platform, event_id)
            return Response(replies=[Reply.error(over.refusal)])
        except UserError as exc:
            # what a refusal must leave behind (its count against the limit, a wrong code counted), in a
            # transaction of its own
            await self._record_refusal(cmd, ctx.on_refusal if ctx is not None else [])
            if event_id is not None and await self.seen_event(platform, event_id):
                return Response()
            return Response(replies=[Reply.error(exc.message, exc.usage)])
        except IntegrityError:
            await self._record_refusal(cmd, [])
            if event_id is not None and await self.event_handled(platform, event_id):
                return Response()
            log.warning("command %s clashed with a concurrent change", cmd.name)
            return Response(
                replies=[Reply.error("That clashed with another change made at the same moment; try again.")]
            )
        except Exception as exc:
            if await self._database_away(exc):
                raise  # answered by handle(): the database is away, not a bug
            log.exception("command %s failed", cmd.name)
            return Response(replies=[Reply.error("Something went wrong on our side; nothing was changed.")])
        self._on_enqueued()
        if isinstance(result, Followup):
            return await self._follow_up(cmd, result)
        return result if isinstance(result, Response) else Response(replies=[result])

    async def _over_command_limit(self, session: AsyncSession, cmd: Command) -> str | None:
        """Count this command against its sender's per-minute limit; the refusal text when over it."""
        limit = self.limits.commands
        if limit.off:
            return None
        now = self.clock.now()
        count = await ratelimit.hit(session, ratelimit.person_key("cmd", cmd.user), limit, now)
        return None if count <= limit.count else self._too_fast(limit, now)

    async def _record_refusal(self, cmd: Command, records: list[Callable[[AsyncSession], Awaitable[object]]]) -> None:
        """A command that was refused or clashed still counts against its sender's limit (its own
        transaction rolled its count back): hammering the bot with bad commands is limited too."""
        limit = self.limits.commands
        if limit.off and not records:
            return
        async with self.db.transaction() as session:
            if not limit.off:
                await ratelimit.hit(session, ratelimit.person_key("cmd", cmd.user), limit, self.clock.now())
            for record in records:
                await record(session)

    async def _follow_up(self, cmd: Command, followup: Followup) -> Response:
        """The slow part of a command, outside any transaction; it commits its own changes."""
        try:
            response = await followup.run()
        except UserError as exc:
            return Response(replies=[Reply.error(exc.message, exc.usage)])
        except Exception:
            log.exception("command %s failed after its checks", cmd.name)
            return Response(replies=[Reply.error("Something went wrong on our side; please try again later.")])
        self._on_enqueued()
        return response

    async def _resolve(self, ctx: Ctx) -> None:
        """Find the speaker's working group (from the channel, else from their memberships) and member.

        A channel names its group; elsewhere (a DM, an unbound channel) only the speaker's own
        identities do. Someone with none gets an explanation of how to join, never a group: a DM to
        the bot is no way into a group (an invitation is, see /wg join … invite:).
        """
        s, where, user = ctx.session, ctx.cmd.where, ctx.cmd.user
        if ctx.cmd.name == "join" and "invite" in ctx.cmd.options:  # the invitation names the group
            ctx.wg, ctx.invitation = await group_of_invitation(ctx, ctx.cmd.options["invite"])
            await self._find_member(ctx, ctx.wg)
            return
        ch, wg = await find_channel_and_group(s, where)
        if ch is None:
            idents = (await s.exec(select(Identity).where(*identity_is(user)))).all()
            if not idents and user.workspace:
                await adopt_identities(s, user)
                idents = (await s.exec(select(Identity).where(*identity_is(user)))).all()
            wg_ids = {i.wg_id for i in idents}
            if len(wg_ids) == 1:
                wg = await s.get(WorkingGroup, wg_ids.pop())
            elif not wg_ids and where.is_dm and ctx.cmd.name not in NO_GROUP_NEEDED:
                raise UserError(NOT_A_MEMBER)
        ctx.wg = wg
        if wg is None:
            if ctx.cmd.name not in NO_GROUP_NEEDED:
                ctx.require_wg()
            return
        await self._find_member(ctx, wg)
        if ctx.member is None and ctx.cmd.name not in (*NO_GROUP_NEEDED, "join") and ctx.cmd.name in SPECS:
            ctx.require_member()

    @staticmethod
    async def _find_member(ctx: Ctx, wg: WorkingGroup) -> None:
        # the member comes in the same query (session.get below then finds it without one)
        user = ctx.cmd.user
        params = {"wg_id": wg.id, "platform": user.platform, "workspace": user.workspace, "user_id": user.user_id}
        row = (await ctx.session.exec(_IDENTITY_AND_MEMBER, params=params)).first()
        if row is None and user.workspace:
            await adopt_identities(ctx.session, user)
            row = (await ctx.session.exec(_IDENTITY_AND_MEMBER, params=params)).first()
        ident = row[0] if row is not None else None
        if ident is not None:
            member = await ctx.session.get(Member, ident.member_id)
            if member is not None and member.erased_at is None:
                ctx.member, ctx.identity = member, ident

    async def event_handled(self, platform: str, event_id: str) -> bool:
        async with self.db.session() as s:
            q = select(InboundEvent.id).where(
                InboundEvent.platform == platform, InboundEvent.event_id == event_id[:200]
            )
            return (await s.exec(q)).first() is not None

    async def seen_event(self, platform: str, event_id: str) -> bool:
        """Record an inbound event id; True if it was already handled (a retry or a duplicate)."""
        now = self.clock.now()
        try:
            async with self.db.transaction() as s:
                s.add(InboundEvent(platform=platform, event_id=event_id[:200], received_at=now))
        except IntegrityError:
            return True
        return False
