"""`wgbot run --slack-http --web`: one HTTP host serves Slack's events and the web record."""

from __future__ import annotations

import random

import aiohttp
from sqlmodel import select

from adapters.httphost import HttpHost
from adapters.slack.runtime import start as start_slack
from adapters.web.server import WebRecord
from bot import webaccess
from bot.bootstrap import build
from bot.clock import VirtualClock
from storage.db import Database
from storage.models import WorkingGroup
from tests.fakes.slack_api import FakeSlackAPI
from tests.slack.test_ops import slack_settings


async def test_slack_http_mode_and_web_record_share_one_port(
    fake_slack: FakeSlackAPI, db: Database, clock: VirtualClock
) -> None:
    settings = slack_settings(fake_slack, WGBOT_DATABASE_URL=str(db.url))
    app = await build(settings, clock=clock, db=db, rng=random.Random(0), worker_id="t", upgrade=False)
    async with app.db.transaction() as s:
        wg = WorkingGroup(name="wg", created_at=clock.now())
        s.add(wg)
        await s.flush()
        assert wg.id is not None
        token = (await webaccess.access_for(s, wg.id, clock.now())).token
    host = HttpHost("127.0.0.1", 0)
    jobs = await start_slack(app, settings, {"slack_http": True, "http": host})
    host.extend(WebRecord(app.db, app.clock).install)
    port = await host.open()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://127.0.0.1:{port}/slack/events", data="x=1") as resp:
                assert resp.status == 401  # Bolt's signature check answered: Slack's route is served here
            async with http.get(f"http://127.0.0.1:{port}/r/{token}/") as resp:
                assert resp.status == 200 and "<h1>wg</h1>" in await resp.text()
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status < 500  # Slack's other routes untouched by the record's guard
    finally:
        for job in jobs:
            job.close()  # type: ignore[attr-defined]
        await host.close()
    async with app.db.session() as s:
        assert len((await s.exec(select(WorkingGroup))).all()) == 1
