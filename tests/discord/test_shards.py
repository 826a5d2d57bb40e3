"""Sharding (discord.py's AutoShardedClient): one process runs every shard Discord recommends, or the
shards DISCORD_SHARD_IDS names of DISCORD_SHARD_COUNT; each guild is served by its shard
(`(guild_id >> 22) % shard_count`), DMs by shard 0. Against the loopback server, which routes events
by shard as Discord does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.clock import VirtualClock
from bot.config import Settings, ShardSettingsError
from storage.db import Database
from tests.discord.conftest import Bot, start_bot, until
from tests.discord.test_ready import started, stop
from tests.fakes.discord_server import DiscordServer

#: the fake's own guild is on shard 1 of 2; this one, the next snowflake "millisecond", on shard 0
GUILD_0 = DiscordServer.guild_id + (1 << 22)
CHANNEL_0 = DiscordServer.channel_id + (1 << 22)


def shard_of(guild_id: int, count: int) -> int:
    return (guild_id >> 22) % count


@pytest.fixture
async def sharded() -> AsyncIterator[DiscordServer]:
    """Discord recommending two shards, with a guild on each."""
    s = DiscordServer(shards=2, more_guilds={GUILD_0: CHANNEL_0})
    assert (shard_of(GUILD_0, 2), shard_of(s.guild_id, 2)) == (0, 1)
    await s.start()
    yield s
    await s.stop()


def answer_text(server: DiscordServer, token: str) -> str:
    (rec,) = server.matching("POST", rf"^/interactions/\d+/{token}/callback$")
    assert rec.status == 200
    data = rec.body.get("data") or {}
    return str(data.get("content")) + str(data.get("embeds"))


async def test_one_process_runs_the_recommended_shards_and_answers_a_guild_on_each(
    sharded: DiscordServer, db: Database, clock: VirtualClock
) -> None:
    server = sharded
    alice = server.user(800000000000000001, "alice")
    bot = await start_bot(server, db, clock)
    try:
        client = bot.client
        assert client.shard_count == 2 and sorted(client.shards) == [0, 1]
        assert sorted(server.session_shards(), key=str) == [(0, 2), (1, 2)]  # one session per shard
        first, second = client.get_guild(GUILD_0), client.get_guild(server.guild_id)
        assert first is not None and second is not None and (first.shard_id, second.shard_id) == (0, 1)
        assert client.is_ready() and client.ws.open  # what /healthz reads

        for channel, guild in ((CHANNEL_0, GUILD_0), (server.channel_id, server.guild_id)):
            since = len(server.delivered)
            token = await server.push_command(["wg", "bind"], {}, user=alice, channel_id=channel)
            await bot.callback(token)
            assert "bound" in answer_text(server, token)
            sent = [d for d in server.delivered[since:] if d[0] == "INTERACTION_CREATE"]
            assert sent == [("INTERACTION_CREATE", guild, shard_of(guild, 2))], "only the guild's shard got it"

        # a DM comes on shard 0
        dm = server._dm_channels.setdefault(alice.id, server.new_id())
        server.messages.setdefault(dm, [])
        since = len(server.delivered)
        token = await server.push_command(["wg", "help"], {}, user=alice, channel_id=dm, dm=True)
        await bot.callback(token)
        sent = [d for d in server.delivered[since:] if d[0] == "INTERACTION_CREATE"]
        assert sent == [("INTERACTION_CREATE", None, 0)]

        # a shard's session is invalidated: discord.py identifies that shard again, and /healthz's
        # view is back to every shard open
        await server.invalidate_session()
        await until(lambda: server.identifies >= 3)
        await until(lambda: client.ws.open and len(server.session_shards()) == 2)
    finally:
        await bot.stop()
    assert not client.ws.open


async def test_without_a_configured_gateway_discord_py_uses_the_url_gateway_bot_names(
    sharded: DiscordServer, db: Database, clock: VirtualClock
) -> None:
    bot = await start_bot(sharded, db, clock, env={"DISCORD_GATEWAY_URL": None})
    try:
        assert bot.client.shard_count == 2 and sharded.sessions == 2
        assert len(sharded.matching("GET", r"^/gateway/bot$")) == 1
    finally:
        await bot.stop()


async def test_gateway_bot_failing_at_start_is_asked_again(
    sharded: DiscordServer, db: Database, clock: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """discord.py alone would end the client when GET /gateway/bot fails once; it is retried."""
    sharded.fail("GET", r"^/gateway/bot$", 503, message="unavailable")
    bot = await start_bot(sharded, db, clock)
    try:
        assert bot.client.shard_count == 2 and sharded.sessions == 2
        assert [r.status for r in sharded.matching("GET", r"^/gateway/bot$")] == [503, 200]
        assert any("no shard count from GET /gateway/bot" in r.getMessage() for r in caplog.records)
    finally:
        await bot.stop()


async def test_two_processes_split_the_shards(sharded: DiscordServer, db: Database, clock: VirtualClock) -> None:
    """DISCORD_SHARD_IDS per process: each has its own guilds, and no process sees the other's events."""
    server = sharded
    alice = server.user(800000000000000001, "alice")
    bots: list[Bot] = []
    try:
        for worker, ids in (("w1", "0"), ("w2", "1")):
            env: dict[str, str | None] = {"DISCORD_SHARD_IDS": ids, "DISCORD_SHARD_COUNT": "2"}
            bots.append(await start_bot(server, db, clock, worker=worker, env=env))
        zero, one = bots
        assert [g.id for g in zero.client.guilds] == [GUILD_0]
        assert [g.id for g in one.client.guilds] == [server.guild_id]
        assert not server.matching("GET", r"^/gateway/bot$"), "the count is given: nothing to ask"
        for bot, channel in ((zero, CHANNEL_0), (one, server.channel_id)):
            other = one if bot is zero else zero
            before = (bot.client.bridge.finished, other.client.bridge.finished)
            token = await server.push_command(["wg", "bind"], {}, user=alice, channel_id=channel)
            await bot.callback(token)
            await until(lambda b=bot, n=before[0]: b.client.bridge.finished > n)  # type: ignore[misc]
            assert other.client.bridge.finished == before[1]
    finally:
        for bot in bots:
            await bot.stop()


