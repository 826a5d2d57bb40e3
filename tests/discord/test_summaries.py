"""Thread summaries on Discord, end to end: the real client against the loopback Discord server.

`/wg summarize` typed inside a thread and the "Summarize thread" message menu both defer at once
(an ephemeral "thinking" answer), read the thread through `channel.history`, and send the summary as
a public follow-up with jump links to the source messages."""

from __future__ import annotations

from typing import Any

from tests.discord.conftest import Bot, assert_no_pings
from tests.discord.test_interactions import EPHEMERAL, embed_text, setup_group
from tests.fakes.discord_server import DiscordServer, FakeUser

THINKING = 5


def defer_everything(bot: Bot) -> None:
    """From now on every interaction is deferred at once, as a slow summary (a model call) would be."""
    bot.client.bridge.defer_after = 0.0


async def _thread(server: DiscordServer, alice: FakeUser, bob: FakeUser) -> dict[str, Any]:
    starter = server.message_payload(server.channel_id, {"content": "Shall we adopt the ATLAS taxonomy?"}, author=alice)
    starter["id"] = str(server.thread_id)  # a thread started from a message shares its id
    starter["flags"] = 32  # HAS_THREAD
    server.store(starter)
    await server.push_message("Decision: we adopt ATLAS with an OWASP annex.", user=alice, channel_id=server.thread_id)
    await server.push_message("I'll draft the annex by friday.", user=bob, channel_id=server.thread_id)
    await server.push_message(
        f"Who presents it? <@{alice.id}> maybe, mail bob@example.org", user=bob, channel_id=server.thread_id
    )
    return starter


def _follow_up_text(server: DiscordServer, token: str) -> tuple[str, dict[str, Any]]:
    [follow] = server.matching("POST", rf"^/webhooks/\d+/{token}$")
    return embed_text(follow.body), follow.body


async def test_wg_summarize_in_a_thread_is_deferred_then_followed_up_with_jump_links(
    bot: Bot, server: DiscordServer, alice: FakeUser, bob: FakeUser
) -> None:
    await setup_group(bot, alice, bob)
    await _thread(server, alice, bob)
    defer_everything(bot)
    token = await server.push_command(["wg", "summarize"], {}, user=alice, channel_id=server.thread_id)
    callback = await bot.callback(token)
    assert callback.body["type"] == THINKING and callback.body["data"]["flags"] & EPHEMERAL
    await server.wait_request("POST", rf"^/webhooks/\d+/{token}$")
    text, body = _follow_up_text(server, token)
    assert not (body.get("flags") or 0) & EPHEMERAL  # the summary is public
    assert "Thread summary" in text and "offline summarizer" in text
    assert "Decision: we adopt ATLAS with an OWASP annex." in text
    jump = f"https://discord.com/channels/{server.guild_id}/{server.thread_id}/"
    assert jump in text and "bob@example.org" not in text and f"<@{alice.id}>" not in text
    assert server.matching("DELETE", rf"^/webhooks/\d+/{token}/messages/@original$")  # the "thinking" note
    assert_no_pings(server)


async def test_the_message_menu_summarizes_the_thread_started_from_the_message(
    bot: Bot, server: DiscordServer, alice: FakeUser, bob: FakeUser
) -> None:
    (put,) = server.matching("PUT", r"^/applications/\d+/commands$")
    [menu] = [c for c in server.commands if c["name"] == "Summarize thread"]
    assert menu["type"] == 3 and any(c["name"] == "Summarize thread" and c["type"] == 3 for c in put.body)
    await setup_group(bot, alice, bob)
    starter = await _thread(server, alice, bob)
    defer_everything(bot)
    data = {
        "id": menu["id"],
        "name": "Summarize thread",
        "type": 3,
        "target_id": starter["id"],
        "resolved": {"messages": {starter["id"]: starter}},
    }
    token = await server.push_interaction(2, data, user=bob)  # used in the parent channel
    assert (await bot.callback(token)).body["type"] == THINKING
    await server.wait_request("POST", rf"^/webhooks/\d+/{token}$")
    text, _ = _follow_up_text(server, token)
    assert "Thread summary" in text and "I'll draft the annex by friday." in text
    assert "Shall we adopt the ATLAS taxonomy?" in text


async def test_the_message_menu_on_a_message_without_a_thread_says_so(
    bot: Bot, server: DiscordServer, alice: FakeUser, bob: FakeUser
) -> None:
    await setup_group(bot, alice, bob)
    [menu] = [c for c in server.commands if c["name"] == "Summarize thread"]
    lone = server.store(server.message_payload(server.channel_id, {"content": "Just a remark."}, author=bob))
    data = {
        "id": menu["id"],
        "name": "Summarize thread",
        "type": 3,
        "target_id": lone["id"],
        "resolved": {"messages": {lone["id"]: lone}},
    }
    token = await server.push_interaction(2, data, user=alice)
    callback = await bot.callback(token)
    assert callback.body["type"] == 4 and callback.body["data"]["flags"] & EPHEMERAL
    assert "has no thread" in callback.body["data"]["content"]
