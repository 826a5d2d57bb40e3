"""Slack's Web API (and Discord's) answering 429 or 5xx to every post for a minute, on a virtual clock:
afterwards every message is delivered, once, in order per channel — including those recorded during
the outage — through the real dispatcher, Slack sender and slack_sdk client against the loopback fake
Slack API, and through the Discord sender and discord.py against the loopback Discord API.

(The LLM endpoint down or hanging: tests/faults/test_llm_outage.py, with 5xx, 429 and malformed
answers in tests/summaries/test_llm.py; SMTP down: tests/email/test_email.py — digests wait in the
outbox while the server is down and go out, once, when it is back.)
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from adapters.slack.client import web_client
from adapters.slack.sender import SlackSender
from bot.clock import VirtualClock
from bot.config import Settings
from bot.outbox import Destination, Dispatcher, enqueue
from bot.reply import Reply
from storage.db import Database
from storage.models import OutboxMessage
from tests.discord.conftest import Bot, start_bot
from tests.fakes.discord_server import DiscordServer
from tests.fakes.slack_api import Call, FakeSlackAPI

CHANNELS = ["C1", "C2", "C3"]


class OutageSlackAPI(FakeSlackAPI):
    """Answers every chat.postMessage with `status` until the virtual clock reaches `until`."""

    clock: VirtualClock
    until: datetime
    status: int

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "chat.postMessage" and self.clock.now() < self.until:
            body = await self._body(request)
            self.calls.append(Call("chat.postMessage", body, None, status=self.status, ok=False))
            if self.status == 429:
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "10"}
                )
            return web.Response(status=self.status, text="upstream unavailable")
        return await super()._api(request)


@pytest.fixture
async def fake() -> AsyncIterator[OutageSlackAPI]:
    api = OutageSlackAPI()
    await api.start()
    yield api
    await api.stop()


async def record(db: Database, clock: VirtualClock, channel: str, n: int) -> None:
    async with db.transaction() as s:
        await enqueue(
            s,
            key=f"{channel}-{n}",
            destination=Destination("slack", f"channel:{channel}", f"channel:{channel}"),
            reply=Reply.text(f"{channel} message {n}"),
            now=clock.now(),
        )


@pytest.mark.parametrize("status", [429, 503])
async def test_a_minute_of_429_or_5xx_delays_but_loses_reorders_and_doubles_nothing(
    fake: OutageSlackAPI, db: Database, clock: VirtualClock, status: int
) -> None:
    fake.clock, fake.status = clock, status
    fake.until = clock.now() + timedelta(minutes=1)
    for n in range(4):
        for channel in CHANNELS:
            await record(db, clock, channel, n)

    async def no_wait(_seconds: float) -> Any:
        return None

    settings = Settings(SLACK_BOT_TOKEN="xoxb-outage-test", SLACK_API_URL=fake.url)
    sender = SlackSender(web_client(settings), min_interval=0, sleep=no_wait)
    dispatcher = Dispatcher(db, clock, [sender], worker_id="w1")
    delivered_at: dict[str, datetime] = {}
    for step in range(60):  # five virtual minutes in 5-second steps
        if step == 6:  # half-way through the outage, more is recorded: it queues behind the rest
            for channel in CHANNELS:
                await record(db, clock, channel, 4)
        await dispatcher.run_once()
        for body in fake.of("chat.postMessage"):
            delivered_at.setdefault(str(body["text"]), clock.now())
        if len(delivered_at) == 15:
            break
        clock.advance(timedelta(seconds=5))

    refused = [c for c in fake.calls if c.method == "chat.postMessage" and not c.ok]
    assert refused and {c.status for c in refused} == {status}
    assert min(delivered_at.values()) >= fake.until  # nothing got through during the outage
    # …and everything soon after (Retry-After, or the 5-10-20-40 s backoff of the outbox)
    assert max(delivered_at.values()) <= fake.until + timedelta(seconds=60)
    posts = fake.of("chat.postMessage")
    assert len(posts) == 15 == len({p["text"] for p in posts})  # every message, once
    for channel in CHANNELS:
        in_channel = [p["text"] for p in posts if p["channel"] == channel]
        assert in_channel == [f"{channel} message {n}" for n in range(5)]  # in the order recorded
    async with db.session() as s:
        from sqlmodel import select

        assert {r.status for r in (await s.exec(select(OutboxMessage))).all()} == {"sent"}


@pytest.fixture
async def discord_bot(db: Database, clock: VirtualClock) -> AsyncIterator[Bot]:
    server = DiscordServer()
    await server.start()
    bot = await start_bot(server, db, clock)
    yield bot
    await bot.stop()
    await server.stop()


@pytest.mark.parametrize("status", [429, 503])
async def test_a_minute_of_discord_429_or_5xx_delays_but_loses_reorders_and_doubles_nothing(
    discord_bot: Bot, db: Database, clock: VirtualClock, status: int
) -> None:
    """The same through discord.py against the loopback Discord API. (A 429 without Cloudflare's
    `Via` header and a 503 reach our sender at once; 500/502/504 are retried inside discord.py on the
    wall clock first, seconds that this virtual-clock test does not spend.)"""
    server = discord_bot.server
    places = {
        f"channel:{server.channel_id}": str(server.channel_id),
        f"thread:{server.channel_id}/{server.thread_id}": str(server.thread_id),
    }
    server.fail("POST", r"^/channels/\d+/messages$", status, message="outage", times=100_000)
    until = clock.now() + timedelta(minutes=1)

    async def record_discord(address: str, n: int) -> None:
        async with db.transaction() as s:
            await enqueue(
                s,
                key=f"{address}-{n}",
                destination=Destination("discord", address, address),
                reply=Reply.text(f"{places[address]} message {n}"),
                now=clock.now(),
            )

    for n in range(3):
        for address in places:
            await record_discord(address, n)
    dispatcher = discord_bot.app.dispatcher
    for step in range(60):
        if step == 6:
            for address in places:
                await record_discord(address, 3)
        if clock.now() >= until:
            server._failures.clear()  # the API is back
        await dispatcher.run_once()
        delivered = [r for r in server.requests if r.method == "POST" and r.status == 200 and "/messages" in r.path]
        if len(delivered) == 8:
            break
        clock.advance(timedelta(seconds=5))

    refused = [r for r in server.requests if r.method == "POST" and r.status == status]
    assert refused
    delivered = [r for r in server.requests if r.method == "POST" and r.status == 200 and "/messages" in r.path]
    texts = [json.dumps(r.body) for r in delivered]
    assert len(delivered) == 8  # every message once
    for address, channel_id in places.items():
        in_place = [t for t in texts if f"{channel_id} message" in t]
        order = [next(n for n in range(4) if f"{channel_id} message {n}" in t) for t in in_place]
        assert order == [0, 1, 2, 3], (address, order)  # in the order recorded
    assert clock.now() >= until and clock.now() <= until + timedelta(seconds=60)
    async with db.session() as s:
        from sqlmodel import select

        assert {r.status for r in (await s.exec(select(OutboxMessage))).all()} == {"sent"}
