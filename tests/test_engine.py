"""The scheduling engine: claims with a lease, exactly-once execution with the outbox, late and skipped work."""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from bot.bootstrap import App, build
from bot.clock import VirtualClock
from bot.command import PLATFORMS
from bot.config import Settings
from bot.engine import Engine
from bot.outbox import Destination
from bot.reply import Reply
from bot.services.meetings import plan_meeting
from storage.db import Database
from storage.models import Meeting, OutboxMessage, ScheduledJob, WorkingGroup
from tests.conftest import START, Harness, Recorder

#: the weekly digest every group has pending (tests/test_digests.py) is not what these tests count
NOT_DIGEST = col(ScheduledJob.kind) != "digest.send"


async def _app(db_url: str, clock: VirtualClock, worker: str) -> tuple[App, dict[str, Recorder]]:
    recorders = {p: Recorder(p) for p in (*PLATFORMS, "email")}
    app = await build(
        Settings(WGBOT_DATABASE_URL=db_url),
        clock=clock,
        db=Database(db_url),
        rng=random.Random(0),
        senders=list(recorders.values()),
        worker_id=worker,
        upgrade=False,
    )
    return app, recorders


async def _meetings_due_together(app: App, n: int) -> None:
    """n meetings starting at START+2h, each with one 1h reminder: n jobs due at START+1h."""
    async with app.db.transaction() as s:
        wg = (await s.exec(select(WorkingGroup))).one()
        for i in range(n):
            m = Meeting(
                wg_id=wg.id,  # type: ignore[arg-type]
                number=i + 1,
                title=f"Meeting {i + 1}",
                start_at=START + timedelta(hours=2),
                remind_minutes=[60],
                created_at=START,
                updated_at=START,
            )
            s.add(m)
            await s.flush()
            await plan_meeting(s, m, START, after=START, late_ok=False)


async def test_two_engines_deliver_200_reminders_due_at_once_exactly_once(harness: Harness, db_url: str) -> None:
    await _meetings_due_together(harness.app, 200)
    clock_a, clock_b = VirtualClock(START + timedelta(hours=1)), VirtualClock(START + timedelta(hours=1))
    a, rec_a = await _app(db_url, clock_a, "worker-a")
    b, rec_b = await _app(db_url, clock_b, "worker-b")
    try:
        await asyncio.gather(a.run_due(), b.run_due(), a.run_due(), b.run_due())
        async with harness.app.db.session() as s:
            statuses = Counter((await s.exec(select(ScheduledJob.status).where(NOT_DIGEST))).all())
            claimed = Counter((await s.exec(select(ScheduledJob.claimed_by).where(NOT_DIGEST))).all())
            reminders = (
                await s.exec(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "reminder"))
            ).one()
        assert statuses == {"done": 200}
        assert sum(claimed.values()) == 200 and set(claimed) <= {"worker-a", "worker-b"}
        # three bound channels per reminder (no members): 600 messages, each delivered once
        assert reminders == 600
        keys = [m.key for r in (*rec_a.values(), *rec_b.values()) for m in r.sent if m.kind == "reminder"]
        assert len(keys) == 600 and len(set(keys)) == 600
    finally:
        await a.close()
        await b.close()


async def test_a_job_held_by_a_dead_worker_is_done_after_its_lease_and_only_once(harness: Harness, db_url: str) -> None:
    await _meetings_due_together(harness.app, 1)
    clock = VirtualClock(START + timedelta(hours=1))
    dead = Engine(harness.app.db, clock, worker_id="dead", lease=timedelta(seconds=60))
    claimed = await dead.claim()
    assert len(claimed) == 1  # …and the process dies before executing it
    live, rec = await _app(db_url, clock, "live")
    try:
        assert await live.engine.run_due() == 0  # still leased
        assert await live.engine.next_due() == clock.now() + timedelta(seconds=60)
        clock.advance(timedelta(seconds=61))
        assert await live.engine.run_due() == 1
        await live.dispatcher.run_once()
        # the dead worker wakes up and tries to finish: its claim is gone, nothing is added
        assert await dead.execute(claimed[0]) is False
        async with harness.app.db.session() as s:
            job = (await s.exec(select(ScheduledJob).where(NOT_DIGEST))).one()
            n = (await s.exec(select(func.count()).select_from(OutboxMessage))).one()
        assert job.status == "done" and job.claimed_by == "live" and job.attempts == 2
        assert n == 3 and sum(len(r.sent) for r in rec.values()) == 3
        # a reminder done 61 s after it was due is not "late" enough to carry a note
        assert not job.late
    finally:
        await live.close()


