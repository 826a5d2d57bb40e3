"""Two real `wgbot run --slack-http` processes on one PostgreSQL, behind a "load balancer" (the test
spreads signed Slack requests over both): 200 members cast ballots at once while a meeting reminder
falls due for all 200 of them, and the engine leader is SIGKILLed in the middle, while Slack is
holding its posts unanswered. Afterwards every ballot is counted once, every reminder DM delivered
once, the standby has taken over the engine (within 30 s) and closes the vote, once.

What a member does when a process dies under their request is what a person does: a command that
got no answer (no receipt — the process acked and died, or the connection broke) is sent again, to
whichever process the balancer picks. Re-sending the same ballot replaces it (ballots can change
until close), so it still counts once.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import text

from storage.db import Database
from tests.conftest import PG_URL
from tests.fakes.slack_api import FakeSlackAPI
from tests.faults.procs import Proc, start
from tests.slack.conftest import sign

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = 200
pytestmark = pytest.mark.skipif(not PG_URL, reason="several processes on one database: PostgreSQL only")


class GatedSlackAPI(FakeSlackAPI):
    """Can hold every chat.postMessage unanswered; a held post whose client died meanwhile is not
    accepted (Slack never saw a complete request from it)."""

    gate: asyncio.Event
    held: int = 0
    #: held posts whose client was gone when released (the killed process's)
    dropped: int = 0

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "chat.postMessage" and not self.gate.is_set():
            self.held += 1
            await self.gate.wait()
            if request.transport is None or request.transport.is_closing():
                self.dropped += 1
                return web.Response(status=500)
        return await super()._api(request)


@pytest.fixture
async def fake() -> AsyncIterator[GatedSlackAPI]:
    api = GatedSlackAPI()
    api.gate = asyncio.Event()
    api.gate.set()
    await api.start()
    yield api
    api.gate.set()
    await api.stop()


class Balancer:
    """Signed slash commands, spread over the live processes; an unanswered one is sent again."""

    def __init__(self, http: aiohttp.ClientSession, api: FakeSlackAPI, ports: list[int]) -> None:
        self.http = http
        self.api = api
        self.ports = ports
        self.n = 0

    async def slash(self, user: str, command: str, *, port: int | None = None) -> None:
        """Post once (to `port`, or the next live process)."""
        self.n += 1
        name = f"{user}-{self.n}"
        form = {
            "token": "legacy",
            "team_id": "T1",
            "team_domain": "wg-test",
            "channel_id": "C1",
            "channel_name": "wg",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/wg",
            "text": command,
            "api_app_id": "A1",
            "response_url": self.api.response_url(name),
            "trigger_id": f"trigger-{self.n}",
        }
        body = urlencode(form)
        ts = int(time.time())
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(body, ts),
        }
        target = port if port is not None else self.ports[self.n % len(self.ports)]
        try:
            async with self.http.post(f"http://127.0.0.1:{target}/slack/events", data=body, headers=headers) as r:
                await r.read()
        except (aiohttp.ClientError, OSError):
            pass  # the process died under the request: no answer will come, the caller sends again

    def answers_after(self, mark: int, user: str) -> list[str]:
        """What Slack got for `user` since call `mark`: ephemerals to them, and posts in the channel
        (only attributable for one person's commands in sequence)."""
        out = []
        for call in self.api.calls[mark:]:
            if call.ok and (
                (call.method == "chat.postEphemeral" and call.body.get("user") == user)
                or (call.method == "chat.postMessage" and call.body.get("channel") == "C1")
            ):
                out.append(str(call.body.get("text", "")))
        return out


async def until(check: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def scalar(db: Database, sql: str, **params: Any) -> Any:
    async with db.engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar()


async def test_two_processes_200_ballots_and_200_reminders_with_the_leader_killed(
    tmp_path: Path, db_url: str, fake: GatedSlackAPI
) -> None:
    db = Database(db_url)
    await db.upgrade()
    procs: list[Proc] = []
    try:
        first, port1 = await start(tmp_path, db_url, fake)
        procs.append(first)
        await first.wait_for("engine leadership acquired")
        second, port2 = await start(tmp_path, db_url, fake)
        procs.append(second)
        await second.wait_for("stands by")
        users = [f"U{i:04d}" for i in range(MEMBERS)]
        async with aiohttp.ClientSession() as http:
            lb = Balancer(http, fake, [port1, port2])

            async def command(user: str, words: str, expect: str) -> None:
                """One person's command, sent until answered with `expect` in it (a few times at most)."""
                for _ in range(3):
                    mark = len(fake.calls)
                    await lb.slash(user, words, port=port1)
                    for _ in range(150):
                        if any(expect in a for a in lb.answers_after(mark, user)):
                            return
                        await asyncio.sleep(0.1)
                raise AssertionError(f"{user}: no answer to {words!r}: {lb.answers_after(mark, user)}")

            async def everyone(words: str | Callable[[str], str], done_sql: str, who: list[str]) -> None:
                """Everyone in `who` sends `words` at once (spread over the processes); those whose
                command left no trace in the database (`done_sql` lists who it worked for) send again."""
                sem = asyncio.Semaphore(10)

                async def one(user: str) -> None:
                    async with sem:
                        await lb.slash(user, words if isinstance(words, str) else words(user))

                missing = list(who)
                for _ in range(6):
                    await asyncio.gather(*(one(u) for u in missing))
                    for _ in range(50):  # the ack comes first; the work follows within moments
                        async with db.engine.connect() as conn:
                            done = {r[0] for r in (await conn.execute(text(done_sql))).all()}
                        missing = [u for u in who if u not in done]
                        if not missing:
                            return
                        await asyncio.sleep(0.2)
                raise AssertionError(f"{len(missing)} never got through: {missing[:5]}")

            # a working group on C1, 200 members (the first is the convener), a vote and a meeting
            await command(users[0], "bind wg", "created")
            await command(users[0], "join civil-society", "convener")
            await everyone("join academia", "SELECT user_id FROM identities", users[1:])
            assert await scalar(db, "SELECT count(*) FROM members") == MEMBERS
            closes = (datetime.now(UTC) + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%MZ")
            await command(users[0], f'vote open "Adopt the charter?" method:yes-no closes:{closes}', "V1")
            starts = (datetime.now(UTC) + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%MZ")
            await command(users[0], f'meeting "Sync" at:{starts} remind:1h', "M1")

            async def quiet() -> bool:  # the set-up's announcements are out before the storm
                return await scalar(db, "SELECT count(*) FROM outbox WHERE status <> 'sent'") == 0

            await until(quiet, 60, "the set-up's messages to be sent")
            posts_before = len(fake.of("chat.postMessage"))

            # Slack holds every post from now on; the reminder falls due for all 200 members
            fake.gate.clear()
            now = datetime.now(UTC)
            async with db.engine.begin() as conn:
                await conn.execute(
                    text("UPDATE scheduled_jobs SET due_at = :t, not_before = :t WHERE kind = 'meeting.reminder'"),
                    {"t": now},
                )

            async def reminder_under_way() -> bool:
                done = await scalar(
                    db, "SELECT count(*) FROM scheduled_jobs WHERE kind = 'meeting.reminder' AND status = 'done'"
                )
                return done >= 1 and fake.held >= 5

            await until(reminder_under_way, 60, "the reminder to be done and its posts under way")
            voted = "SELECT i.user_id FROM ballots b JOIN identities i ON i.member_id = b.member_id"
            storm = asyncio.ensure_future(
                everyone(lambda u: f"vote V1 {'yes' if int(u[1:]) % 2 == 0 else 'no'}", voted, users)
            )

            async def ballots_under_way() -> bool:
                return bool(await scalar(db, "SELECT count(*) FROM ballots") >= 30)

            await until(ballots_under_way, 60, "ballots under way")
            assert not storm.done()
            first.proc.send_signal(signal.SIGKILL)  # the leader, mid-dispatch and mid-ballots
            await first.proc.wait()
            killed_at = time.monotonic()
            lb.ports = [port2]  # the balancer's health check takes the dead process out
            await asyncio.sleep(0.5)  # the dead process's connections are seen closed
            fake.gate.set()
            await second.wait_for("engine leadership acquired", within=30)
            assert time.monotonic() - killed_at <= 30  # takeover within 30 seconds
            await storm

            # the vote closes by its job, now due: the new leader's engine runs it
            async with db.engine.begin() as conn:
                await conn.execute(
                    text("UPDATE scheduled_jobs SET due_at = :t, not_before = :t WHERE kind = 'vote.close'"),
                    {"t": datetime.now(UTC)},
                )

            async def settled() -> bool:
                left = await scalar(db, "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')")
                closed = await scalar(db, "SELECT count(*) FROM votes WHERE status = 'closed'")
                return left == 0 and closed == 1

            await until(settled, 120, "every message sent and the vote closed")

        assert fake.dropped >= 1  # the leader died with posts in flight (Slack never completed them)
        assert await scalar(db, "SELECT count(*) FROM ballots") == MEMBERS
        assert await scalar(db, "SELECT count(DISTINCT member_id) FROM ballots") == MEMBERS
        assert await scalar(db, "SELECT count(*) FROM outbox WHERE status = 'failed'") == 0
        posts = fake.of("chat.postMessage")[posts_before:]
        reminders = Counter(str(p["channel"]) for p in posts if "Reminder: M1" in str(p.get("text")))
        assert reminders == Counter({**{u: 1 for u in users}, "C1": 1})  # each DM once, the channel once
        in_channel = [str(p.get("text")) for p in posts if p["channel"] == "C1"]
        results = [t for t in in_channel if "V1" in t and "closed" in t.lower()]
        assert len(results) == 1, [t[:100] for t in in_channel]
        assert "100" in results[0]  # 100 yes, 100 no: every ballot counted
    finally:
        for p in procs:
            await p.stop()
        await db.dispose()
