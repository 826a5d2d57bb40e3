"""A direct message to the bot on Discord is a command, like a DM to the bot on Slack: the same text
as `/wg` (`proposals`, `/wg me`), and plain words get the core's offline how-to.

Only DMs: the `dm_messages` intent delivers the messages people send the bot privately, and nothing
from channels (that would take `guild_messages`, every message of every channel the bot can see). In
a channel, `/wg` is the way. The message id is the event id, so a DM delivered to several processes
(or sessions) is answered once.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from adapters.discord.interactions import Bridge, _send_kwargs
from adapters.discord.render import render
from bot.command import UserRef, Where
from bot.reply import Response

log = logging.getLogger(__name__)


async def on_direct_message(bridge: Bridge, message: discord.Message) -> bool:
    """Run a DM as a command and answer in the DM; False when the message is not one to answer."""
    if message.guild is not None or message.author.bot or not message.content.strip():
        return False
    user = UserRef(platform="discord", user_id=str(message.author.id), handle=message.author.name)
    where = Where(platform="discord", channel_id=str(message.channel.id), channel_name="dm", is_dm=True)
    task = bridge.track(
        bridge.core.handle_text(message.content, user, where, event_id=f"message:{message.id}"),
        key=(user.user_id, where.channel_id),
    )
    response = await task
    if response == Response():
        return True  # already answered (another process or session)
    try:
        for reply in response.replies:
            for msg in render(reply):
                kwargs: dict[str, Any] = _send_kwargs(msg)
                await message.channel.send(**kwargs)
    except discord.HTTPException as exc:
        log.warning("answering a Discord DM failed: %s %s", exc.status, exc.text[:200])
    return True
