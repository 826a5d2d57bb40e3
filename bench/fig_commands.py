"""Figure 1: core command latency, in process (`Core.handle_text`), on SQLite and on PostgreSQL.

    .venv/bin/python bench/fig_commands.py [--quick] [--commands 10000] [--members 1000] [--db URL]

A group `wg` bound to a channel on every platform; `members` people join it (untimed set-up, spread
over the three platforms), the convener opens a few yes-no votes, then `commands` mixed commands are
timed one after another: join (new people), propose, vote (changing ballots included), results and
show P<n>. Every command runs the full path a chat message takes (parse, per-person rate limit,
group and member resolution, the handler, outbox writes, commit). The floor is measured in the same
run on the same database through the same driver: one transaction with a primary-key SELECT and an
INSERT (what the cheapest writing command must at least do) — its p50 is `command_floor_*_ms`.

PostgreSQL: `WGBOT_BENCH_DATABASE_URL` (default postgresql://postgres@127.0.0.1:5432/wgbot_test); the
benchmark creates a database of its own on that server and drops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from adapters.console.simulate import SIM_CHANNEL, ensure_sim_group
from bot.bootstrap import build
from bot.clock import VirtualClock
from bot.command import UserRef, Where
from bot.config import Settings
from bot.vocab import REGIONS, STAKEHOLDER_GROUPS
from storage.db import Database

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/wgbot_test"
PLATFORMS = ("console", "slack", "discord")
MIX = (("join", 0.1), ("propose", 0.1), ("vote", 0.4), ("results", 0.2), ("show", 0.2))


def user(i: int) -> UserRef:
    return UserRef(platform=PLATFORMS[i % 3], user_id=f"u{i}", handle=f"member{i}")


def where(i: int) -> Where:
    return Where(platform=PLATFORMS[i % 3], channel_id=SIM_CHANNEL)


def join_text(i: int) -> str:
    return f"/wg join {STAKEHOLDER_GROUPS[i % len(STAKEHOLDER_GROUPS)]} region:{REGIONS[i % len(REGIONS)]} tz:UTC"


def pct(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


async def floor_ms(db: Database, rounds: int) -> float:
    """p50 of one raw transaction (SELECT by primary key + INSERT) through the driver, no ORM."""
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS bench_floor (id INTEGER PRIMARY KEY, v TEXT)")
    times: list[float] = []
    async with db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        if db.is_sqlite:  # aiosqlite
            for k in range(rounds):
                t0 = time.perf_counter()
                await driver.execute("BEGIN IMMEDIATE")
                cur = await driver.execute("SELECT id, v FROM bench_floor WHERE id = ?", (k,))
                await cur.fetchall()
                await driver.execute("INSERT INTO bench_floor (v) VALUES (?)", ("x",))
                await driver.commit() if driver.in_transaction else None
                times.append((time.perf_counter() - t0) * 1000)
        else:  # asyncpg
            for k in range(rounds):
                t0 = time.perf_counter()
                async with driver.transaction():
                    await driver.fetch("SELECT id, v FROM bench_floor WHERE id = $1", k)
                    await driver.execute("INSERT INTO bench_floor (id, v) VALUES ($1, $2)", 10_000_000 + k, "x")
                times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


async def measure(url: str, members: int, commands: int, label: str) -> dict[str, float | int | str]:
    db = Database(url)
    clock = VirtualClock(START)
    app = await build(Settings(WGBOT_DATABASE_URL=url), clock=clock, db=db, rng=random.Random(0), worker_id="b")
    try:
        await ensure_sim_group(app)
        core = app.core
        rng = random.Random(15)
        for i in range(members):  # set-up, untimed
            r = await core.handle_text(join_text(i), user(i), where(i))
            assert not r.replies or r.replies[0].kind != "error", r.replies[0].to_text()
        for k in range(5):
            r = await core.handle_text(
                f'/wg vote open "Question {k}?" method:yes-no closes:"2026-03-01 12:00 UTC"', user(0), where(0)
            )
        for k in range(20):
            await core.handle_text(f'/wg propose "Seed {k}" A seed proposal.', user(k + 1), where(k + 1))
        proposals, next_member = 20, members
        by_kind: dict[str, list[float]] = {kind: [] for kind, _ in MIX}
        kinds = [kind for kind, _ in MIX]
        weights = [w for _, w in MIX]
        errors = 0
        for _ in range(commands):
            kind = rng.choices(kinds, weights)[0]
            i = rng.randrange(1, members)
            if kind == "join":
                txt, i = join_text(next_member), next_member
                next_member += 1
            elif kind == "propose":
                txt = f'/wg propose "Proposal by {i}" Text of the proposal, {rng.random()}.'
                proposals += 1
            elif kind == "vote":
                txt = f"/wg vote V{rng.randrange(1, 6)} {rng.choice(('yes', 'no', 'abstain'))}"
            elif kind == "results":
                txt = f"/wg results V{rng.randrange(1, 6)}"
            else:
                txt = f"/wg show P{rng.randrange(1, proposals + 1)}"
            t0 = time.perf_counter()
            r = await core.handle_text(txt, user(i), where(i))
            by_kind[kind].append((time.perf_counter() - t0) * 1000)
            if r.replies and r.replies[0].kind == "error":
                errors += 1
                if errors <= 3:
                    print(f"[fig_commands] {txt!r}: {r.replies[0].to_text()[:200]}", file=sys.stderr)
        floor = await floor_ms(db, 300 if commands < 5000 else 1000)
    finally:
        await app.close()
    every = [t for ts in by_kind.values() for t in ts]
    out: dict[str, float | int | str] = {
        f"command_p50_{label}_ms": round(pct(every, 50), 2),
        f"command_p99_{label}_ms": round(pct(every, 99), 2),
        f"command_floor_{label}_ms": round(floor, 3),
        f"command_errors_{label}": errors,
    }
    for kind, ts in by_kind.items():
        out[f"command_{kind}_p50_{label}_ms"] = round(pct(ts, 50), 2)
        out[f"command_{kind}_p99_{label}_ms"] = round(pct(ts, 99), 2)
    return out


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    u = make_url(url)
    conn = await asyncpg.connect(
        host=u.host or "127.0.0.1", port=u.port or 5432, user=u.username, password=u.password, database=u.database
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def on_postgres(url: str, members: int, commands: int) -> dict[str, float | int | str]:
    """In a database of its own, dropped afterwards."""
    name = f"wgbot_bench_{os.getpid()}"
    try:
        await _admin(url, f'CREATE DATABASE "{name}"')
    except Exception as exc:
        reason = f"skipped: {type(exc).__name__}: {str(exc)[:120]}"
        return {"command_p50_postgresql_ms": reason, "command_p99_postgresql_ms": reason}
    try:
        own = make_url(url).set(database=name).render_as_string(hide_password=False)
        return await measure(own, members, commands, "postgresql")
    finally:
        await _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main(quick: bool, members: int | None, commands: int | None, only: str | None) -> dict[str, Any]:
    members = members or (300 if quick else 1000)
    commands = commands or (2000 if quick else 10_000)
    out: dict[str, Any] = {"command_members": members, "command_count": commands}
    if only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            out.update(await measure(f"sqlite:///{Path(tmp) / 'bench.db'}", members, commands, "sqlite"))
    if only in (None, "postgresql"):
        out.update(await on_postgres(os.environ.get("WGBOT_BENCH_DATABASE_URL", DEFAULT_PG), members, commands))
    return out


def run(quick: bool) -> dict[str, float | int | str]:
    return asyncio.run(main(quick, None, None, None))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--members", type=int)
    parser.add_argument("--commands", type=int)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    a = parser.parse_args()
    t = time.perf_counter()
    print(json.dumps(asyncio.run(main(a.quick, a.members, a.commands, a.only)), indent=1))
    print(f"{time.perf_counter() - t:.0f} s, load {os.getloadavg()[0]:.1f}", file=sys.stderr)
