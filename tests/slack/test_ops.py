"""Slack operations: the doctor check, the thread source, and `wgbot run`'s Slack starter."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from adapters.doctor import run_checks
from adapters.slack.client import web_client
from adapters.slack.doctor import check_slack, manifest_scopes
from adapters.slack.runtime import start
from adapters.slack.threads import SlackThreadSource
from bot.bootstrap import build
from bot.clock import VirtualClock
from bot.config import Settings
from storage.db import Database
from tests.fakes.slack_api import WORKSPACE_URL, FakeSlackAPI
from tests.slack.conftest import SECRET, TOKEN


def slack_settings(fake: FakeSlackAPI, **extra: str) -> Settings:
    return Settings(SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=fake.url, **extra)


async def test_doctor_reports_missing_scopes_and_how_to_fix(fake_slack: FakeSlackAPI) -> None:
    fake_slack.scopes = [s for s in manifest_scopes() if s not in ("users:read", "channels:join")]
    check = await check_slack(slack_settings(fake_slack))
    assert check.status == "fail"
    assert "channels:join, users:read" in check.detail and "reinstall" in check.detail
    assert TOKEN not in check.detail
    assert fake_slack.methods() == ["auth.test"]

    fake_slack.scopes = manifest_scopes()
    check = await check_slack(slack_settings(fake_slack))
    assert check.status == "ok" and "all scopes granted" in check.detail


async def test_doctor_bad_token_and_missing_settings(fake_slack: FakeSlackAPI) -> None:
    fake_slack.fail_next("auth.test", error="invalid_auth")
    check = await check_slack(slack_settings(fake_slack))
    assert check.status == "fail" and "invalid_auth" in check.detail and TOKEN not in check.detail
    assert (await check_slack(Settings(SLACK_API_URL=fake_slack.url))).status == "missing"
    only_token = await check_slack(Settings(SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=fake_slack.url))
    assert only_token.status == "fail" and "SLACK_APP_TOKEN" in only_token.detail
    fake_slack.scopes = manifest_scopes()
    fake_slack.fail_next("apps.connections.open", error="invalid_auth")
    socket = await check_slack(slack_settings(fake_slack, SLACK_APP_TOKEN="xapp-not-real"))
    assert socket.status == "fail" and "connections:write" in socket.detail


async def test_doctor_runs_the_slack_check(fake_slack: FakeSlackAPI, db_url: str) -> None:
    fake_slack.scopes = manifest_scopes()
    checks = await run_checks(slack_settings(fake_slack, WGBOT_DATABASE_URL=db_url))
    assert [c.status for c in checks if c.name == "Slack"] == ["ok"]


async def test_thread_is_read_page_by_page_with_permalinks(fake_slack: FakeSlackAPI) -> None:
    parent = "1767600000.000100"
    fake_slack.threads[("C1", parent)] = [
        {"ts": parent, "user": "U1", "text": "Shall we adopt &lt;the&gt; taxonomy? <@U2|bo>"},
        *[{"ts": f"1767600{i:03d}.000200", "user": "U2", "text": f"reply {i}"} for i in range(1, 6)],
        {"ts": "1767600999.000100", "subtype": "channel_join", "user": "U3", "text": "joined"},
        {"ts": "1767601000.000100", "bot_id": "B9", "username": "otherbot", "text": "beep"},
    ]
    source = SlackThreadSource(web_client(slack_settings(fake_slack)))
    lines = await source.fetch_thread("C1", parent, limit=3)
    assert [line.text for line in lines] == ["Shall we adopt <the> taxonomy? <@U2>", "reply 1", "reply 2"]
    fake_slack.clear()
    lines = await source.fetch_thread("C1", parent)
    assert len(lines) == 7 and lines[-1].author_name == "otherbot"
    assert [line.author_name for line in lines[:2]] == ["Ana", "Bo"]
    assert lines[0].at == datetime.fromtimestamp(float(parent), UTC)
    assert lines[0].link == f"{WORKSPACE_URL}archives/C1/p1767600000000100"
    assert lines[1].link == f"{WORKSPACE_URL}archives/C1/p1767600001000200?thread_ts={parent}&cid=C1"
    replies = [c for c in fake_slack.calls if c.method == "conversations.replies"]
    assert len(replies) == 1  # limit 200 per page: one call for a short thread
    small = SlackThreadSource(web_client(slack_settings(fake_slack)))
    fake_slack.clear()
    import adapters.slack.threads as threads_module

    old, threads_module.PAGE = threads_module.PAGE, 2
    try:
        paged = await small.fetch_thread("C1", parent)
    finally:
        threads_module.PAGE = old
    assert [line.message_id for line in paged] == [line.message_id for line in lines]
    assert len([c for c in fake_slack.calls if c.method == "conversations.replies"]) == 4
    assert [c.body.get("cursor") for c in fake_slack.calls if c.method == "conversations.replies"][1:] == [
        "2",
        "4",
        "6",
    ]


async def test_run_starts_http_or_socket_mode(fake_slack: FakeSlackAPI, db: Database, clock: VirtualClock) -> None:
    settings = slack_settings(fake_slack, WGBOT_DATABASE_URL=str(db.url))
    app = await build(settings, clock=clock, db=db, rng=random.Random(0), worker_id="t", upgrade=False)
    jobs = await start(app, settings, {"slack_http": True, "host": "127.0.0.1", "port": 0})
    assert len(jobs) == 1 and "slack" in app.dispatcher.senders and "slack" in app.extras
    assert getattr(jobs[0], "__name__", "") == "_serve_http"
    for job in jobs:
        job.close()  # type: ignore[attr-defined]
    socket_settings = slack_settings(fake_slack, WGBOT_DATABASE_URL=str(db.url), SLACK_APP_TOKEN="xapp-not-real")
    jobs = await start(app, socket_settings, {"slack_http": False})
    assert getattr(jobs[0], "__name__", "") == "_serve_socket_mode"
    for job in jobs:
        job.close()  # type: ignore[attr-defined]
