"""The Slack adapter as deployed in HTTP mode, on loopback: the real Bolt app served by aiohttp, its
Web API client pointed (through SLACK_API_URL) at a recording fake, the real core and outbox on the
test database and a virtual clock. Requests are signed exactly as Slack signs them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from adapters.slack.app import SlackAdapter
from adapters.slack.runtime import HttpServer, create_adapter, open_http
from bot.bootstrap import App, build
from bot.clock import VirtualClock
from bot.config import Settings
from storage.db import Database
from tests.fakes.slack_api import BOT_USER_ID, FakeSlackAPI
from tests.slack.blockkit import check_call

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test-token-not-real"


def sign(body: str, timestamp: int, secret: str = SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class SlackEnv:
    fake: FakeSlackAPI
    app: App
    adapter: SlackAdapter
    server: HttpServer
    http: aiohttp.ClientSession
    clock: VirtualClock
    _ids: int = 0
    statuses: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/slack/events"

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str = SECRET,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        ts = int(time.time()) if timestamp is None else timestamp
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(body, ts, secret),
            **(headers or {}),
        }
        async with self.http.post(self.url, data=body.encode(), headers=all_headers) as resp:
            return resp.status, await resp.text()

    def _next(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids}"

    async def slash(
        self, text: str, *, user: str = "U1", user_name: str = "ana", channel: str = "C1", channel_name: str = "wg"
    ) -> tuple[int, str]:
        form = {
            "token": "legacy",
            "team_id": "T1",
            "team_domain": "wg-test",
            "channel_id": channel,
            "channel_name": channel_name,
            "user_id": user,
            "user_name": user_name,
            "command": "/wg",
            "text": text,
            "api_app_id": "A1",
            "response_url": self.fake.response_url(self._next("r")),
            "trigger_id": self._next("trigger-"),
        }
        return await self.post(urlencode(form), "application/x-www-form-urlencoded")

    def event_body(self, event: dict[str, Any], event_id: str | None = None) -> str:
        return json.dumps(
            {
                "token": "legacy",
                "team_id": "T1",
                "api_app_id": "A1",
                "event": event,
                "type": "event_callback",
                "event_id": event_id or self._next("Ev"),
                "event_time": int(time.time()),
                "authorizations": [{"team_id": "T1", "user_id": BOT_USER_ID, "is_bot": True}],
            }
        )

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        return await self.post(self.event_body(event, event_id), "application/json", headers=headers)

    async def interact(self, payload: dict[str, Any]) -> tuple[int, str]:
        payload = {"team": {"id": "T1"}, "api_app_id": "A1", "token": "legacy", **payload}
        return await self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    async def settle(self) -> None:
        """Finish the handed-off work, then let due outbox messages go out."""
        await self.adapter.tasks.join()
        await self.app.run_due()

    async def advance_to(self, target: datetime) -> None:
        """Move the virtual clock to `target`, firing due work in time order (as `wgbot simulate` does;
        `Harness.advance_to` is the same for the recording harness, which has no Slack in it)."""
        from adapters.console.simulate import Simulation

        await Simulation(self.app, self.clock, lambda _event: None).advance_to(target)

    def check_all(self) -> None:
        for call in self.fake.calls:
            if call.ok:
                check_call(call.method, call.body)
        for call in self.fake.responses:
            check_call(call.method, call.body)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlackAPI]:
    fake = FakeSlackAPI(
        users={
            "U1": {"id": "U1", "name": "ana", "tz": "America/Sao_Paulo", "profile": {"display_name": "Ana"}},
            "U2": {"id": "U2", "name": "bo", "tz": "Asia/Tokyo", "profile": {"display_name": "Bo"}},
        }
    )
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def slack(db: Database, clock: VirtualClock, fake_slack: FakeSlackAPI) -> AsyncIterator[SlackEnv]:
    settings = Settings(
        WGBOT_DATABASE_URL=str(db.url),
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake_slack.url,
    )
    app = await build(settings, clock=clock, db=db, rng=random.Random(0), worker_id="test", upgrade=False)
    adapter = create_adapter(app, settings, min_interval=0.0)
    # a form's errors come back inline only if the core answers within the adapter's wait (2 s in
    # production): long here, so that a loaded machine never turns them into a later message
    adapter.form_wait = 60
    server = await open_http(adapter, "127.0.0.1", 0)
    async with aiohttp.ClientSession() as http:
        env = SlackEnv(fake_slack, app, adapter, server, http, clock)
        yield env
        await adapter.tasks.join()
        env.check_all()  # everything that reached "Slack" respected Block Kit's limits and was inert
    await adapter.close()
    await server.close()
