"""The live process's alarm clock: APScheduler 3.11 wakes the process, the database decides what runs.

APScheduler is deliberately *not* the source of truth: two APScheduler instances sharing a job store
fire a job twice, and its in-memory jobs die with the process. Here it holds exactly two jobs of its
own — a periodic poll (to notice work that other processes scheduled) and a one-shot alarm at the
next due time read from the database — and both only call `run_due()` on the engine, which claims
rows with a lease. A missed or doubled alarm is therefore harmless.

The simulation does not use this: its virtual clock calls `next_due()` / `run_due()` directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import UTC
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock, SystemClock
from storage.db import is_unavailable

if TYPE_CHECKING:
    from bot.bootstrap import DueWork

log = logging.getLogger(__name__)
ALARM_ID = "wgbot-next-due"
POLL_ID = "wgbot-poll"


class Waker:
    """Runs due work when it falls due, using APScheduler only for the waiting."""

    def __init__(
        self,
        work: Sequence[DueWork],
        *,
        poll_seconds: float = 30.0,
        after_run: Callable[[], None] | None = None,
        wall: Clock | None = None,
        gate: Callable[[], bool] | None = None,
    ) -> None:
        self.work = list(work)
        #: runs work only while this says so (the engine leader, `bot.leader`); None: always
        self.gate = gate
        #: APScheduler fires on the wall clock, whatever clock the engine runs on, so alarms are set
        #: against the real time: a due time already past means "now", not a date in the past
        self.wall: Clock = wall or SystemClock()
        self.poll_seconds = poll_seconds
        self.after_run = after_run or (lambda: None)
        self.scheduler: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()
        #: set after every pass; tests wait on it instead of sleeping
        self.passes = 0
        self.pass_done = asyncio.Event()

    async def tick(self) -> None:
        """Run what is due, then set the alarm for the next due time. Passes never overlap."""
        async with self._lock:
            if self.scheduler is None:
                return
            if self.gate is not None and not self.gate():
                # a standby: the leader does the work; leadership's change wakes this waker
                self.passes += 1
                self.pass_done.set()
                return
            done = 0
            for w in self.work:
                try:
                    done += await w.run_due()
                except Exception as exc:
                    if is_unavailable(exc) or isinstance(exc, OSError):
                        log.warning("scheduler: the database is unreachable (%s); retrying", type(exc).__name__)
                    else:
                        log.exception("a scheduled-work pass failed")
            if done:
                self.after_run()
            await self._set_alarm()
            self.passes += 1
            self.pass_done.set()

    async def _set_alarm(self) -> None:
        if self.scheduler is None:
            return
        times = []
        for w in self.work:
            try:
                t = await w.next_due()
            except Exception as exc:
                if not (is_unavailable(exc) or isinstance(exc, OSError)):
                    log.exception("reading the next due time failed")
                continue
            if t is not None:
                times.append(t)
        if not times:
            with contextlib.suppress(Exception):
                self.scheduler.remove_job(ALARM_ID)
            return
        when = max(min(times), self.wall.now())  # APScheduler runs on the wall clock
        self.scheduler.add_job(
            self.tick,
            "date",
            run_date=when,
            id=ALARM_ID,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=3,  # passes serialise on the lock; a wake during a pass must not be dropped
        )

    def wake(self) -> None:
        """Something was scheduled here: re-read the next due time now instead of at the next poll."""
        if self.scheduler is None or not self.scheduler.running:
            return
        self.scheduler.add_job(
            self.tick,
            "date",
            id=ALARM_ID,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=3,
        )

    async def run(self) -> None:
        """Start APScheduler and wait until cancelled."""
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.poll_seconds,
            id=POLL_ID,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        self.scheduler.start()
        log.info("scheduler started (poll every %ss)", self.poll_seconds)
        try:
            await self.tick()
            await asyncio.Event().wait()
        finally:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
            # let a pass that is under way finish its transaction before the database is closed
            async with self._lock:
                pass
