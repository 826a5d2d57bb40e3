"""`/healthz` decides on what the load balancer's traffic needs: the database and what is served over
the HTTP port (Slack's HTTP mode, the web record). Discord reconnecting is reported, not failed on:
otherwise every process of a deployment answers 503 during a Discord outage and Slack goes down too."""

from __future__ import annotations

import random
from typing import Any

import aiohttp

from adapters.httphost import HttpHost
from adapters.runtime import _add_probes
from adapters.slack.runtime import start as start_slack
from adapters.web.server import WebRecord
from bot.bootstrap import App, build
from bot.clock import VirtualClock
from bot.config import Settings
from storage.db import Database
from tests.fakes.slack_api import FakeSlackAPI
from tests.slack.test_ops import slack_settings


class ReconnectingDiscord:
    """What discord.py's client looks like while its gateway reconnects (Discord is down)."""

    ws = None

    def is_ready(self) -> bool:
        return False

    def is_closed(self) -> bool:
        return False


async def _get(host: HttpHost) -> tuple[int, dict[str, Any]]:
    port = await host.open()
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as resp:
            return resp.status, await resp.json()
    finally:
        await host.close()


async def _app(settings: Settings, db: Database, clock: VirtualClock) -> App:
    return await build(settings, clock=clock, db=db, rng=random.Random(0), worker_id="t", upgrade=False)


async def test_slack_http_stays_healthy_while_discord_reconnects(
    fake_slack: FakeSlackAPI, db: Database, clock: VirtualClock
) -> None:
    settings = slack_settings(fake_slack, WGBOT_DATABASE_URL=str(db.url))
    app = await _app(settings, db, clock)
    host = HttpHost("127.0.0.1", 0)
    jobs = await start_slack(app, settings, {"slack_http": True, "http": host})
    app.extras["discord_client"] = ReconnectingDiscord()
    _add_probes(app, {"Slack": "running", "Discord": "running"}, host)
    try:
        status, report = await _get(host)
    finally:
        for job in jobs:
            job.close()  # type: ignore[attr-defined]
    assert status == 200, report
    assert report["status"] == "ok" and report["database"] == "ok"
    assert report["adapters"] == {"discord": "connecting", "slack": "connected"}  # still reported


async def test_the_web_records_healthz_does_not_fail_on_discord(db: Database, clock: VirtualClock) -> None:
    app = await _app(Settings(WGBOT_DATABASE_URL=str(db.url)), db, clock)
    host = HttpHost("127.0.0.1", 0)
    host.extend(WebRecord(app.db, app.clock).install)
    app.extras["discord_client"] = ReconnectingDiscord()
    _add_probes(app, {"Discord": "stopped"}, host)
    status, report = await _get(host)
    assert status == 200, report
    assert report["adapters"] == {"discord": "stopped", "web": "connected"}


async def test_an_unreachable_database_still_fails_the_check(db: Database) -> None:
    from adapters.health import Advisory, health

    class Down:
        async def check(self) -> None:
            from storage.db import DatabaseError

            raise DatabaseError("down")

    ok, report = await health(Down(), {"slack": lambda: "connected"})  # type: ignore[arg-type]
    assert not ok and report["database"] == "unreachable" and report["status"] == "unhealthy"
    ok, report = await health(db, {"slack": lambda: "stopped", "discord": Advisory(lambda: "connected")})
    assert not ok, "an adapter served over the HTTP port still decides"
    ok, report = await health(db, {"slack": lambda: "connected", "discord": Advisory(lambda: "stopped")})
    assert ok and report["adapters"] == {"discord": "stopped", "slack": "connected"}
