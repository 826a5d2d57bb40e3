"""Which background loops a command gave work to: the outbox dispatcher, the scheduling engine, or neither.

The core calls its `on_enqueued` hook after every command it ran (after the commit, in the task that
ran it). Waking the dispatcher and the engine's waker after every command cost, per command, a
dispatcher pass (a claim transaction and two reads) and an engine pass (a claim transaction, a read
and an APScheduler job), although most commands (a ballot, `show`, `results`) queue nothing: on
PostgreSQL that doubled the process's CPU time per command when commands came one at a time.

Now a SQLAlchemy event (`before_execute`, on every connection) notes, on the asyncio task running
the statement, every write (INSERT, UPDATE or DELETE: an ORM statement, a flushed object, a Core
statement on the session's connection) to the `outbox` or `scheduled_jobs` table,
and the hook, called in that same task after the commit, takes the task's notes (`take()`) and wakes
only the loops whose tables were written. A note is taken by the task that wrote it, so another
command committing in between cannot take it and leave this one's messages waiting for the next
poll. A note left by a transaction that rolled back costs one needless wake, nothing more; the
dispatcher's and the engine's own writes are noted on their tasks, which never take them (so they
cannot wake themselves in a loop). The polls (`Dispatcher.run_forever`, `Waker`) still pick up
anything written where no hook runs (another process, a script).
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from storage.models import OutboxMessage, ScheduledJob

OUTBOX = "outbox"
JOBS = "jobs"
#: table name → what a write to it means
WATCHED: dict[str, str] = {
    OutboxMessage.__tablename__: OUTBOX,
    ScheduledJob.__tablename__: JOBS,
}

_notes: weakref.WeakKeyDictionary[asyncio.Task[Any], set[str]] = weakref.WeakKeyDictionary()


def _note(what: str) -> None:
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no running loop: synchronous use (migrations, scripts); no hook follows
        return
    if task is not None:
        _notes.setdefault(task, set()).add(what)


def take() -> set[str]:
    """What the current task wrote to the watched tables since it last asked (and forget it)."""
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return set()
    if task is None:
        return set()
    return _notes.pop(task, set())


@event.listens_for(Engine, "before_execute")
def _on_execute(conn: Any, clauseelement: Any, multiparams: Any, params: Any, execution_options: Any) -> None:
    # every statement on a connection: through the ORM session, flushed objects, or Core statements
    # run on the session's connection (`await session.connection()`) — the enqueue does that
    if not getattr(clauseelement, "is_dml", False):
        return
    what = WATCHED.get(str(getattr(getattr(clauseelement, "table", None), "name", "")))
    if what is not None:
        _note(what)
