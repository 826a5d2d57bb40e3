"""The thread port: a Discord thread read through `channel.history`, paged, oldest first, with links."""

from __future__ import annotations

from adapters.discord.threads import DiscordThreadSource
from bot.threads import ThreadSource
from tests.discord.conftest import Bot
from tests.fakes.discord_server import DiscordServer, FakeUser


async def test_a_long_thread_is_read_in_pages_with_its_starter_message(
    bot: Bot, server: DiscordServer, alice: FakeUser, bob: FakeUser
) -> None:
    starter = server.message_payload(server.channel_id, {"content": "Shall we adopt the taxonomy?"}, author=alice)
    starter["id"] = str(server.thread_id)  # Discord: a thread started from a message shares its id
    server.store(starter)
    server.store(server.message_payload(server.thread_id, {"content": "", "type": 21}))  # the starter placeholder
    for i in range(230):
        await server.push_message(f"reply {i}", user=bob if i % 2 else alice, channel_id=server.thread_id)

    source: ThreadSource = DiscordThreadSource(bot.client)
    lines = await source.fetch_thread(str(server.channel_id), str(server.thread_id))

    assert [line.text for line in lines] == ["Shall we adopt the taxonomy?"] + [f"reply {i}" for i in range(230)]
    assert lines[1].author_name == "alice" and lines[2].author_id == str(bob.id)
    assert lines[5].link == f"https://discord.com/channels/{server.guild_id}/{server.thread_id}/{lines[5].message_id}"
    assert lines[0].link == f"https://discord.com/channels/{server.guild_id}/{server.channel_id}/{server.thread_id}"
    pages = server.matching("GET", rf"^/channels/{server.thread_id}/messages$")
    assert len(pages) >= 3 and all(int(p.query["limit"]) <= 100 for p in pages)

    limited = await source.fetch_thread(str(server.channel_id), str(server.thread_id), limit=10)
    assert [line.text for line in limited][-1] == "reply 8" and len(limited) == 10
