"""Benchmark: N meeting reminders falling due at once, claimed and delivered by W engine instances.

    .venv/bin/python bench/bench_engine.py [--reminders 1000] [--workers 2] [--db URL]

Each worker is a full `build()` app (its own Database pool and worker id) on a virtual clock set to
the due time; they run concurrently on one database. Prints the time to execute all jobs (each job
writes 3 channel messages to the outbox) and to deliver the outbox, and checks nothing was doubled.
A figure, not a test: numbers depend on the machine and the engine (SQLite serialises writers).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, text
from sqlmodel import select

from adapters.console.simulate import ensure_sim_group
from bot.bootstrap import App, build
from bot.clock import VirtualClock
from bot.command import PLATFORMS
from bot.config import Settings
from bot.outbox import Outgoing
from bot.services.meetings import plan_meeting
from storage.db import Database
from storage.models import Meeting, OutboxMessage, ScheduledJob, WorkingGroup

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class Counting:
    def __init__(self, platform: str, seen: Counter[str]) -> None:
        self.platform = platform
        self.seen = seen

    async def send(self, message: Outgoing) -> str | None:
        self.seen[message.key] += 1
        return None


async def make_app(url: str, clock: VirtualClock, worker: str, seen: Counter[str]) -> App:
    return await build(
        Settings(WGBOT_DATABASE_URL=url),
        clock=clock,
        db=Database(url),
        rng=random.Random(0),
        senders=[Counting(p, seen) for p in PLATFORMS],
        worker_id=worker,
        upgrade=False,
    )


async def main(n: int, workers: int, url: str) -> None:
    if not url.startswith("sqlite"):
        db = Database(url)
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await db.dispose()
    seen: Counter[str] = Counter()
    setup = await build(Settings(WGBOT_DATABASE_URL=url), clock=VirtualClock(START), db=Database(url))
    await ensure_sim_group(setup)
    async with setup.db.transaction() as s:
        wg = (await s.exec(select(WorkingGroup))).one()
        for i in range(n):
            m = Meeting(
                wg_id=wg.id,  # type: ignore[arg-type]
                number=i + 1,
                title=f"M{i + 1}",
                start_at=START + timedelta(hours=2),
                remind_minutes=[60],
                created_at=START,
                updated_at=START,
            )
            s.add(m)
            await s.flush()
            await plan_meeting(s, m, START, after=START, late_ok=False)
    due = START + timedelta(hours=1)
    apps = [await make_app(url, VirtualClock(due), f"w{i}", seen) for i in range(workers)]
    t0 = time.perf_counter()
    await asyncio.gather(*(a.engine.run_due() for a in apps))
    t1 = time.perf_counter()
    await asyncio.gather(*(a.dispatcher.run_once() for a in apps))
    t2 = time.perf_counter()
    async with setup.db.session() as s:
        by_worker = Counter((await s.exec(select(ScheduledJob.claimed_by))).all())
        messages = (await s.exec(select(func.count()).select_from(OutboxMessage))).one()
    doubled = sum(1 for c in seen.values() if c > 1)
    print(f"database        {setup.db.dialect}")
    print(f"reminders       {n} due at once, {workers} workers")
    print(f"jobs executed   {t1 - t0:8.3f} s  ({n / (t1 - t0):8.1f} jobs/s)   by worker: {dict(by_worker)}")
    print(f"outbox sent     {t2 - t1:8.3f} s  ({messages / (t2 - t1):8.1f} msgs/s)  {messages} messages")
    print(f"duplicates      {doubled}   undelivered: {messages - len(seen)}")
    for a in apps:
        await a.close()
    await setup.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reminders", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(args.reminders, args.workers, args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"))
