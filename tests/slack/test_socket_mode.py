"""Socket Mode end to end: `adapters.slack.runtime.start` with SLACK_APP_TOKEN set, as `wgbot run` does
by default. The real AsyncSocketModeHandler asks the fake Web API for a websocket URL
(`apps.connections.open`, with the app-level token), connects to the fake's websocket on loopback,
receives `hello`, then the envelopes the test pushes; each must be acknowledged by `envelope_id`, and
the answers must reach the fake Web API. Every wait is bounded and driven by what arrives."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlmodel import func, select

from adapters.slack.app import SlackAdapter
from adapters.slack.runtime import start
from bot.bootstrap import App, build
from bot.clock import VirtualClock
from bot.config import Settings
from storage.db import Database
from storage.models import Proposal
from tests.fakes.slack_api import BOT_USER_ID, FakeSlackAPI
from tests.slack.blockkit import check_call
from tests.slack.conftest import TOKEN

APP_TOKEN = "xapp-1-A1-fake-app-level-token"


@dataclass
class SocketEnv:
    fake: FakeSlackAPI
    app: App
    adapter: SlackAdapter
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def send(self, kind: str, payload: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """Push one envelope and return its acknowledgement (the wait is bounded against a hang only:
        how soon it comes is a benchmark figure, not something a loaded test machine can judge)."""
        envelope_id = f"env-{next(self._ids)}"
        await self.fake.push(kind, payload, envelope_id=envelope_id, **extra)
        return await self.fake.ack_for(envelope_id)

    async def slash(self, text: str, *, user: str = "U1", user_name: str = "ana") -> dict[str, Any]:
        n = next(self._ids)
        payload = {
            "token": "legacy",
            "team_id": "T1",
            "team_domain": "wg-test",
            "channel_id": "C1",
            "channel_name": "wg",
            "user_id": user,
            "user_name": user_name,
            "command": "/wg",
            "text": text,
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": self.fake.response_url(f"sm{n}"),
            "trigger_id": f"trigger-sm{n}",
        }
        return await self.send("slash_commands", payload, accepts_response_payload=True)

    async def settle(self) -> None:
        """Finish the handed-off work, then let the outbox send what fell due."""
        await asyncio.wait_for(self.adapter.tasks.join(), 60)
        await self.app.run_due()


@pytest.fixture
async def socket_env(db: Database, clock: VirtualClock, fake_slack: FakeSlackAPI) -> AsyncIterator[SocketEnv]:
    # what a Socket Mode deployment has: the bot token and the app-level token, no signing secret
    settings = Settings(
        WGBOT_DATABASE_URL=str(db.url), SLACK_BOT_TOKEN=TOKEN, SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=fake_slack.url
    )
    app = await build(settings, clock=clock, db=db, rng=random.Random(0), worker_id="test", upgrade=False)
    [job] = await start(app, settings, {})
    running = asyncio.ensure_future(job)
    try:
        await fake_slack.socket_connected()
        adapter = app.extras["slack"]
        assert isinstance(adapter, SlackAdapter)
        yield SocketEnv(fake_slack, app, adapter)
        assert not running.done(), "the Socket Mode job stopped on its own"
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(running, 30)
    for call in fake_slack.calls:
        if call.ok:
            check_call(call.method, call.body)


async def test_socket_mode_connects_with_the_app_token(socket_env: SocketEnv) -> None:
    [opened] = [c for c in socket_env.fake.calls if c.method == "apps.connections.open"]
    assert opened.authorization == f"Bearer {APP_TOKEN}"  # the app-level token, not the bot token
    assert len(socket_env.fake.sockets) == 1


async def test_slash_commands_by_socket_mode_are_acked_and_answered(socket_env: SocketEnv) -> None:
    env = socket_env
    ack = await env.slash("bind")
    assert ack == {"envelope_id": ack["envelope_id"]}  # acknowledged at once, with no payload
    await env.settle()
    [bound] = env.fake.of("chat.postMessage")
    assert bound["channel"] == "C1" and "created and bound" in bound["text"]

    env.fake.clear()
    await env.slash("join civil-society region:latin-american-caribbean")
    await env.settle()
    assert [c["user"] for c in env.fake.of("users.info")] == ["U1"]
    [welcome] = env.fake.of("chat.postEphemeral")
    assert welcome["channel"] == "C1" and welcome["user"] == "U1"
    assert "Welcome" in welcome["text"] and "America/Sao_Paulo" in welcome["text"]

    env.fake.clear()
    await env.slash('propose "Shared taxonomy" One taxonomy for AI incidents.')
    await asyncio.wait_for(env.adapter.tasks.join(), 60)
    [receipt] = env.fake.of("chat.postEphemeral")
    assert receipt["user"] == "U1" and "P1 recorded" in receipt["text"]
    assert env.fake.of("chat.postMessage") == []  # the announcement waits in the outbox …
    await env.app.run_due()
    [card] = env.fake.of("chat.postMessage")  # … which delivers it
    assert card["channel"] == "C1" and card["unfurl_links"] is False
    assert "New proposal P1: Shared taxonomy" in card["text"]
    assert all(c.authorization == f"Bearer {TOKEN}" for c in env.fake.calls)


def mention(text: str, event_id: str) -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": "T1",
        "api_app_id": "A1",
        "event": {
            "type": "app_mention",
            "user": "U1",
            "text": f"<@{BOT_USER_ID}> {text}",
            "ts": "1767600200.000100",
            "channel": "C1",
            "event_ts": "1767600200.000100",
        },
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1767600200,
        "authorizations": [{"team_id": "T1", "user_id": BOT_USER_ID, "is_bot": True}],
    }


async def test_event_envelope_delivered_twice_has_one_effect(socket_env: SocketEnv) -> None:
    env = socket_env
    await env.slash("bind")
    await env.slash("join civil-society")
    await env.settle()
    env.fake.clear()
    body = mention('propose "Once only" Sent again when the ack was late.', "Ev0SOCKETDUP")
    # Slack re-sends an event whose ack it has not seen yet: a new envelope, the same event_id,
    # pushed here before either is acknowledged
    await env.fake.push("events_api", body, envelope_id="env-first")
    await env.fake.push("events_api", body, envelope_id="env-again", retry_attempt=1, retry_reason="timeout")
    assert set(await env.fake.ack_for("env-first")) == {"envelope_id"}
    assert set(await env.fake.ack_for("env-again")) == {"envelope_id"}
    await env.settle()
    async with env.app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Proposal))).one() == 1
    [receipt] = env.fake.of("chat.postEphemeral")
    assert "P1 recorded" in receipt["text"]
    assert len(env.fake.of("chat.postMessage")) == 1  # one announcement


async def test_interactive_button_by_socket_mode(socket_env: SocketEnv) -> None:
    env = socket_env
    await env.slash("bind")
    await env.slash("join civil-society")
    await env.settle()
    await env.slash('meeting "Kickoff" at:2026-01-06T15:00Z')
    await env.settle()
    [card] = [c for c in env.fake.of("chat.postMessage") if "Kickoff" in c["text"]]
    buttons = [e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]
    yes = next(b for b in buttons if b["value"] == "rsvp M1 yes")
    env.fake.clear()
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "user": {"id": "U1", "username": "ana", "name": "ana"},
        "channel": {"id": "C1", "name": "wg"},
        "container": {"type": "message", "message_ts": "1767600000.000077", "channel_id": "C1"},
        "message": {"ts": "1767600000.000077", "text": card["text"]},
        "response_url": env.fake.response_url("sm-rsvp"),
        "trigger_id": "trigger-sm-rsvp",
        "actions": [{"type": "button", "action_id": yes["action_id"], "value": yes["value"], "action_ts": "1.2"}],
    }
    ack = await env.send("interactive", payload, accepts_response_payload=False)
    assert set(ack) == {"envelope_id"}
    await env.settle()
    [updated] = env.fake.of("chat.update")
    assert updated["channel"] == "C1" and updated["ts"] == "1767600000.000077"
    assert "RSVP: 1 yes" in updated["text"]
    [confirm] = env.fake.of("chat.postEphemeral")
    assert confirm["user"] == "U1"


async def test_envelope_acks_are_json(socket_env: SocketEnv) -> None:
    """What goes back on the socket is only acknowledgements, each naming an envelope pushed."""
    env = socket_env
    await env.slash("me")
    await env.settle()
    assert env.fake.socket_messages and all(set(m) <= {"envelope_id", "payload"} for m in env.fake.socket_messages), (
        json.dumps(env.fake.socket_messages)
    )