async def test_each_shard_is_ready_without_the_guild_wait(
    sharded: DiscordServer, db: Database, clock: VirtualClock
) -> None:
    """As tests/discord/test_ready.py, per shard: a 600 s guild_ready_timeout is never waited when
    every guild each shard's READY listed has arrived; a guild missing on one shard holds readiness."""
    client, task = await started(sharded, db, clock)
    try:
        await asyncio.wait_for(client.ready_event.wait(), 20)
        assert sorted(g.id for g in client.guilds) == sorted([GUILD_0, sharded.guild_id])
        client.ready_event.clear()
        await sharded.push_ready_again()  # both shards READY again: ready again, without the wait
        await asyncio.wait_for(client.ready_event.wait(), 20)
    finally:
        await stop(client, task)

    sharded.unavailable_guilds = [GUILD_0 + (2 << 22)]  # on shard 0, never sends GUILD_CREATE
    client, task = await started(sharded, db, clock)
    try:
        await until(lambda: len(client.shards) == 2 and client.get_guild(sharded.guild_id) is not None)
        await asyncio.sleep(1)
        assert not client.ready_event.is_set()
    finally:
        await stop(client, task)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"DISCORD_SHARD_IDS": "0,2", "DISCORD_SHARD_COUNT": "2"},
            "DISCORD_SHARD_IDS must be below DISCORD_SHARD_COUNT (2)",
        ),
        (
            {"DISCORD_SHARD_ID": "2", "DISCORD_SHARD_COUNT": "2"},
            "DISCORD_SHARD_ID must be below DISCORD_SHARD_COUNT (2)",
        ),
        ({"DISCORD_SHARD_IDS": "0,1"}, "DISCORD_SHARD_IDS is set without DISCORD_SHARD_COUNT"),
        ({"DISCORD_SHARD_ID": "1"}, "DISCORD_SHARD_ID is set without DISCORD_SHARD_COUNT"),
        ({"DISCORD_SHARD_COUNT": "2"}, "DISCORD_SHARD_COUNT is set without DISCORD_SHARD_IDS"),
        ({"DISCORD_SHARD_IDS": "0;1", "DISCORD_SHARD_COUNT": "2"}, "DISCORD_SHARD_IDS must be shard ids separated"),
        ({"DISCORD_SHARD_IDS": "0,-1", "DISCORD_SHARD_COUNT": "2"}, "DISCORD_SHARD_IDS must be shard ids separated"),
        ({"DISCORD_SHARD_IDS": "1,1", "DISCORD_SHARD_COUNT": "2"}, "DISCORD_SHARD_IDS names a shard twice"),
        ({"DISCORD_SHARD_IDS": "0", "DISCORD_SHARD_ID": "0", "DISCORD_SHARD_COUNT": "2"}, "are both set"),
        ({"DISCORD_SHARD_IDS": "0", "DISCORD_SHARD_COUNT": "0"}, "DISCORD_SHARD_COUNT must be a whole number, 1"),
        ({"DISCORD_SHARD_ID": "x", "DISCORD_SHARD_COUNT": "2"}, "DISCORD_SHARD_ID must be one shard id"),
        ({"DISCORD_SHARD_IDS": "0", "DISCORD_SHARD_COUNT": "100001"}, "DISCORD_SHARD_COUNT must be at most 100,000"),
        ({"DISCORD_SHARD_IDS": "0", "DISCORD_SHARD_COUNT": "9" * 23}, "DISCORD_SHARD_COUNT must be at most 100,000"),
        ({"DISCORD_SHARD_IDS": "0", "DISCORD_SHARD_COUNT": "9" * 5000}, "DISCORD_SHARD_COUNT must be at most 100,000"),
        ({"DISCORD_SHARD_IDS": "9" * 5000, "DISCORD_SHARD_COUNT": "2"}, "DISCORD_SHARD_IDS must be below"),
    ],
)
def test_inconsistent_shard_settings_are_one_line_naming_the_variable(env: dict[str, str], expected: str) -> None:
    """Loading the settings accepts them (every other command must work); the Discord adapter's own
    reading of them refuses, in one line naming the variable."""
    settings = Settings(_env_file=None, **env)  # type: ignore[arg-type]
    with pytest.raises(ShardSettingsError) as caught:
        settings.discord_sharding()
    line = str(caught.value)
    assert expected in line and "\n" not in line, line


