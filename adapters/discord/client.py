"""The discord.py client: intents, mentions policy, the `/wg` tree, persistent components.

Intents: `guilds` (channels and threads in the cache, to know where an interaction came from),
`dm_messages` (a DM to the bot is a command, as on Slack) and `message_content`, which is
*privileged*: it must be enabled in the Developer Portal (Bot → Privileged Gateway Intents) because
thread summaries read what members wrote (`channel.history`); without it Discord returns messages
with empty text. Interactions (slash commands, buttons, selects, modals) need no intent. Nothing
else is requested: no channel messages (`guild_messages`), no members, no presences.

Besides `/wg`, a message context menu entry, **Summarize thread**, runs `/wg summarize` on the thread
a message is in, or was started from.

Application commands are synced in `setup_hook`, which discord.py runs once per `login()`, i.e. once
per process start, not in `on_ready`, which fires again after a session could not be resumed.

Sharding: the client is discord.py's `AutoShardedClient`: one gateway session per shard, all in this
process. Without a shard count it asks Discord (GET /gateway/bot) how many shards to run and runs
them all; with `shard_count` and `shard_ids` (DISCORD_SHARD_COUNT, DISCORD_SHARD_IDS) it runs only
those, so that several processes split the shards between them. Discord sends a guild's events to
shard `(guild_id >> 22) % shard_count` and DMs to shard 0.

Ready as soon as the guild cache is complete: after a shard's READY, discord.py waits until no
GUILD_CREATE has come for `guild_ready_timeout` (2 s) — even when every guild that READY listed has
already arrived, so every start paid 2 s. `_State` ends that shard's wait once each guild its READY
listed has sent its GUILD_CREATE (the cache then holds them all, as after the full wait); a guild
that does not come (an outage) still gets the full `guild_ready_timeout`. The client is ready (and
`on_ready` runs) once every shard is.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.backoff import ExponentialBackoff
from discord.state import AutoShardedConnectionState

from adapters.discord.commands import build_group
from adapters.discord.components import ActionButton, ActionSelect
from adapters.discord.interactions import DEFER_AFTER, Bridge, summarize_command, user_ref, where_of
from adapters.discord.messages import on_direct_message
from bot.core import Core
from bot.lookup import suggest_ids, suggest_timezones

log = logging.getLogger(__name__)
#: the message context menu entry (Discord: "Apps" → this name)
SUMMARIZE_MENU = "Summarize thread"


def intents() -> discord.Intents:
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.message_content = True
    wanted.dm_messages = True  # a DM to the bot is a command (adapters/discord/messages.py)
    return wanted


#: after the last guild a shard's READY listed has arrived: long enough for discord.py's ready task to
#: take the GUILD_CREATEs already queued (it takes queued ones without waiting), then it stops waiting.
READY_GRACE = 0.01


class _State(AutoShardedConnectionState[Any]):
    """discord.py's sharded connection state, but each shard is ready once every guild its READY listed
    has arrived.

    discord.py's per-shard ready task (`_delay_shard_ready`) reads `guild_ready_timeout` before each
    wait for the shard's next GUILD_CREATE; here that attribute answers for the shard whose task reads
    it: the configured timeout while a guild it listed is missing, READY_GRACE once none is."""

    def __init__(self, **options: Any) -> None:
        #: per shard: the guilds its last READY listed that have not sent their GUILD_CREATE yet
        self.pending_guilds: dict[int, set[int]] = {}
        self.configured_ready_timeout = 2.0
        super().__init__(**options)  # sets guild_ready_timeout (the setter below)

    @property  # an attribute in discord.py
    def guild_ready_timeout(self) -> float:
        shard = self._asking_shard()
        if shard is None or self.pending_guilds.get(shard):
            return self.configured_ready_timeout
        return READY_GRACE

    @guild_ready_timeout.setter
    def guild_ready_timeout(self, value: float) -> None:
        self.configured_ready_timeout = value

    def _asking_shard(self) -> int | None:
        """The shard whose ready task is running now (None outside those tasks)."""
        try:
            task = asyncio.current_task()
        except RuntimeError:  # no running event loop
            return None
        tasks: dict[int, asyncio.Task[None]] = getattr(self, "_ready_tasks", {})
        return next((shard for shard, t in tasks.items() if t is task), None)

    def parse_ready(self, data: Any) -> None:
        shard = int(data["shard"][0])
        self.pending_guilds[shard] = {int(g["id"]) for g in data.get("guilds", [])}
        super().parse_ready(data)

    def parse_guild_create(self, data: Any) -> None:
        super().parse_guild_create(data)
        if not data.get("unavailable"):
            for pending in self.pending_guilds.values():
                pending.discard(int(data["id"]))


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Gateway:
    """What /healthz reads as `client.ws` (adapters/runtime.py): open while every shard's session is.
    A sharded client has no single socket: discord.py leaves `Client.ws` None."""

    def __init__(self, client: discord.AutoShardedClient) -> None:
        self.client = client

    @property
    def open(self) -> bool:
        shards = self.client.shards
        return bool(shards) and not any(shard.is_closed() for shard in shards.values())


class WgClient(discord.AutoShardedClient):
    def __init__(
        self,
        core: Core,
        *,
        defer_after: float = DEFER_AFTER,
        identify_delay: float = 5.0,
        fixed_gateway: bool = False,
        **options: Any,
    ) -> None:
        """`options` go to discord.py: `shard_count` and `shard_ids` (both or neither), `guild_ready_timeout`.
        `fixed_gateway`: connect to the configured gateway URL (DISCORD_GATEWAY_URL) rather than the
        one GET /gateway/bot names."""
        super().__init__(intents=intents(), allowed_mentions=discord.AllowedMentions.none(), **options)
        self.core = core
        self.fixed_gateway = fixed_gateway
        #: the gateway GET /gateway/bot named (None: discord.py's, which runtime.py configures)
        self.recommended_gateway: yarl.URL | None = None
        self.identify_delay = identify_delay
        self.bridge = Bridge(core, defer_after=defer_after)
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(build_group(self._run_command, self._complete))
        self.tree.add_command(app_commands.ContextMenu(name=SUMMARIZE_MENU, callback=self._summarize_menu))
        self.synced = 0
        self.ready_count = 0
        self.ready_event = asyncio.Event()

    def _get_state(self, **options: Any) -> AutoShardedConnectionState[Any]:
        return _State(dispatch=self.dispatch, handlers=self._handlers, hooks=self._hooks, http=self.http, **options)

    @property  # an attribute in discord.py
    def ws(self) -> Any:
        return _Gateway(self)

    @ws.setter
    def ws(self, value: Any) -> None:
        """discord.py's `Client.__init__` sets it to None; a sharded client never uses it."""

    async def launch_shards(self) -> None:
        # Without a count, discord.py would ask GET /gateway/bot once and end the client if that
        # failed; here it is asked until it answers (with discord.py's backoff, as a lost gateway is
        # retried), and the URL it names is used unless the operator set one (DISCORD_GATEWAY_URL).
        if self.shard_count is None and not self.is_closed():
            self.shard_count, url = await self._recommended_shards()
            if not self.fixed_gateway:
                self.recommended_gateway = yarl.URL(url)
        await super().launch_shards()

    async def launch_shard(self, gateway: yarl.URL, shard_id: int, *, initial: bool = False) -> None:
        await super().launch_shard(self.recommended_gateway or gateway, shard_id, initial=initial)

    async def _recommended_shards(self) -> tuple[int, str]:
        backoff = ExponentialBackoff()
        while True:
            try:
                count, url, _limits = await self.http.get_bot_gateway()
                return count, url
            except (OSError, discord.HTTPException, discord.GatewayNotFound, aiohttp.ClientError, TimeoutError) as e:
                delay = backoff.delay()
                why = _why(e.__cause__ or e)
                log.warning("Discord: no shard count from GET /gateway/bot (%s); retrying in %.1f s", why, delay)
                await asyncio.sleep(delay)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ActionButton, ActionSelect)
        commands = await self.tree.sync()
        self.synced += 1
        log.info("Discord: %d application command(s) synced", len(commands))

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py waits 5 s before a re-IDENTIFY to respect Discord's identify limit; kept
        # configurable for Discord-compatible servers without that limit (and the loopback tests).
        if not initial:
            await asyncio.sleep(self.identify_delay)

    async def on_ready(self) -> None:
        # May run more than once per process (after a failed resume): do nothing that must run once.
        self.ready_count += 1
        self.ready_event.set()
        log.info("Discord: connected as %s (ready #%d)", self.user, self.ready_count)

    async def on_message(self, message: discord.Message) -> None:
        await on_direct_message(self.bridge, message)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.type == discord.InteractionType.modal_submit:
            await self.bridge.on_modal_submit(interaction)

    async def _run_command(self, interaction: discord.Interaction[Any], text: str) -> None:
        await self.bridge.run_interaction(interaction, text, from_action=False)

    async def _summarize_menu(self, interaction: discord.Interaction[Any], message: discord.Message) -> None:
        """The message menu's "Summarize thread": the thread the message is in, or the one started from it."""
        text = summarize_command(interaction, message)
        if text is None:
            await interaction.response.send_message(
                "That message has no thread. Use “Summarize thread” on a message inside a thread, or on the "
                "message a thread was started from.",
                ephemeral=True,
            )
            return
        await self.bridge.run_interaction(interaction, text, from_action=False)

    async def _complete(
        self, interaction: discord.Interaction[Any], kind: str, current: str
    ) -> list[app_commands.Choice[str]]:
        if kind == "tz":
            found = suggest_timezones(current)
        else:
            where = where_of(interaction)
            found = await suggest_ids(
                self.core.db,
                platform="discord",
                channel_id=where.channel_id,
                user_id=user_ref(interaction).user_id,
                letters=kind,
                typed=current,
                workspace=where.workspace,
            )
        return [app_commands.Choice(name=s.label, value=s.value) for s in found]

    async def close(self) -> None:
        await super().close()
        await self.bridge.drain()
