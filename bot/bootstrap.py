"""Wiring: one place builds storage, clock, randomness, the core and the outbox dispatcher.

Everything is passed in, so a test or the simulation swaps any piece (`build(settings, clock=…)`).
Adapters are not built here — the core never imports them; the CLI adds their senders.
"""

from __future__ import annotations

import os
import random
import socket
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.core import Core
from bot.outbox import Dispatcher, Sender
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
    #: in the order they run at one instant: scheduled work first, then the outbox that sends it
    due_work: list[DueWork] = field(default_factory=list)
    extras: dict[str, object] = field(default_factory=dict)

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
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


async def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    db: Database | None = None,
    rng: random.Random | None = None,
    senders: list[Sender] | None = None,
    worker_id: str | None = None,
    upgrade: bool = True,
) -> App:
    db = db or Database(settings.database_url)
    if upgrade:
        await db.upgrade()
    clock = clock or SystemClock()
    rng = rng or random.Random()
    worker_id = worker_id or default_worker_id()
    dispatcher = Dispatcher(db, clock, senders or [], worker_id=worker_id)
    core = Core(db, clock, rng=rng, on_enqueued=dispatcher.wake)
    app = App(settings=settings, db=db, clock=clock, rng=rng, core=core, dispatcher=dispatcher, worker_id=worker_id)
    app.due_work.append(dispatcher)
    return app
