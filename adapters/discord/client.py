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
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord import app_commands

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
