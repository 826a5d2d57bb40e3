"""Figure 2: Slack in HTTP mode — the acknowledgement, the answer a member waits for, and throughput.

    .venv/bin/python bench/fig_slack.py [--quick] [--db sqlite|postgresql|URL]

Three processes on loopback: this one (the 50 members, as concurrent HTTP clients signing their
requests exactly as Slack does, and the fake Slack Web API of tests/fakes/slack_api.py, which records
when each answer arrives); wgbot's Slack adapter (the real Bolt app served by aiohttp, the real core
on SQLite or PostgreSQL, a working group with 50 members and an open yes-no vote); and a bare Bolt
app that only acknowledges `/wg` — the floor.

- `slack_ack_overhead_ratio`: median time from a signed `/wg vote V1 …` request to its HTTP response,
  50 clients sending at once and back to back, wgbot ÷ the bare Bolt app. Target ≤ 1.5.
- `slack_answer_p99_ms`: signed request → the ballot receipt posted (chat.postEphemeral on the fake
  Web API), 50 members voting at the same moment, over several rounds. Target ≤ 250 ms.
- `commands_per_s`: 50 members each sending a burst of votes (each waits only for the ack, as a
  Slack client does); commands whose answer was posted ÷ the time until the last answer, one wgbot
  process. Target ≥ 200 on PostgreSQL. `commands_per_s_one_member`: the same for one member's burst
  of 50 (their commands run one after another, in order).
Rate limits are off in the wgbot process (they are per person, and would refuse the bursts).
A figure, not a test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.slack_api import FakeSlackAPI

SECRET = "bench-signing-secret-not-a-secret"
TOKEN = "xoxb-bench-not-a-real-token"
MEMBERS = 50
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/wgbot_test"


# ---- the two servers (each run in a process of its own) ------------------------------------------


async def serve_wgbot(db_url: str, api_url: str) -> None:
    import logging
    import random

    from adapters.slack.runtime import create_adapter, open_http
    from bot.bootstrap import build
    from bot.clock import SystemClock
    from bot.command import UserRef, Where
    from bot.config import Settings

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    settings = Settings(
        WGBOT_DATABASE_URL=db_url,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api_url,
        WGBOT_RATE_COMMANDS_PER_MINUTE=0,
        WGBOT_RATE_ANNOUNCEMENTS_PER_HOUR=0,
    )
    app = await build(settings, clock=SystemClock(), rng=random.Random(0), worker_id="bench")
    adapter = create_adapter(app, settings, min_interval=0.0)
    where = Where("slack", "C1", "wg", workspace="T1")

    def user(k: int) -> UserRef:
        return UserRef("slack", f"U{k}", f"member{k}", workspace="T1")

    groups = ["civil-society", "government", "private-sector", "technical-community", "academia"]
    for text, k in [("bind", 1), *((f"join {groups[k % 5]}", k) for k in range(1, MEMBERS + 1))]:
        await app.core.handle_text(text, user(k), where)
    response = await app.core.handle_text('vote open "Adopt the charter?" method:yes-no', user(1), where)
    assert "V1" in response.replies[0].to_text(), response.replies[0].to_text()
    background = [asyncio.ensure_future(job) for job in app.background()]  # the outbox and the engine
    server = await open_http(adapter, "127.0.0.1", 0)
    print(server.port, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        for job in background:
            job.cancel()


async def serve_bare(api_url: str) -> None:
    """Bolt as its documentation shows it, on the same aiohttp adapter and Web API, acknowledging only.

    With the same `process_before_response=True` as wgbot's adapter (adapters/slack/app.py): with
    Bolt's default the floor would include Bolt's 10 ms polling for the ack, which wgbot no longer
    pays, and the ratio would credit wgbot with a difference in Bolt's settings."""
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(
        signing_secret=SECRET,
        client=AsyncWebClient(token=TOKEN, base_url=api_url),
        process_before_response=True,
    )

    @bolt.command("/wg")
    async def on_command(ack: Any) -> None:
        await ack()

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)  # type: ignore[union-attr]
    await asyncio.Event().wait()