async def test_missed_work_is_done_late_within_grace_and_skipped_after(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society region:weog tz:Europe/Lisbon")
    await harness.say("ana", '/wg meeting "Call" at:2026-01-08T14:00Z remind:24h,1h')
    harness.clear()
    # the process was down from Monday until 13:20 on Thursday: jump the clock without running anything
    harness.clock.set(START.replace(day=8, hour=13, minute=20))
    assert await harness.app.run_due() > 0
    reminders = [m for m in harness.sent() if m.kind == "reminder"]
    assert len(reminders) == 4  # the 1h reminder: three channels and ana's DM
    assert all("(late: due 2026-01-08 13:00 UTC, sent 20 min late" in m.reply.to_text() for m in reminders)
    async with harness.app.db.session() as s:
        jobs = (await s.exec(select(ScheduledJob).where(NOT_DIGEST).order_by(col(ScheduledJob.due_at)))).all()
    assert [(j.status, j.late) for j in jobs] == [("skipped", False), ("done", True)]
    assert "grace" in (jobs[0].note or "")
    harness.clear()
    assert await harness.app.run_due() == 0 and harness.sent() == []


async def test_reminder_after_the_meeting_started_is_skipped_not_sent(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society region:weog tz:Europe/Lisbon")
    await harness.say("ana", '/wg meeting "Call" at:2026-01-08T14:00Z remind:30m')
    harness.clear()
    harness.clock.set(START.replace(day=8, hour=14, minute=5))  # within the grace period, but too late
    await harness.app.run_due()
    assert [m for m in harness.sent() if m.kind == "reminder"] == []
    async with harness.app.db.session() as s:
        job = (await s.exec(select(ScheduledJob).where(NOT_DIGEST))).one()
    assert job.status == "skipped" and "no longer useful" in (job.note or "")


async def test_a_failing_job_is_retried_later_and_sends_nothing_meanwhile(harness: Harness) -> None:
    from bot.engine import GRACE_KINDS, JOB_HANDLERS, JobContext, job_handler, schedule

    calls: list[int] = []

    @job_handler("test.flaky")
    async def flaky(ctx: JobContext) -> None:
        calls.append(1)
        dest = Destination("console", "channel:wg", "channel:wg")
        await ctx.send(dest, Reply.text("hello", kind="reminder"), part="x")
        if len(calls) == 1:
            raise RuntimeError("boom")

    try:
        async with harness.app.db.transaction() as s:
            await schedule(s, kind="test.flaky", key="flaky", due_at=START, now=START)
        assert await harness.app.engine.run_due() == 0
        async with harness.app.db.session() as s:
            job = (await s.exec(select(ScheduledJob).where(NOT_DIGEST))).one()
            n = (await s.exec(select(func.count()).select_from(OutboxMessage))).one()
        assert job.status == "pending" and job.not_before > START and n == 0
        harness.clock.set(job.not_before)
        assert await harness.app.engine.run_due() == 1
        await harness.app.dispatcher.run_once()
        assert [m.reply.to_text() for m in harness.sent()] == ["hello"]
    finally:
        JOB_HANDLERS.pop("test.flaky", None)
        GRACE_KINDS.discard("test.flaky")


async def test_a_job_whose_workers_keep_dying_is_failed_after_max_attempts_not_claimed_forever(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await _meetings_due_together(harness.app, 1)
    clock = VirtualClock(START + timedelta(hours=1))
    lease = timedelta(seconds=60)
    for n in range(1, 4):
        dying = Engine(harness.app.db, clock, worker_id=f"dying-{n}", lease=lease, max_attempts=3)
        assert [j.attempts for j in await dying.claim()] == [n]  # …and the process dies before executing it
        clock.advance(lease + timedelta(seconds=1))
    survivor = Engine(harness.app.db, clock, worker_id="survivor", lease=lease, max_attempts=3)
    with caplog.at_level(logging.ERROR, logger="bot.engine"):
        assert await survivor.claim() == []
        assert await survivor.run_due() == 0
    async with harness.app.db.session() as s:
        job = (await s.exec(select(ScheduledJob).where(NOT_DIGEST))).one()
        sent = (await s.exec(select(func.count()).select_from(OutboxMessage))).one()
    assert (job.status, job.attempts, job.claimed_by) == ("failed", 3, "dying-3")
    assert "claimed 3 times" in (job.note or "") and sent == 0
    assert any("giving up" in r.getMessage() and job.key in r.getMessage() for r in caplog.records)
    # nothing of it is due any more: only the group's weekly digest is still ahead
    assert await survivor.next_due() == datetime(2026, 1, 12, 9, 0, tzinfo=UTC)


def test_only_the_clock_module_reads_the_wall_clock() -> None:
    """`grep -rn "datetime.now" bot/` shows only bot/clock.py: everything else takes a Clock."""
    root = Path(__file__).resolve().parent.parent / "bot"
    readers = sorted(
        str(p.relative_to(root.parent))
        for p in root.rglob("*.py")
        if re.search(r"datetime\.(now|utcnow|today)\(|\btime\.time\(|date\.today\(", p.read_text(encoding="utf-8"))
    )
    assert readers == ["bot/clock.py"]
