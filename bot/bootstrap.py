"""Wiring: one place builds storage, clock, randomness, the core and the outbox dispatcher.

Everything is passed in, so a test or the simulation swaps any piece (`build(settings, clock=…)`).
Adapters are not built here — the core never imports them; the CLI adds their senders.
"""

from __future__ import annotations

import os
import random
import socket
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot import purge, wakeups  # purge registers the daily retention job's handler
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.core import Core
from bot.deps import Deps
from bot.engine import Engine
from bot.leader import Leadership
from bot.llm import LLM
from bot.outbox import Dispatcher, Sender
from bot.retention import Retention
from bot.scheduler import Waker
from bot.summarizer import Summarizer, SummaryConfig
from bot.threads import ThreadSource
from storage.db import Database


class DueWork(Protocol):
    """Anything that has work falling due at a time: the scheduling engine, the outbox retries.

    The live scheduler and the simulation's virtual clock drive the same objects through this.
    """

    async def next_due(self) -> datetime | None: ...

    async def run_due(self) -> int: ...


@dataclass
class App:
    settings: Settings
    db: Database
    clock: Clock
    rng: random.Random
    core: Core
    dispatcher: Dispatcher
    worker_id: str
    #: the scheduling engine (reminders, check-ins; later vote closings and digests)
    engine: Engine
    #: wakes the live process when scheduled work falls due (unused by the simulation)
    waker: Waker
    #: competes for engine leadership among processes sharing the database (`bot.leader`); the
    #: waker runs the engine only while this process leads
    leadership: Leadership | None = None
    #: in the order they run at one instant: scheduled work first, then the outbox that sends it
    due_work: list[DueWork] = field(default_factory=list)
    extras: dict[str, object] = field(default_factory=dict)

    def background(self, *, outbox_poll: float = 5.0) -> list[Coroutine[Any, Any, None]]:
        """The long-running loops of a live process: the scheduler's alarm, the outbox dispatcher and
        the pruning of bookkeeping tables.

        `wgbot run` and `wgbot console` start these; the simulation drives `run_due()` itself."""
        leading = [self.leadership.run()] if self.leadership is not None else []
        return [
            *leading,
            self.waker.run(),
            self.dispatcher.run_forever(poll=outbox_poll),
            Retention(self.db, self.clock).run(),
        ]

    async def run_due(self) -> int:
        done = 0
        for work in self.due_work:
            done += await work.run_due()
        return done

    async def next_due(self) -> datetime | None:
        times = [t for w in self.due_work if (t := await w.next_due()) is not None]
        return min(times) if times else None

    async def close(self) -> None:
        await self.db.dispose()


def default_worker_id() -> str:
    """Unique per process: host and pid say where it runs; the random suffix keeps two containers
    that share a host name and run as pid 1 from passing each other's claim checks."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    db: Database | None = None,
    rng: random.Random | None = None,
    senders: list[Sender] | None = None,
    worker_id: str | None = None,
    upgrade: bool = True,
    llm: LLM | None = None,
) -> App:
    """`llm`: the model port (adapters/llm builds the OpenAI-compatible one from the settings); without
    it summaries come from the offline summarizer."""
    db = db or Database(settings.database_url)
    if upgrade:
        await db.upgrade()
    clock = clock or SystemClock()
    rng = rng or random.Random()
    worker_id = worker_id or default_worker_id()
    dispatcher = Dispatcher(
        db, clock, senders or [], worker_id=worker_id, lease=timedelta(seconds=settings.outbox_lease_seconds)
    )
    engine = Engine(
        db,
        clock,
        worker_id=worker_id,
        grace=timedelta(minutes=settings.grace_minutes),
        lease=timedelta(seconds=settings.job_lease_seconds),
        on_enqueued=dispatcher.wake,
    )
    # one engine leader among the processes on this database; the others stand by
    leadership = Leadership(db, worker_id=worker_id, retry=settings.leader_retry_seconds)
    # only the engine's work: the dispatcher runs its own loop in a live process (in every process)
    waker = Waker(
        [engine],
        poll_seconds=settings.scheduler_poll_seconds,
        after_run=dispatcher.wake,
        wall=SystemClock(),
        gate=lambda: leadership.is_leader,
    )
    leadership.on_change = lambda leader: waker.wake() if leader else None

    def on_enqueued() -> None:
        # only the loops this command gave work to (bot/wakeups.py): a ballot queues nothing
        touched = wakeups.take()
        if wakeups.OUTBOX in touched:
            dispatcher.wake()
        if wakeups.JOBS in touched:
            waker.wake()  # a command may have scheduled something due soon

    thread_sources: dict[str, ThreadSource] = {}
    summarizer = Summarizer(
        llm,
        SummaryConfig(
            context_tokens=settings.llm_context_tokens,
            max_output_tokens=settings.llm_max_output_tokens,
            concurrency=settings.llm_concurrency,
        ),
    )
    deps = Deps(
        db=db,
        clock=clock,
        summarizer=summarizer,
        llm=llm,
        thread_sources=thread_sources,
        monthly_token_cap=settings.llm_monthly_token_cap,
        max_thread_messages=settings.summary_max_messages,
    )
    engine.deps = deps  # what job preparers use (a pause round's synthesis by the LLM)
    core = Core(
        db,
        clock,
        rng=rng,
        on_enqueued=on_enqueued,
        public_url=settings.public_url,
        limits=settings.limits,
        deps=deps,
    )
    app = App(
        settings=settings,
        db=db,
        clock=clock,
        rng=rng,
        core=core,
        dispatcher=dispatcher,
        worker_id=worker_id,
        engine=engine,
        waker=waker,
        leadership=leadership,
    )
    app.extras["thread_sources"] = thread_sources
    app.due_work += [engine, dispatcher]
    if upgrade:
        # a group without a pending digest (created before digests, or its job failed) gets one
        from bot.services.digests import ensure_planned

        await ensure_planned(db, clock.now())
        await purge.ensure_planned(db, clock.now(), settings.retention_days)
    return app