class Server:
    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.proc.kill()
            raise RuntimeError(f"the server did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line)}/slack/events"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# ---- the fake Slack that timestamps answers -------------------------------------------------------


class TimedSlack(FakeSlackAPI):
    """Records when each ephemeral answer (a ballot receipt) reached "Slack", per member."""

    def __init__(self) -> None:
        super().__init__(users={})
        self.answered: dict[str, list[float]] = {}
        self.answers = 0
        self.total = 0
        self.done = asyncio.Event()
        self.expect = 0

    async def _api(self, request: web.Request) -> web.Response:
        response = await super()._api(request)
        if request.match_info["method"] == "chat.postEphemeral":
            body = self.calls[-1].body if self.calls else {}
            self.answered.setdefault(str(body.get("user")), []).append(time.perf_counter())
            self.answers += 1
            self.total += 1
            if self.expect and self.answers >= self.expect:
                self.done.set()
        if len(self.calls) > 1000:
            del self.calls[:500]
        return response


# ---- the members ----------------------------------------------------------------------------------


def signed(text: str, user: int, response_url: str, trigger: int) -> tuple[bytes, dict[str, str]]:
    body = urlencode(
        {
            "token": "legacy",
            "team_id": "T1",
            "team_domain": "bench",
            "channel_id": "C1",
            "channel_name": "wg",
            "user_id": f"U{user}",
            "user_name": f"member{user}",
            "command": "/wg",
            "text": text,
            "api_app_id": "A1",
            "response_url": response_url,
            "trigger_id": f"trigger-{trigger}",
        }
    ).encode()
    ts = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }
    return body, headers


class Members:
    def __init__(self, http: aiohttp.ClientSession, slack: TimedSlack) -> None:
        self.http = http
        self.slack = slack
        self.n = 0
        #: the server whose commands are answered (wgbot), and how many were sent to it
        self.answerer = ""
        self.expected = 0

    async def send(self, url: str, user: int, text: str) -> tuple[float, float]:
        """(when it was sent, seconds to the HTTP response)."""
        self.n += 1
        self.expected += url == self.answerer
        body, headers = signed(text, user, self.slack.response_url(f"r{self.n}"), self.n)
        t0 = time.perf_counter()
        async with self.http.post(url, data=body, headers=headers) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"{url} answered {resp.status}")
        return t0, time.perf_counter() - t0


async def drain(members: Members, within: float = 300) -> None:
    """Wait until every command sent so far has been answered (the server's backlog is empty)."""
    deadline = time.perf_counter() + within
    while members.slack.total < members.expected and time.perf_counter() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    if members.slack.total < members.expected:
        raise RuntimeError(f"only {members.slack.total} of {members.expected} commands answered in {within:.0f} s")


def choice(i: int) -> str:
    return ("yes", "no", "abstain")[i % 3]


async def ack_latencies(members: Members, url: str, per_client: int) -> list[float]:
    latencies: list[float] = []

    async def client(k: int) -> None:
        for i in range(per_client):
            latencies.append((await members.send(url, k, f"vote V1 {choice(i + k)}"))[1])

    await asyncio.gather(*(client(k) for k in range(1, MEMBERS + 1)))
    return latencies


async def ack_medians(members: Members, ours: str, bare: str, rounds: int) -> tuple[float, float]:
    """Alternating rounds (bare, wgbot, bare, …), so that both see the same load on a shared machine;
    wgbot's backlog of handed-off work is drained after each of its rounds."""
    mine: list[float] = []
    floor: list[float] = []
    for _ in range(rounds):
        floor += await ack_latencies(members, bare, 2)
        mine += await ack_latencies(members, ours, 2)
        await drain(members)
    return statistics.median(mine), statistics.median(floor)


async def answer_latencies(members: Members, url: str, rounds: int) -> list[float]:
    out: list[float] = []
    for r in range(rounds):
        members.slack.answered.clear()
        sent = await asyncio.gather(*(members.send(url, k, f"vote V1 {choice(r + k)}") for k in range(1, MEMBERS + 1)))
        deadline = time.perf_counter() + 30
        while sum(len(v) for v in members.slack.answered.values()) < MEMBERS and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        for k, (t0, _) in enumerate(sent, 1):
            arrived = members.slack.answered.get(f"U{k}")
            if not arrived:
                seen = sorted(members.slack.answered)[:5]
                methods: dict[str, int] = {}
                for call in members.slack.calls:
                    methods[call.method] = methods.get(call.method, 0) + 1
                raise RuntimeError(f"member {k} got no answer within 30 s (answered: {seen}; calls: {methods})")
            out.append(arrived[0] - t0)
        await drain(members)
    return out


async def one_member(members: Members, url: str, count: int) -> float:
    """One member's burst: `count` votes sent back to back (each waits only for its ack); answers
    per second until the last of them was posted."""
    slack = members.slack
    slack.answers, slack.expect = 0, count
    slack.done.clear()
    t0 = time.perf_counter()
    for i in range(count):
        await members.send(url, 7, f"vote V1 {choice(i)}")
    try:
        await asyncio.wait_for(slack.done.wait(), 120)
    except TimeoutError:
        pass
    elapsed = time.perf_counter() - t0
    slack.expect = 0
    return slack.answers / elapsed


