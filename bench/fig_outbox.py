"""Figure 5: outbox throughput against Slack's posting limits.

    .venv/bin/python bench/fig_outbox.py [--quick] [--messages 1000] [--members 200] [--db URL]

1,000 DMs (5 to each of 200 members: a digest and four reminders each) are recorded in the outbox,
then the real dispatcher (`bot.outbox.Dispatcher.run_forever`) sends them through the real Slack
sender and slack_sdk client to a loopback fake Slack Web API (tests/fakes/slack_api.py) that
enforces one chat.postMessage per second per channel and 50 per second overall (a token bucket
holding 5), answering anything over with 429 and Retry-After, as Slack does.

- `outbox_efficiency` = theoretical minimum time / measured time, where the minimum is what the
  limits allow from the first post: max((N − burst) / 50, (posts per channel − 1) × 1 s); measured
  is from the dispatcher's start to the last post Slack accepted. Target ≥ 0.9.
- `outbox_lost` (messages never accepted, or rows not `sent`) and `outbox_duplicates` (messages
  accepted more than once) must be 0.

The sender paces itself (SLACK_POSTS_PER_SECOND, set here to the fake's 50) instead of provoking
429s; `outbox_429s` counts the ones it drew anyway. Quick mode sends 300 DMs to 60 members. The
database is a SQLite file in a temporary directory unless --db names another.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.fakes

from sqlalchemy import func
from sqlmodel import col, select

from adapters.slack.client import web_client
from adapters.slack.sender import SlackSender
from bot.clock import SystemClock
from bot.config import Settings
from bot.outbox import Destination, Dispatcher, enqueue
from bot.reply import Reply
from storage.db import Database
from storage.models import OutboxMessage
from tests.fakes.slack_api import FakeSlackAPI

PER_CHANNEL = 1.0
OVERALL = 50.0
BURST = 5.0


class TimedSlackAPI(FakeSlackAPI):
    """The fake, noting when each post was accepted, with a report endpoint for the parent."""

    accepted_at: list[float]

    def m_chat_postMessage(self, body: dict[str, Any]) -> dict[str, Any]:
        self.accepted_at.append(time.monotonic())  # CLOCK_MONOTONIC: one clock for every process here
        return super().m_chat_postMessage(body)

    def report(self) -> dict[str, Any]:
        return {
            "texts": [str(b.get("text")) for b in self.of("chat.postMessage")],
            "accepted_at": self.accepted_at,
            "rate_limited": sum(1 for c in self.calls if c.method == "chat.postMessage" and c.status == 429),
        }


async def serve_fake() -> None:
    """The fake Slack API in a process of its own (so its clock and the bot's event loop do not share
    one thread): prints its base URL, then serves until stdin closes, then prints its report."""
    fake = TimedSlackAPI(channel_rate=PER_CHANNEL, overall_rate=OVERALL, overall_burst=BURST)
    fake.accepted_at = []
    await fake.start()
    print(fake.url, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    print(json.dumps(fake.report()), flush=True)
    await fake.stop()


async def measure(messages: int, members: int, db_url: str) -> dict[str, Any]:
    fake = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve-fake",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert fake.stdin is not None and fake.stdout is not None
    url = (await asyncio.wait_for(fake.stdout.readline(), 60)).decode().strip()
    db = Database(db_url)
    await db.upgrade()
    clock = SystemClock()
    try:
        now = clock.now()
        async with db.transaction() as s:
            for i in range(messages):
                m = i % members
                await enqueue(
                    s,
                    key=f"bench-dm-{i}",
                    destination=Destination("slack", f"dm:U{m:05d}", f"dm:member{m}"),
                    reply=Reply.text(f"Message #{i}# for member {m}", kind="digest"),
                    now=now,
                )
        settings = Settings(SLACK_BOT_TOKEN="xoxb-bench-not-real", SLACK_API_URL=url)
        sender = SlackSender(web_client(settings), per_second=OVERALL)
        dispatcher = Dispatcher(db, clock, [sender], worker_id="bench")
        start = time.monotonic()
        task = asyncio.create_task(dispatcher.run_forever(poll=0.5))
        deadline = start + max(120.0, messages / OVERALL * 4)
        o = OutboxMessage
        while time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            async with db.session() as s:
                left = (await s.exec(select(func.count()).where(col(o.status).in_(("pending", "sending"))))).one()
            if left == 0:
                break
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        async with db.session() as s:
            not_sent = (await s.exec(select(func.count()).where(col(o.status) != "sent"))).one()
        fake.stdin.close()
        report = json.loads((await asyncio.wait_for(fake.stdout.readline(), 60)).decode())
        seen: Counter[str] = Counter(text.split("#")[1] for text in report["texts"])
        lost = max(messages - len(seen), int(not_sent))
        duplicates = sum(c - 1 for c in seen.values() if c > 1)
        accepted = report["accepted_at"]
        measured = (max(accepted) - start) if accepted else float("inf")
        if os.environ.get("WGBOT_BENCH_DEBUG"):
            per_second = Counter(int(t - start) for t in accepted)
            print("accepted per second:", [per_second[i] for i in range(int(measured) + 1)], file=sys.stderr)
        per_channel = -(-messages // members)
        minimum = max((messages - BURST) / OVERALL, (per_channel - 1) / PER_CHANNEL)
        return {
            "outbox_efficiency": round(minimum / measured, 3),
            "outbox_lost": lost,
            "outbox_duplicates": duplicates,
            "outbox_messages": messages,
            "outbox_min_s": round(minimum, 2),
            "outbox_measured_s": round(measured, 2),
            "outbox_429s": report["rate_limited"],
            "outbox_db": db.dialect,
        }
    finally:
        await db.dispose()
        if fake.returncode is None:
            fake.kill()
        await fake.wait()


def run(quick: bool) -> dict[str, Any]:
    messages, members = (300, 60) if quick else (1000, 200)
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(measure(messages, members, f"sqlite:///{tmp}/outbox.db"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--messages", type=int)
    parser.add_argument("--members", type=int)
    parser.add_argument("--db", help="a database URL (default: a SQLite file in a temporary directory)")
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        asyncio.run(serve_fake())
        return
    if args.messages is None and args.members is None and args.db is None:
        print(json.dumps(run(args.quick)))
        return
    messages = args.messages or (300 if args.quick else 1000)
    members = args.members or max(1, messages // 5)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{tmp}/outbox.db"
        print(json.dumps(asyncio.run(measure(messages, members, url))))


if __name__ == "__main__":
    main()
