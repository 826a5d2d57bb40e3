"""Shared fixtures: a real database (SQLite file, or PostgreSQL when WGBOT_TEST_DATABASE_URL names one),
a virtual clock, and the real core and outbox with senders that record what would be delivered.

The whole suite runs on both engines: CI runs it once as is and once with
WGBOT_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/wgbot_test.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.bootstrap import App, build
from bot.clock import VirtualClock
from bot.command import PLATFORMS, UserRef, Where
from bot.config import Settings
from bot.outbox import Outgoing
from bot.reply import Response
from storage.db import Database

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

# Property-based tests (tests/test_fuzz.py and others): modest example counts so the suite stays
# fast, no deadline (2 shared cores make timings meaningless), and derandomized so that CI runs
# the same examples every time and a failure reproduces. `HYPOTHESIS_PROFILE=explore` searches
# more, at random, to look for new bugs locally.
settings.register_profile(
    "wgbot",
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", parent=settings.get_profile("wgbot"), max_examples=2000, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "wgbot"))
PG_URL = os.environ.get("WGBOT_TEST_DATABASE_URL", "")
_PG_BASE = PG_URL


def pytest_configure(config: pytest.Config) -> None:
    """With PostgreSQL, each pytest session gets a database of its own (parallel runs never collide).

    WGBOT_TEST_DATABASE_URL names the server and a database to connect to; the session creates
    `<that name>_<pid>` beside it, points PG_URL and the environment (for subprocesses) at it, and
    drops it at the end.
    """
    global PG_URL
    if not _PG_BASE:
        return
    url = make_url(_PG_BASE)
    name = f"{url.database}_{os.getpid()}"
    asyncio.run(_admin(_PG_BASE, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'))
    PG_URL = url.set(database=name).render_as_string(hide_password=False)
    os.environ["WGBOT_TEST_DATABASE_URL"] = PG_URL


def pytest_unconfigure(config: pytest.Config) -> None:
    if _PG_BASE and PG_URL != _PG_BASE:
        name = make_url(PG_URL).database
        asyncio.run(_admin(_PG_BASE, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(base_url: str, *statements: str) -> None:
    import asyncpg

    url = make_url(base_url)
    conn = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database,
    )
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def test_database_url(tmp_path: Path) -> str:
    """A fresh, empty database for one test."""
    if PG_URL:
        return PG_URL
    return f"sqlite:///{tmp_path / 'test.db'}"


async def reset_postgres(url: str) -> None:
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await db.dispose()


@pytest.fixture
async def db_url(tmp_path: Path) -> str:
    url = test_database_url(tmp_path)
    if PG_URL:
        await reset_postgres(url)
    return url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    await database.upgrade()
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@dataclass
class Recorder:
    """Records what the outbox delivers, per platform, instead of calling a platform."""

    platform: str
    sent: list[Outgoing] = field(default_factory=list)
    edited: list[Outgoing] = field(default_factory=list)

    async def send(self, message: Outgoing) -> str | None:
        self.sent.append(message)
        return f"{self.platform}-{message.id}"

    async def edit(self, message: Outgoing) -> str | None:
        self.edited.append(message)
        return message.edit_ref


@dataclass
class Harness:
    app: App
    clock: VirtualClock
    recorders: dict[str, Recorder]

    async def say(
        self,
        name: str,
        text: str,
        *,
        platform: str = "console",
        thread: str | None = None,
        channel: str = "wg",
        tz: str | None = None,
    ) -> Response:
        user = UserRef(platform=platform, user_id=name, handle=name, timezone=tz)
        where = Where(platform=platform, channel_id=channel, channel_name=channel, thread_id=thread)
        response = await self.app.core.handle_text(text, user, where)
        await self.app.run_due()
        return response

    async def advance_to(self, target: datetime) -> None:
        """Move the virtual clock to `target`, firing due work in time order (as `wgbot simulate` does)."""
        from adapters.console.simulate import Simulation

        await Simulation(self.app, self.clock, lambda _event: None).advance_to(target)

    def sent(self, platform: str | None = None) -> list[Outgoing]:
        if platform is not None:
            return list(self.recorders[platform].sent)
        return [m for r in self.recorders.values() for m in r.sent]

    def clear(self) -> None:
        for r in self.recorders.values():
            r.sent.clear()


@pytest.fixture
async def harness(db: Database, clock: VirtualClock) -> AsyncIterator[Harness]:
    """The real app on a virtual clock, with the simulation's working group `wg` bound everywhere."""
    from adapters.console.simulate import ensure_sim_group

    recorders = {p: Recorder(p) for p in (*PLATFORMS, "email")}
    app = await build(
        Settings(WGBOT_DATABASE_URL=str(db.url)),
        clock=clock,
        db=db,
        rng=random.Random(0),
        senders=list(recorders.values()),
        worker_id="test",
        upgrade=False,
    )
    await ensure_sim_group(app)
    yield Harness(app, clock, recorders)


@pytest.fixture
async def empty(harness: Harness) -> Harness:
    """A deployment with no working group at all (the harness's `wg` removed)."""
    from sqlmodel import select

    from storage.models import Channel, ScheduledJob, WorkingGroup

    async with harness.app.db.transaction() as s:
        for job in (await s.exec(select(ScheduledJob))).all():  # the group's digest
            await s.delete(job)
        for ch in (await s.exec(select(Channel))).all():
            await s.delete(ch)
        await s.flush()
        for wg in (await s.exec(select(WorkingGroup))).all():
            await s.delete(wg)
    return harness


async def table_snapshot(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, to show that a rejected command changed nothing (rate counters aside:
    every command, refused or not, is counted against its sender's limit)."""
    from sqlmodel import SQLModel

    out: dict[str, list[tuple[object, ...]]] = {}
    async with db.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name == "rate_counters":
                continue
            rows = (await conn.execute(table.select())).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out
