"""Benchmark: the web record's page for a working group with N proposals, on SQLite by default.

    .venv/bin/python bench/bench_web.py [--proposals 1000] [--requests 200] [--db URL]

Builds a group with N proposals (inserted directly, with authors in every stakeholder group), a
weekly meeting and some check-in answers, serves the record on loopback with the real aiohttp
server, and times R sequential GETs of the group's page (the register's first page, votes, meetings,
participation chart, digests) from a client on the same loop: as served (the render cache of
adapters/web/cache.py on, the steady state), then uncached (the cache emptied before each request:
what the first reader after a change waits for). Prints p50/p95/p99 in milliseconds against the
50 ms target. `run(quick)` is bench/run.py's entry point.
A figure, not a test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from adapters.httphost import HttpHost
from adapters.web.cache import PageCache
from adapters.web.server import WebRecord
from bot import vocab, webaccess
from bot.bootstrap import build
from bot.clock import VirtualClock
from bot.config import Settings
from storage.models import Meeting, Member, Proposal, WorkingGroup

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TARGET_MS = 50.0


async def populate(app_db: object, n: int, clock: VirtualClock) -> str:
    from storage.db import Database

    db: Database = app_db  # type: ignore[assignment]
    rng = random.Random(1)
    async with db.transaction() as s:
        wg = WorkingGroup(name="bench", timezone="Europe/Paris", created_at=START - timedelta(weeks=10))
        s.add(wg)
        await s.flush()
        assert wg.id is not None
        members = []
        for i, group in enumerate(vocab.STAKEHOLDER_GROUPS * 4):
            m = Member(
                wg_id=wg.id,
                display_name=f"member{i}",
                stakeholder_group=group,
                region=vocab.REGIONS[i % len(vocab.REGIONS)],
                joined_at=START - timedelta(weeks=10),
            )
            s.add(m)
            members.append(m)
        await s.flush()
        for k in range(1, n + 1):
            at = START - timedelta(minutes=rng.randrange(0, 60 * 24 * 7 * 9))
            s.add(
                Proposal(
                    wg_id=wg.id,
                    number=k,
                    title=f"Proposal {k}: a shared <glossary> & taxonomy",
                    body="Body " * 40,
                    theme=vocab.DEFAULT_THEMES[k % 4],
                    author_id=rng.choice(members).id,
                    status=vocab.PROPOSAL_STATUSES[k % 5],
                    created_at=at,
                    updated_at=at,
                )
            )
        s.add(
            Meeting(
                wg_id=wg.id,
                number=1,
                title="Weekly sync",
                start_at=START - timedelta(weeks=8),
                timezone="Europe/Paris",
                rrule="FREQ=WEEKLY",
                created_at=START,
                updated_at=START,
            )
        )
        access = await webaccess.access_for(s, wg.id, clock.now())
        return webaccess.record_path(access)


async def measure(n: int, requests: int, db_url: str | None, *, cached: bool = True) -> tuple[list[float], int]:
    """Times (ms, sorted) of `requests` sequential GETs of the group page, and the page's size.

    `cached=False` empties the render cache before each request: every request then reads and
    renders everything, which is what the first reader after a change waits for."""
    with tempfile.TemporaryDirectory() as tmp:
        url = db_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        clock = VirtualClock(START)
        app = await build(Settings(WGBOT_DATABASE_URL=url), clock=clock, rng=random.Random(0), worker_id="bench")
        path = await populate(app.db, n, clock)
        host = HttpHost("127.0.0.1", 0)
        web_record = WebRecord(app.db, clock)
        host.extend(web_record.install)
        port = await host.open()
        times: list[float] = []
        size = 0
        try:
            async with aiohttp.ClientSession() as http:
                target = f"http://127.0.0.1:{port}{path}?tz=America/New_York"
                for _ in range(5):  # warm-up: template compilation, zone list, connection pool
                    async with http.get(target) as resp:
                        await resp.read()
                for _ in range(requests):
                    if not cached:
                        web_record.pages = PageCache()
                    t0 = time.perf_counter()
                    async with http.get(target) as resp:
                        body = await resp.read()
                        assert resp.status == 200
                    times.append((time.perf_counter() - t0) * 1000)
                    size = len(body)
        finally:
            await host.close()
            await app.close()
    return sorted(times), size


def _pct(times: list[float]) -> tuple[float, float, float]:
    p = statistics.quantiles(times, n=100, method="inclusive")
    return p[49], p[94], p[98]


def run(quick: bool) -> dict[str, float | int | str]:
    """bench/run.py's interface: the page as served (render cache on) and uncached, 1,000 proposals."""
    requests = 100 if quick else 500
    load_before = os.getloadavg()[0]
    served, _ = asyncio.run(measure(1000, requests, None))
    uncached, _ = asyncio.run(measure(1000, requests // 5, None, cached=False))
    p50, _, p99 = _pct(served)
    u50, _, u99 = _pct(uncached)
    return {
        "web_page_p50_ms": round(p50, 1),
        "web_page_p99_ms": round(p99, 1),
        "web_record_p99_ms": round(p99, 1),  # the name bench/run.py first listed
        "web_page_uncached_p50_ms": round(u50, 1),
        "web_page_uncached_p99_ms": round(u99, 1),
        "web_load_avg_1m": round(max(load_before, os.getloadavg()[0]), 1),
    }


async def main(n: int, requests: int, db_url: str | None) -> None:
    backend = (db_url or "sqlite").split(":")[0]
    for cached in (True, False):
        times, size = await measure(n, requests if cached else max(requests // 5, 20), db_url, cached=cached)
        p50, p95, p99 = _pct(times)
        how = "as served (render cache on)" if cached else "uncached (every request reads and renders)"
        print(f"web record page, {n} proposals, {len(times)} requests on {backend} ({size / 1024:.0f} KiB), {how}")
        print(f"  p50 {p50:.1f} ms   p95 {p95:.1f} ms   p99 {p99:.1f} ms   max {times[-1]:.1f} ms")
        print(f"  target p99 <= {TARGET_MS:.0f} ms: {'met' if p99 <= TARGET_MS else 'NOT met'}")
    print(f"  machine load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.proposals, args.requests, args.db))
