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

Ready as soon as the guild cache is complete: after READY, discord.py waits until no GUILD_CREATE
has come for `guild_ready_timeout` (2 s) — even when every guild READY listed has already arrived,
so every start paid 2 s. `_State` ends that wait once each guild READY listed has sent its
GUILD_CREATE (the cache then holds them all, as after the full wait); a guild that does not come
(an outage) still gets the full `guild_ready_timeout`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord import app_commands
from discord.state import ConnectionState

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


#: after the last guild READY listed has arrived: long enough for discord.py's ready task to take the
#: GUILD_CREATEs already queued (it takes queued ones without waiting), then it stops waiting.
READY_GRACE = 0.01


class _State(ConnectionState[Any]):
    """discord.py's connection state, but ready once every guild READY listed has arrived."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.configured_ready_timeout = self.guild_ready_timeout
        self.pending_guilds: set[int] = set()

    def parse_ready(self, data: Any) -> None:
        # Read by discord.py's ready task before each wait for the next GUILD_CREATE.
        self.pending_guilds = {int(g["id"]) for g in data.get("guilds", [])}
        self.guild_ready_timeout = self.configured_ready_timeout if self.pending_guilds else READY_GRACE
        super().parse_ready(data)

    def parse_guild_create(self, data: Any) -> None:
        super().parse_guild_create(data)
        if self.pending_guilds and not data.get("unavailable"):
            self.pending_guilds.discard(int(data["id"]))
            if not self.pending_guilds:
                self.guild_ready_timeout = READY_GRACE


class WgClient(discord.Client):
    def __init__(
        self, core: Core, *, defer_after: float = DEFER_AFTER, identify_delay: float = 5.0, **options: Any
    ) -> None:
        super().__init__(intents=intents(), allowed_mentions=discord.AllowedMentions.none(), **options)
        self.core = core
        self.identify_delay = identify_delay
        self.bridge = Bridge(core, defer_after=defer_after)
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(build_group(self._run_command, self._complete))
        self.tree.add_command(app_commands.ContextMenu(name=SUMMARIZE_MENU, callback=self._summarize_menu))
        self.synced = 0
        self.ready_count = 0
        self.ready_event = asyncio.Event()

    def _get_state(self, **options: Any) -> ConnectionState[Any]:
        return _State(dispatch=self.dispatch, handlers=self._handlers, hooks=self._hooks, http=self.http, **options)

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
