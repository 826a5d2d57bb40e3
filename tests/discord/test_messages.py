"""A DM to the bot on Discord is a command; plain words get the offline how-to, once."""

from __future__ import annotations

from tests.discord.conftest import Bot
from tests.discord.test_interactions import embed_text, setup_group
from tests.fakes.discord_server import DiscordServer, FakeUser


async def dm(server: DiscordServer, user: FakeUser, text: str) -> int:
    """`user` writes to the bot privately; returns the DM channel id."""
    channel = server._dm_channels.setdefault(user.id, server.new_id())
    server.messages.setdefault(channel, [])
    await server.push_message(text, user=user, channel_id=channel)
    return channel


async def answers(server: DiscordServer, channel: int, count: int) -> list[str]:
    recs = await server.wait_request("POST", rf"^/channels/{channel}/messages$", count=count)
    return [embed_text(r.body) for r in recs]


async def test_plain_words_in_a_dm_get_the_how_to(bot: Bot, server: DiscordServer, alice: FakeUser) -> None:
    await setup_group(bot, alice)
    channel = await dm(server, alice, "how do I schedule a meeting?")
    [text] = await answers(server, channel, 1)
    assert "Unknown command" not in text and "/wg meeting" in text and "/wg help" in text


async def test_a_command_in_a_dm_is_answered_in_the_dm(bot: Bot, server: DiscordServer, alice: FakeUser) -> None:
    await setup_group(bot, alice)
    channel = await dm(server, alice, "me")
    [text] = await answers(server, channel, 1)
    assert "civil-society" in text
    await bot.client.bridge.drain()
    assert len(server.matching("POST", rf"^/channels/{channel}/messages$")) == 1