def test_shard_settings_that_go_together() -> None:
    assert Settings(DISCORD_SHARD_IDS="99999", DISCORD_SHARD_COUNT="100000").discord_sharding() == ([99999], 100000)  # type: ignore[call-arg]
    assert Settings(DISCORD_SHARD_IDS=" 0, 2 ", DISCORD_SHARD_COUNT="3").discord_sharding() == ([0, 2], 3)  # type: ignore[call-arg]
    assert Settings(DISCORD_SHARD_ID="1", DISCORD_SHARD_COUNT="3").discord_sharding() == ([1], 3)  # type: ignore[call-arg]
    assert Settings(_env_file=None).discord_sharding() is None  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "env",
    [{"DISCORD_SHARD_COUNT": "2"}, {"DISCORD_SHARD_ID": "x", "DISCORD_SHARD_COUNT": "99999999999999999999999"}],
)
async def test_without_a_discord_token_run_ignores_the_shard_settings_with_one_warning(
    env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """A Slack-only deployment whose shared environment file holds a stray shard count: `wgbot run`
    does not refuse it (here nothing else is configured either, so it stops on that instead)."""
    import logging

    from adapters.runtime import NothingConfigured, serve

    settings = Settings(_env_file=None, **env)  # type: ignore[arg-type]
    assert settings.discord_token is None
    with caplog.at_level(logging.WARNING, logger="adapters.runtime"), pytest.raises(NothingConfigured):
        await serve(settings)
    [warning] = [r.getMessage() for r in caplog.records if "DISCORD_SHARD" in r.getMessage()]
    assert warning == "DISCORD_SHARD_* settings ignored: DISCORD_TOKEN is not set, so this process runs no Discord"