async def throughput(members: Members, url: str, per_member: int) -> tuple[float, int]:
    slack = members.slack
    total = MEMBERS * per_member
    slack.answers, slack.expect = 0, total
    slack.done.clear()
    t0 = time.perf_counter()

    async def member(k: int) -> None:
        for i in range(per_member):
            await members.send(url, k, f"vote V1 {choice(i + k)}")

    await asyncio.gather(*(member(k) for k in range(1, MEMBERS + 1)))
    try:
        await asyncio.wait_for(slack.done.wait(), 120)
    except TimeoutError:
        pass
    elapsed = time.perf_counter() - t0
    slack.expect = 0
    return slack.answers / elapsed, slack.answers


def _progress(text: str) -> None:
    print(f"[fig_slack] {text}", file=sys.stderr, flush=True)


def _database(choice_: str) -> tuple[str, str, Any]:
    """(URL, engine name, cleanup)."""
    if choice_ == "sqlite":
        tmp = tempfile.mkdtemp(prefix="wgbot-fig-slack-")
        return f"sqlite:///{Path(tmp) / 'bench.db'}", "sqlite", lambda: None
    url = os.environ.get("WGBOT_BENCH_DATABASE_URL", DEFAULT_PG) if choice_ == "postgresql" else choice_
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"wgbot_fig_slack_{os.getpid()}"

    async def admin(sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(
            host=base.host or "127.0.0.1", port=base.port or 5432, user=base.username or "postgres",
            password=base.password, database=base.database,
        )  # fmt: skip
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    own = base.set(database=name).render_as_string(hide_password=False)
    return own, "postgresql", lambda: asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def measure(db_url: str, quick: bool) -> dict[str, Any]:
    slack = TimedSlack()
    await slack.start()
    servers: list[Server] = []
    try:
        wgbot = Server("--serve-wgbot", db_url, slack.url)
        servers.append(wgbot)
        bare = Server("--serve-bare", slack.url)
        servers.append(bare)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            members = Members(http, slack)
            _progress("servers up")
            await ack_latencies(members, bare.url, 2)  # warm both up
            members.answerer = wgbot.url
            await ack_latencies(members, wgbot.url, 2)
            await drain(members)
            _progress("warmed up")
            ack_ours, ack_bare = await ack_medians(members, wgbot.url, bare.url, 3 if quick else 8)
            _progress(f"acks: wgbot {ack_ours * 1000:.1f} ms, bare {ack_bare * 1000:.1f} ms")
            answers = await answer_latencies(members, wgbot.url, 3 if quick else 10)
            _progress(f"answers: p99 {sorted(answers)[int(len(answers) * 0.99) - 1] * 1000:.0f} ms")
            rate, count = await throughput(members, wgbot.url, 4 if quick else 10)
            _progress(f"throughput: {rate:.1f}/s ({count} answers)")
            await drain(members)
            burst = await one_member(members, wgbot.url, 50)
            _progress(f"one member's burst: {burst:.1f}/s")
    finally:
        for server in servers:
            server.stop()
        await slack.stop()
    answers.sort()
    return {
        "slack_ack_overhead_ratio": round(ack_ours / ack_bare, 3),
        "slack_ack_median_ms": round(ack_ours * 1000, 2),
        "slack_ack_bare_median_ms": round(ack_bare * 1000, 2),
        "slack_answer_p50_ms": round(answers[len(answers) // 2] * 1000, 1),
        "slack_answer_p99_ms": round(answers[min(len(answers) - 1, int(len(answers) * 0.99))] * 1000, 1),
        "commands_per_s": round(rate, 1),
        "commands_answered": count,
        "commands_per_s_one_member": round(burst, 1),
    }


def run(quick: bool, db: str = "postgresql") -> dict[str, Any]:
    try:
        url, engine, cleanup = _database(db)
    except Exception as exc:  # PostgreSQL unreachable: say so, and measure on SQLite
        url, engine, cleanup = _database("sqlite")
        skipped = f"skipped: {type(exc).__name__}: {str(exc)[:120]}"
    else:
        skipped = ""
    try:
        figures = asyncio.run(measure(url, quick))
    finally:
        cleanup()
    figures["slack_database"] = engine if not skipped else f"sqlite ({skipped})"
    return figures


def main() -> None:
    if sys.argv[1:2] == ["--serve-wgbot"]:
        asyncio.run(serve_wgbot(sys.argv[2], sys.argv[3]))
        return
    if sys.argv[1:2] == ["--serve-bare"]:
        asyncio.run(serve_bare(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", default="postgresql", help="sqlite, postgresql (WGBOT_BENCH_DATABASE_URL) or a URL")
    args = parser.parse_args()
    print(json.dumps(run(args.quick, args.db), indent=1))


if __name__ == "__main__":
    main()
