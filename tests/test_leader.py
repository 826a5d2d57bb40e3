"""Engine leadership (`bot.leader`): one leader among the processes on a database, a standby takes
over when the leader goes, a leader whose database connection dies steps down, and a standby's
waker leaves the engine alone. That two leaders overlapping still run each job once is
tests/test_engine.py::test_two_engines_deliver_200_reminders_due_at_once_exactly_once (two engines
claiming the same 200 due jobs concurrently); the real-process version, with the leader killed, is
tests/faults/test_two_processes.py."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import text

from adapters.health import health
from bot.leader import Leadership
from bot.scheduler import Waker
from storage.db import Database


async def test_one_leader_at_a_time_and_a_standby_takes_over(db: Database) -> None:
    changes: list[tuple[str, bool]] = []
    a = Leadership(db, worker_id="a", retry=0.1, on_change=lambda led: changes.append(("a", led)))
    b = Leadership(db, worker_id="b", retry=0.1, on_change=lambda led: changes.append(("b", led)))
    try:
        assert await a.attempt() is True
        assert await b.attempt() is False
        assert await a.attempt() is True and await b.attempt() is False  # stable while a lives
        assert (a.role, b.role) == ("leader", "standby")
        await a.release()  # the leader's process ends: its lock goes with its connection / file
        assert await b.attempt() is True
        assert await a.attempt() is False
        assert changes == [("a", True), ("b", True)]
    finally:
        await a.release()
        await b.release()


async def test_a_leader_whose_connection_dies_steps_down_and_the_standby_leads(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL only: on SQLite the lock is a file lock held by the process itself")
    a = Leadership(db, worker_id="a", retry=0.1)
    b = Leadership(db, worker_id="b", retry=0.1)
    try:
        assert await a.attempt() and not await b.attempt()
        assert a._conn is not None
        pid = (await a._conn.execute(text("SELECT pg_backend_pid()"))).scalar()
        async with db.engine.connect() as admin:  # what a database restart does to the leader's session
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            # pg_terminate_backend only signals the backend: it exits, and its locks go, a moment later
            for _ in range(100):
                gone = (
                    await admin.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
                ).scalar() == 0
                await admin.rollback()  # pg_stat_activity is read once per transaction
                if gone:
                    break
                await asyncio.sleep(0.05)
            assert gone
        assert await b.attempt() is True  # the server released the lock with the session
        assert await a.attempt() is False  # a notices, steps down, and cannot take it back
        assert (a.role, b.role) == ("standby", "leader")
    finally:
        await a.release()
        await b.release()


class CountingWork:
    def __init__(self) -> None:
        self.runs = 0

    async def next_due(self) -> datetime | None:
        return None

    async def run_due(self) -> int:
        self.runs += 1
        return 0


async def test_a_standby_waker_runs_no_engine_work_until_it_leads() -> None:
    work = CountingWork()
    leading = False
    waker = Waker([work], poll_seconds=3600, gate=lambda: leading)
    task = asyncio.create_task(waker.run())
    try:
        await asyncio.wait_for(waker.pass_done.wait(), 30)
        assert work.runs == 0  # standing by
        leading = True
        waker.pass_done.clear()
        waker.wake()  # what Leadership.on_change does when this process becomes the leader
        await asyncio.wait_for(waker.pass_done.wait(), 30)
        assert work.runs == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_health_reports_the_engine_role_without_making_a_standby_unhealthy(db: Database) -> None:
    ok, report = await health(db, {"slack": lambda: "connected"}, {"engine": lambda: "standby"})
    assert ok and report["engine"] == "standby" and report["status"] == "ok"
