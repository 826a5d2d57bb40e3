"""Discord fixtures: the loopback Discord server and the real app + client started against it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.discord.client import WgClient
from adapters.discord.runtime import start
from bot.bootstrap import App, build
from bot.clock import VirtualClock
from bot.config import Settings
from storage.db import Database
from tests.fakes.discord_server import DiscordServer, FakeUser, Recorded

APP_ID = 900000000000000001
TOKEN = base64.b64encode(str(APP_ID).encode()).decode().rstrip("=") + ".Gs3cr3t.t0kenPart"
#: requests that create or change a message's content (not modals, defers or autocompletion)
MESSAGE_PATHS = r"^/(channels/\d+/messages(/\d+)?|webhooks/\d+/[^/]+(/messages/@original)?)$"


@dataclass
class Bot:
    app: App
    client: WgClient
    task: asyncio.Task[Any]
    server: DiscordServer

    async def stop(self) -> None:
        await self.client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, 30)

    async def command(self, path: list[str], user: FakeUser, **options: Any) -> Recorded:
        """Run `/wg <path> options…` and return the interaction callback request."""
        token = await self.server.push_command(["wg", *path], options, user=user)
        return await self.callback(token)

    async def callback(self, token: str) -> Recorded:
        (rec,) = await self.server.wait_request("POST", rf"^/interactions/\d+/{token}/callback$")
        return rec


async def start_bot(
    server: DiscordServer,
    db: Database,
    clock: VirtualClock,
    *,
    defer_after: float = 60,
    worker: str = "w1",
    env: dict[str, str | None] | None = None,
) -> Bot:
    """`env`: settings beside these (DISCORD_SHARD_IDS…); a None value leaves that one unset.

    `defer_after` is long by default: the tests expect a command's answer in the interaction's own
    callback (type 4, or 7 for a click), which a command slower than `defer_after` turns into a defer
    (type 5/6) and a follow-up — on a loaded 2-core machine, 1.5 s was not always enough. Tests of the
    defer path pass 0."""
    given: dict[str, str | None] = {
        "WGBOT_DATABASE_URL": str(db.url),
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_API_BASE": server.api_base,
        "DISCORD_GATEWAY_URL": server.gateway_url,
        **(env or {}),
    }
    settings = Settings(**{k: v for k, v in given.items() if v is not None})
    app = await build(settings, clock=clock, db=db, rng=random.Random(0), worker_id=worker, upgrade=False)
    jobs = await start(
        app,
        settings,
        {
            "discord_guild_ready_timeout": 0.01,
            "discord_defer_after": defer_after,
            "discord_identify_delay": 0.0,
        },
    )
    assert len(jobs) == 1
    task = asyncio.ensure_future(jobs[0])
    client = app.extras["discord_client"]
    assert isinstance(client, WgClient)
    ready = asyncio.ensure_future(client.ready_event.wait())
    done, _ = await asyncio.wait({ready, task}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        if task in done:
            task.result()  # raises what stopped the client
        raise TimeoutError("the Discord client did not become ready")
    return Bot(app, client, task, server)


async def until(condition: Callable[[], object], within: float = 60) -> None:
    """Wait until `condition()` holds (state in a client, re-checked every 10 ms); `within` bounds a hang."""

    async def wait() -> None:
        while not condition():  # noqa: ASYNC110  (state in the client: nothing to await)
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), within)


@pytest.fixture
async def server() -> AsyncIterator[DiscordServer]:
    s = DiscordServer()
    await s.start()
    yield s
    await s.stop()


@pytest.fixture
async def bot(server: DiscordServer, db: Database, clock: VirtualClock) -> AsyncIterator[Bot]:
    b = await start_bot(server, db, clock)
    yield b
    await b.stop()


@pytest.fixture
def alice(server: DiscordServer) -> FakeUser:
    return server.user(800000000000000001, "alice")


@pytest.fixture
def bob(server: DiscordServer) -> FakeUser:
    return server.user(800000000000000002, "bob")


def message_requests(server: DiscordServer) -> list[Recorded]:
    import re

    pattern = re.compile(MESSAGE_PATHS)
    out = [r for r in server.requests if r.method in ("POST", "PATCH") and pattern.search(r.path)]
    out += [
        r
        for r in server.requests
        if r.method == "POST" and r.path.endswith("/callback") and r.body and r.body.get("type") in (4, 7)
    ]
    return out


def assert_no_pings(server: DiscordServer) -> None:
    """Every message the bot sent or edited told Discord to parse no mentions at all."""
    sent = message_requests(server)
    assert sent, "the test sent nothing to check"
    for r in sent:
        body = r.body.get("data", r.body) if r.path.endswith("/callback") else r.body
        assert body.get("allowed_mentions") == {"parse": []}, (r.method, r.path, body)


Waiter = Callable[[], Awaitable[None]]
