"""A real `wgbot run` process SIGKILLed in the middle of a vote close and in the middle of a digest:
after a restart the job is done once — the vote closed once, its result posted once; the digest
archived once and posted once.

To kill it *inside* the job, deterministically, the test holds a PostgreSQL table lock the job must
write through (`votes` for the close, `digests` for the digest's archive): the process claims the
job, starts its transaction and waits on the lock; it is killed there, its transaction dies with its
connection, and the lease it held on the job lapses. (PostgreSQL only: on SQLite the claim itself
needs the write lock, so there is no moment inside the job to kill it at.) SIGKILL during outbox
dispatch is tests/test_crash.py; with a leader change, tests/faults/test_two_processes.py.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from adapters.console.simulate import ensure_sim_group
from bot.bootstrap import build
from bot.command import UserRef, Where
from bot.config import Settings
from storage.db import Database
from tests.conftest import PG_URL
from tests.fakes.slack_api import FakeSlackAPI
from tests.faults.procs import Proc, start

pytestmark = pytest.mark.skipif(not PG_URL, reason="a lock inside the job's transaction: PostgreSQL only")


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlackAPI]:
    api = FakeSlackAPI()
    await api.start()
    yield api
    await api.stop()


async def scalar(db: Database, sql: str, **params: Any) -> Any:
    async with db.engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar()


async def until(check: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def prepare(db_url: str) -> None:
    """The simulation's group `wg` (bound on console, Slack and Discord), two members, an open vote
    with two ballots (its close job scheduled), and the group's weekly digest job."""
    app = await build(Settings(WGBOT_DATABASE_URL=db_url), rng=random.Random(0), worker_id="setup")
    try:
        await ensure_sim_group(app)
        where = Where("console", "wg", "wg")
        ana, bo = UserRef("console", "ana", "ana"), UserRef("console", "bo", "bo")
        await app.core.handle_text("/wg join civil-society", ana, where)
        await app.core.handle_text("/wg join academia", bo, where)
        opened = await app.core.handle_text('/wg vote open "Adopt the charter?" method:yes-no closes:in 3h', ana, where)
        assert "V1" in opened.replies[0].to_text()
        await app.core.handle_text('/wg propose "Charter" The text of the charter.', ana, where)
        await app.core.handle_text("/wg vote V1 yes", ana, where)
        await app.core.handle_text("/wg vote V1 no", bo, where)
    finally:
        await app.close()


@pytest.mark.parametrize(("kind", "table"), [("vote.close", "votes"), ("digest.send", "digests")])
async def test_sigkill_inside_a_job_then_restart_does_it_once(
    tmp_path: Path, db_url: str, fake: FakeSlackAPI, kind: str, table: str
) -> None:
    await prepare(db_url)
    db = Database(db_url)
    procs: list[Proc] = []
    try:
        assert (
            await scalar(db, "SELECT count(*) FROM scheduled_jobs WHERE kind = :k AND status = 'pending'", k=kind) == 1
        )
        async with db.engine.begin() as conn:  # due now
            await conn.execute(
                text("UPDATE scheduled_jobs SET due_at = :t, not_before = :t WHERE kind = :k"),
                {"t": datetime.now(UTC), "k": kind},
            )
        blocker = await db.engine.connect()
        await blocker.begin()
        await blocker.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))  # writes to it wait

        first, _ = await start(tmp_path, db_url, fake)
        procs.append(first)

        async def stuck_inside() -> bool:
            waiting = await scalar(
                db,
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
            )
            running = await scalar(
                db, "SELECT count(*) FROM scheduled_jobs WHERE kind = :k AND status = 'running'", k=kind
            )
            return bool(waiting >= 1 and running == 1)

        await until(stuck_inside, 60, f"the {kind} job to be claimed and blocked inside its transaction")
        first.proc.send_signal(signal.SIGKILL)
        await first.proc.wait()
        await blocker.rollback()
        await blocker.close()
        # nothing of the job survived the kill: still claimed by the dead worker, no effects
        job_status = "SELECT status FROM scheduled_jobs WHERE kind = :k ORDER BY id LIMIT 1"
        assert await scalar(db, job_status, k=kind) == "running"
        if kind == "vote.close":
            assert await scalar(db, "SELECT status FROM votes") == "open"
        else:
            assert await scalar(db, "SELECT count(*) FROM digests") == 0

        second, _ = await start(tmp_path, db_url, fake)
        procs.append(second)

        async def done() -> bool:
            status = await scalar(db, job_status, k=kind)
            unsent = await scalar(db, "SELECT count(*) FROM outbox WHERE platform = 'slack' AND status <> 'sent'")
            return bool(status == "done" and unsent == 0)

        await until(done, 90, f"the {kind} job done after the restart and its messages sent")
        assert await scalar(db, "SELECT attempts FROM scheduled_jobs WHERE kind = :k ORDER BY id LIMIT 1", k=kind) == 2
        posts = [str(p.get("text")) for p in fake.of("chat.postMessage")]
        assert Counter(posts).most_common(1)[0][1] == 1  # nothing posted twice
        if kind == "vote.close":
            assert await scalar(db, "SELECT status FROM votes") == "closed"
            closed = [t for t in posts if "V1 closed" in t]
            assert len(closed) == 1, posts
        else:
            assert await scalar(db, "SELECT count(*) FROM digests") == 1
            digests = [t for t in posts if "/wg digest subscribe" in t]
            assert "Charter" in digests[0]  # the week's new proposal is in it
            assert len(digests) == 1, posts
    finally:
        for p in procs:
            await p.stop()
        await db.dispose()
