"""A real `wgbot run` process killed with SIGKILL between claiming a message and sending it.

The loopback fake Slack Web API holds the first chat.postMessage open without answering, so the
process has claimed the outbox row and is inside the send when it is killed: Slack has accepted
nothing. After a restart the lease runs out, the new process claims the row again and delivers it —
once. A third look after that shows it is not sent again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlmodel import select

from bot.clock import SystemClock
from bot.outbox import Destination, enqueue
from bot.reply import Reply
from storage.db import Database
from storage.models import Channel, OutboxMessage, WorkingGroup
from tests.fakes.slack_api import FakeSlackAPI

TEXT = "Reminder that must survive a crash"


class HangingSlackAPI(FakeSlackAPI):
    """Holds the first chat.postMessage open forever (never recorded as accepted)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.hanging = asyncio.Event()
        self.release = asyncio.Event()
        self._hung = False

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "chat.postMessage" and not self._hung:
            self._hung = True
            self.hanging.set()
            await self.release.wait()  # the client is long dead by then: nothing is accepted
            return web.json_response({"ok": False, "error": "fatal_error"}, status=500)
        return await super()._api(request)

    async def stop(self) -> None:
        self.release.set()
        await super().stop()


@pytest.fixture
async def fake() -> AsyncIterator[HangingSlackAPI]:
    api = HangingSlackAPI()
    await api.start()
    yield api
    await api.stop()


async def until(predicate: Any) -> None:
    while not await predicate():  # noqa: ASYNC110 (another process writes the database: nothing to await)
        await asyncio.sleep(0.1)


def start_bot(tmp_path: Path, db_url: str, api: FakeSlackAPI) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "OPENAI_", "SMTP_"))},
        "WGBOT_DATABASE_URL": db_url,
        "SLACK_BOT_TOKEN": "xoxb-crash-test-token",
        "SLACK_SIGNING_SECRET": "crash-test-secret",
        "SLACK_API_URL": api.url,
        "WGBOT_OUTBOX_LEASE_SECONDS": "2",
    }
    cmd = [
        sys.executable,
        "-c",
        "from adapters.cli import main; main()",
        "run",
        "--slack-http",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
    ]
    return subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def outbox_row(db: Database) -> OutboxMessage:
    async with db.session() as s:
        return (await s.exec(select(OutboxMessage).where(OutboxMessage.key == "crash-test"))).one()


async def test_sigkill_between_claim_and_send_delivers_once_after_restart(
    tmp_path: Path, db_url: str, fake: HangingSlackAPI
) -> None:
    db = Database(db_url)
    await db.upgrade()
    now = SystemClock().now()
    async with db.transaction() as s:
        wg = WorkingGroup(name="wg", themes=[], created_at=now)
        s.add(wg)
        await s.flush()
        s.add(Channel(wg_id=wg.id, platform="slack", channel_id="C1", name="wg", created_at=now))  # type: ignore[arg-type]
        await enqueue(
            s,
            key="crash-test",
            destination=Destination("slack", "channel:C1", "channel:wg"),
            reply=Reply.text(TEXT, kind="reminder"),
            now=now,
            wg_id=wg.id,
        )
    first = start_bot(tmp_path, db_url, fake)
    second: subprocess.Popen[bytes] | None = None
    try:
        await asyncio.wait_for(fake.hanging.wait(), timeout=60)
        row = await outbox_row(db)
        assert row.status == "sending" and row.claimed_by is not None  # claimed, not yet sent
        first.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.wait, 60)  # off the event loop, which serves the fake Slack
        assert fake.of("chat.postMessage") == []

        second = start_bot(tmp_path, db_url, fake)

        async def delivered() -> bool:
            return (await outbox_row(db)).status == "sent"

        await asyncio.wait_for(until(delivered), timeout=60)
        posts = [b for b in fake.of("chat.postMessage") if TEXT in str(b)]
        assert len(posts) == 1 and posts[0]["channel"] == "C1"
        row = await outbox_row(db)
        assert row.attempts == 2 and row.claimed_by != "" and row.platform_ref
        # a restart after delivery sends nothing more
        second.send_signal(signal.SIGTERM)
        await asyncio.to_thread(second.wait, 60)  # a clean stop may still talk to the fake Slack
        starts = len(fake.of("auth.test"))
        second = start_bot(tmp_path, db_url, fake)

        async def running() -> bool:
            return len(fake.of("auth.test")) > starts

        await asyncio.wait_for(until(running), timeout=60)  # it has started (however slowly) …
        await asyncio.sleep(4)  # … and had two lease lengths to resend, were anything pending
        assert len([b for b in fake.of("chat.postMessage") if TEXT in str(b)]) == 1
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        await db.dispose()
