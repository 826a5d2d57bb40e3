"""Reading a Discord thread for summaries: `channel.history`, paged by discord.py, with jump links.

A thread started from a message keeps that starter message in the parent channel under the
thread's own id; it is fetched from there and put first, and the thread's placeholder
`thread_starter_message` is skipped so it is not counted twice. Messages of members who opted out
are filtered by the core, not here: this port returns what the thread holds.
"""

from __future__ import annotations

import discord

from bot.threads import ChatLine


def _line(message: discord.Message) -> ChatLine:
    return ChatLine(
        platform="discord",
        message_id=str(message.id),
        author_id=str(message.author.id),
        author_name=message.author.display_name,
        text=message.content,
        at=message.created_at,
        link=message.jump_url,
    )


class DiscordThreadSource:
    platform = "discord"

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    def _guild_id(self, channel_id: int) -> int | None:
        channel = self.client.get_channel(channel_id)
        guild = getattr(channel, "guild", None)
        return guild.id if guild is not None else None

    async def fetch_thread(self, channel_id: str, thread_id: str, *, limit: int = 1000) -> list[ChatLine]:
        parent_id, tid = int(channel_id), int(thread_id)
        guild_id = self._guild_id(parent_id)
        lines: list[ChatLine] = []
        if tid != parent_id:
            parent = self.client.get_partial_messageable(parent_id, guild_id=guild_id)
            try:
                lines.append(_line(await parent.fetch_message(tid)))
            except (discord.NotFound, discord.Forbidden):
                pass  # a thread not started from a message (or a starter since deleted)
        thread = self.client.get_partial_messageable(tid, guild_id=guild_id)
        if len(lines) >= limit:
            return lines[:limit]
        # no limit on the iterator: skipped placeholders must not count; pages are fetched lazily
        async for message in thread.history(limit=None, oldest_first=True):
            if message.type == discord.MessageType.thread_starter_message:
                continue
            lines.append(_line(message))
            if len(lines) >= limit:
                break
        return lines
