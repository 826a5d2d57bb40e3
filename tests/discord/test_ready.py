"""Ready once the guild cache is complete: not before every guild READY listed has arrived, not later.

discord.py on its own waits `guild_ready_timeout` after the last GUILD_CREATE even when every listed
guild is there (adapters/discord/client.py `_State`). These tests set that timeout to 600 s: a client
that waited it would never become ready here.
"""

from __future__ import annotations

import asyncio
import random

from adapters.discord.client import WgClient
from adapters.discord.runtime import start
from bot.bootstrap import build
from bot.clock import VirtualClock
from bot.config import Settings
from storage.db import Database
from tests.discord.conftest import TOKEN, until
from tests.fakes.discord_server import DiscordServer


async def started(server: DiscordServer, db: Database, clock: VirtualClock) -> tuple[WgClient, asyncio.Future[None]]:
    settings = Settings(
        WGBOT_DATABASE_URL=str(db.url),
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_BASE=server.api_base,
        DISCORD_GATEWAY_URL=server.gateway_url,
    )
    app = await build(settings, clock=clock, db=db, rng=random.Random(0), worker_id="w1", upgrade=False)
    options = {"discord_guild_ready_timeout": 600, "discord_defer_after": 60, "discord_identify_delay": 0.0}
    (job,) = await start(app, settings, options)
    client = app.extras["discord_client"]
    assert isinstance(client, WgClient)
    return client, asyncio.ensure_future(job)


async def stop(client: WgClient, task: asyncio.Future[None]) -> None:
    await client.close()
    await asyncio.wait({task}, timeout=10)


async def test_ready_when_every_listed_guild_has_arrived(
    server: DiscordServer, db: Database, clock: VirtualClock
) -> None:
    client, task = await started(server, db, clock)
    try:
        await asyncio.wait_for(client.ready_event.wait(), 20)
        assert [g.id for g in client.guilds] == [server.guild_id]
        guild = client.get_guild(server.guild_id)
        assert guild is not None and not guild.unavailable
        assert guild.get_channel(server.channel_id) is not None
        # a second READY (a session that could not be resumed) is ready again without the wait
        client.ready_event.clear()
        await server.push_ready_again()
        await asyncio.wait_for(client.ready_event.wait(), 20)
        assert client.ready_count == 2
    finally:
        await stop(client, task)


async def test_not_ready_while_a_listed_guild_is_missing(
    server: DiscordServer, db: Database, clock: VirtualClock
) -> None:
    server.unavailable_guilds = [900000000000000999]
    client, task = await started(server, db, clock)
    try:
        # the guild that came is cached (waited for: a loaded machine may take more than a second)…
        await until(lambda: client.get_guild(server.guild_id) is not None)
        await asyncio.sleep(1)  # …and a client that wrongly became ready without the other would by now
        assert not client.ready_event.is_set()
    finally:
        await stop(client, task)
