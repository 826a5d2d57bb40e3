"""Several processes on one bot token: Discord delivers every interaction to every gateway session,
and each interaction still has exactly one effect and one answer."""

from __future__ import annotations

import discord
from sqlmodel import select

from adapters.discord.runtime import create_client
from bot.bootstrap import build
from bot.clock import VirtualClock
from bot.config import Settings
from storage.db import Database
from storage.models import Proposal
from tests.discord.conftest import TOKEN, Bot, start_bot, until
from tests.fakes.discord_server import DiscordServer, FakeUser


async def run_everywhere(
    bots: list[Bot], server: DiscordServer, path: list[str], user: FakeUser, **options: object
) -> list[int]:
    """Push one interaction (delivered to every session); wait until every process is done with it."""
    before = [b.client.bridge.finished for b in bots]
    token = await server.push_command(["wg", *path], dict(options), user=user)
    await until(lambda: all(b.client.bridge.finished > n for b, n in zip(bots, before, strict=True)))
    return [r.status for r in server.matching("POST", rf"^/interactions/\d+/{token}/callback$")]


async def test_two_sessions_receiving_one_interaction_apply_it_once(
    server: DiscordServer, db: Database, clock: VirtualClock, alice: FakeUser
) -> None:
    first = await start_bot(server, db, clock, worker="w1")
    second = await start_bot(server, db, clock, worker="w2")
    bots = [first, second]
    try:
        assert server.sessions == 2
        assert await run_everywhere(bots, server, ["bind"], alice) == [200]
        assert await run_everywhere(bots, server, ["join"], alice, group="civil-society") == [200]
        since = server.mark()
        statuses = await run_everywhere(bots, server, ["propose"], alice, title="Taxonomy", body="Adopt v1.")
        assert statuses == [200], "one answer: the second process does not answer an answered interaction"
        async with db.session() as s:
            assert len((await s.exec(select(Proposal))).all()) == 1
        for b in bots:
            await b.app.run_due()
        posts = [r for r in server.matching("POST", r"^/channels/\d+/messages$", since=since)]
        assert len([p for p in posts if "New proposal P1" in str(p.body)]) == 1
        assert not [p for p in posts if "P2" in str(p.body)]
    finally:
        for b in bots:
            await b.stop()


async def test_shards_are_passed_to_discord(db: Database) -> None:
    """DISCORD_SHARD_IDS of DISCORD_SHARD_COUNT; DISCORD_SHARD_ID (one id) as before; neither: every
    shard, as many as GET /gateway/bot recommends (discord.py asks when it connects)."""
    cases: list[tuple[dict[str, str], list[int] | None, int | None]] = [
        ({"DISCORD_SHARD_IDS": "0, 2", "DISCORD_SHARD_COUNT": "3"}, [0, 2], 3),
        ({"DISCORD_SHARD_ID": "1", "DISCORD_SHARD_COUNT": "3"}, [1], 3),
        ({}, None, None),
    ]
    for env, ids, count in cases:
        settings = Settings(WGBOT_DATABASE_URL=str(db.url), DISCORD_TOKEN=TOKEN, **env)
        app = await build(settings, db=db, upgrade=False)
        client = create_client(app, settings, {})
        assert isinstance(client, discord.AutoShardedClient)
        assert (client.shard_ids, client.shard_count) == (ids, count), env
