"""The scheduling engine: work that falls due at a time, done exactly once.

Why the database and not APScheduler: two APScheduler instances sharing one job store fire a job
twice, and a process that dies mid-job loses it. Here every due thing is a `ScheduledJob` row:

1. *claim*: a conditional UPDATE moves due rows to `running` with a lease (`SELECT … FOR UPDATE SKIP
   LOCKED` on PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE) — `bot.claims.claim_due`,
   shared with the outbox's `Dispatcher.claim`;
2. *execute*: in ONE transaction, the job's handler records its messages in the outbox (keys derived
   from the job's key) and the job is marked `done` — but only if this worker still holds the claim
   (`WHERE claimed_by = me AND status = 'running'`); otherwise everything rolls back.

So a job's effects are committed at most once, and a job whose worker died is claimed again after its
lease: at least once. Together: exactly once, across restarts and processes. A job whose lease has
lapsed `max_attempts` times (it keeps killing or stalling its worker) is marked `failed` and logged
instead of being claimed again.

Work found due after downtime is still done when it is still useful (`useful_until`, e.g. before the
meeting starts and within the grace period), with a visible late note; otherwise it is marked
`skipped` with the reason and logged. Nothing due is silently lost.

`Engine` implements the `DueWork` protocol: the simulation's virtual clock and the live scheduler
(`bot.scheduler`) drive the same `next_due()` / `run_due()`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.claims import claim_due
from bot.clock import Clock
from bot.outbox import Destination, Queued, enqueue, enqueue_many
from bot.reply import Context, Reply
from storage.db import Database, dialect_insert
from storage.models import ScheduledJob

log = logging.getLogger(__name__)

#: a job done later than this after its due time is "late" and says so
LATE_AFTER = timedelta(minutes=2)


class Skip(Exception):
    """Raised by a job handler when the work no longer makes sense (meeting cancelled, moved…)."""

    def __init__(self, reason: str, *, status: str = "skipped") -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass
class JobContext:
    """What a job handler gets: the transaction its messages commit in, and the job itself."""

    session: AsyncSession
    job: ScheduledJob
    now: datetime
    #: how late the job runs (None when on time)
    late_by: timedelta | None
    grace: timedelta
    enqueued: int = 0
    notes: list[str] = field(default_factory=list)
    #: what the kind's preparer returned (see `job_handler(prepare=…)`), or None
    prepared: Any = None

    @property
    def payload(self) -> dict[str, Any]:
        return self.job.payload

    def _late(self, reply: Reply) -> Reply:
        if self.late_by is None:
            return reply
        reply = reply.model_copy(deep=True)
        reply.blocks.append(Context(text=f"(late: {late_text(self.job.due_at, self.now)})"))
        return reply

    async def send(self, destination: Destination, reply: Reply, *, part: str, wg_id: int | None = None) -> None:
        """Record a message in the outbox, keyed by this job and `part`, with the late note if late."""
        if await enqueue(
            self.session,
            key=f"job:{self.job.key}:{part}",
            destination=destination,
            reply=self._late(reply),
            now=self.now,
            wg_id=wg_id if wg_id is not None else self.job.wg_id,
        ):
            self.enqueued += 1

    async def send_many(self, messages: Sequence[tuple[Destination, Reply, str]], *, wg_id: int | None = None) -> int:
        """`send` for many (destination, reply, part) at once, in that order, in batched INSERTs
        (`enqueue_many`); returns how many were new."""
        wg = wg_id if wg_id is not None else self.job.wg_id
        late: dict[int, Reply] = {}  # replies shared between readers get one late copy, not one each

        def noted(reply: Reply) -> Reply:
            if self.late_by is None:
                return reply
            if id(reply) not in late:
                late[id(reply)] = self._late(reply)
            return late[id(reply)]

        added = await enqueue_many(
            self.session,
            [Queued(f"job:{self.job.key}:{part}", dest, noted(reply), wg) for dest, reply, part in messages],
            now=self.now,
        )
        self.enqueued += added
        return added

    async def schedule(self, **kwargs: Any) -> bool:
        return await schedule(self.session, now=self.now, **kwargs)


JobHandler = Callable[[JobContext], Awaitable[None]]
JOB_HANDLERS: dict[str, JobHandler] = {}
#: slow work (a model call) a kind needs done before its transaction opens: kind → preparer
JOB_PREPARERS: dict[str, Callable[[ScheduledJob, Engine], Awaitable[Any]]] = {}
#: kinds whose work goes stale: done late only within the grace period, else skipped
GRACE_KINDS: set[str] = set()


def job_handler(
    kind: str, *, grace: bool = True, prepare: Callable[[ScheduledJob, Engine], Awaitable[Any]] | None = None
) -> Callable[[JobHandler], JobHandler]:
    """Register the function that executes jobs of `kind`.

    `grace=True` (messages to people) means a job found more than the grace period late is skipped:
    a reminder two days late is noise. Planning jobs (`grace=False`) always run, however late.
    `prepare` runs after the claim and before the transaction, with no transaction open (a model call
    must not hold database locks); its result reaches the handler as `ctx.prepared`. It may read, not
    write; a preparer that fails leaves `prepared` None and the handler does without."""

    def register(fn: JobHandler) -> JobHandler:
        JOB_HANDLERS[kind] = fn
        if prepare is not None:
            JOB_PREPARERS[kind] = prepare
        if grace:
            GRACE_KINDS.add(kind)
        else:
            GRACE_KINDS.discard(kind)
        return fn

    return register


def late_text(due: datetime, now: datetime) -> str:
    minutes = int((now - due).total_seconds() // 60)
    if minutes < 120:
        span = f"{minutes} min"
    elif minutes < 48 * 60:
        span = f"{minutes // 60} h {minutes % 60:02d} min"
    else:
        span = f"{minutes // 1440} days"
    return f"due {due:%Y-%m-%d %H:%M} UTC, sent {span} late after the bot was offline"


async def schedule(
    session: AsyncSession,
    *,
    kind: str,
    key: str,
    due_at: datetime,
    now: datetime,
    payload: dict[str, Any] | None = None,
    wg_id: int | None = None,
    ref: str | None = None,
    useful_until: datetime | None = None,
) -> bool:
    """Record a job in the caller's transaction. Returns False when a job with this key exists already."""
    if kind not in JOB_HANDLERS:
        raise KeyError(f"no handler for job kind {kind}")
    values = {
        "key": key[:255],
        "kind": kind,
        "wg_id": wg_id,
        "ref": ref,
        "payload": payload or {},
        "due_at": due_at,
        "useful_until": useful_until,
        "not_before": due_at,
        "status": "pending",
        "attempts": 0,
        "late": False,
        "created_at": now,
    }
    stmt = dialect_insert(session, ScheduledJob).values(**values).on_conflict_do_nothing(index_elements=["key"])
    result = await session.exec(stmt)
    return bool(result.rowcount)


async def cancel_jobs(session: AsyncSession, ref: str, now: datetime, reason: str) -> int:
    """Void the pending jobs about `ref` (a cancelled or moved meeting). Running ones re-check in their handler."""
    result = await session.exec(
        update(ScheduledJob)
        .where(col(ScheduledJob.ref) == ref, col(ScheduledJob.status) == "pending")
        .values(status="cancelled", done_at=now, note=reason[:500])
    )
    return int(result.rowcount)


class _LostClaim(Exception):
    """Our lease ran out and another worker took the job: roll back what we did."""


class Engine:
    """Claims due jobs and executes each in one transaction with its outbox messages."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        worker_id: str,
        grace: timedelta = timedelta(minutes=60),
        lease: timedelta = timedelta(seconds=120),
        batch: int = 50,
        max_attempts: int = 5,
        on_enqueued: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.worker_id = worker_id
        self.grace = grace
        self.lease = lease
        self.batch = batch
        self.max_attempts = max_attempts
        self._on_enqueued = on_enqueued or (lambda: None)
        #: what preparers may use (bootstrap sets the app's `bot.deps.Deps`: the summarizer)
        self.deps: Any = None

    async def claim(self, limit: int | None = None) -> list[ScheduledJob]:
        """Take up to `limit` due jobs for this worker (pending and due, or running with a lapsed lease)."""
        now = self.clock.now()
        j = ScheduledJob
        # a job whose lease lapsed after max_attempts claims keeps killing (or losing) its worker: give up
        exhausted = (
            select(col(j.id), col(j.key), col(j.attempts), col(j.claimed_by))
            .where(col(j.status) == "running", col(j.lease_until) < now, col(j.attempts) >= self.max_attempts)
            .with_for_update(skip_locked=True)
        )
        async with self.db.transaction() as s:
            lost = list((await s.exec(exhausted)).all())
            if lost:
                await s.exec(
                    update(j)
                    .where(col(j.id).in_([row[0] for row in lost]), col(j.status) == "running")
                    .values(
                        status="failed",
                        done_at=now,
                        lease_until=None,
                        note=f"claimed {self.max_attempts} times and each worker lost it (died or timed out)",
                    )
                )
                for job_id, key, attempts, worker in lost:
                    log.error(
                        "job %s (%s) was claimed %s times and its lease lapsed each time (last by %s); giving up",
                        job_id,
                        key,
                        attempts,
                        worker,
                    )
            return await claim_due(
                s,
                j,
                working="running",
                worker_id=self.worker_id,
                now=now,
                lease=self.lease,
                limit=limit or self.batch,
                order_by=(col(j.not_before), col(j.id)),
            )

    async def execute(self, job: ScheduledJob) -> bool:
        """Run one claimed job; True when its outcome (done or skipped) was committed by this worker."""
        prepared = None
        prepare = JOB_PREPARERS.get(job.kind)
        if prepare is not None and self._stale(job, self.clock.now()) is None:
            try:
                prepared = await prepare(job, self)
            except Exception:
                log.exception("preparing job %s (%s) failed; its handler does without", job.id, job.key)
        now = self.clock.now()
        late_by = now - job.due_at if now - job.due_at > LATE_AFTER else None
        status, note = "done", None
        enqueued = 0
        try:
            async with self.db.transaction() as s:
                stale = self._stale(job, now)
                if stale:
                    status, note = "skipped", stale
                else:
                    handler = JOB_HANDLERS.get(job.kind)
                    if handler is None:
                        raise RuntimeError(f"no handler for job kind {job.kind}")
                    ctx = JobContext(session=s, job=job, now=now, late_by=late_by, grace=self.grace, prepared=prepared)
                    try:
                        # a savepoint: a handler that decides to skip leaves nothing behind
                        async with s.begin_nested():
                            await handler(ctx)
                        enqueued = ctx.enqueued
                        note = "; ".join(ctx.notes) or None
                    except Skip as skip:
                        status, note = skip.status, skip.reason
                result = await s.exec(
                    update(ScheduledJob)
                    .where(
                        col(ScheduledJob.id) == job.id,
                        col(ScheduledJob.claimed_by) == self.worker_id,
                        col(ScheduledJob.status) == "running",
                    )
                    .values(
                        status=status,
                        done_at=now,
                        lease_until=None,
                        late=late_by is not None and status == "done",
                        note=note[:500] if note else None,
                    )
                )
                if result.rowcount != 1:
                    raise _LostClaim
        except _LostClaim:
            log.warning("job %s (%s) was taken over by another worker; not done here", job.id, job.key)
            return False
        except Exception as exc:
            log.exception("job %s (%s) failed", job.id, job.key)
            await self._failed(job, f"{type(exc).__name__}: {exc}")
            return False
        if status == "skipped":
            log.warning("job %s (%s) skipped: %s", job.id, job.key, note)
        elif late_by is not None:
            log.info("job %s (%s) done late by %s", job.id, job.key, late_by)
        if enqueued:
            self._on_enqueued()
        return True

    def _stale(self, job: ScheduledJob, now: datetime) -> str | None:
        """Why a late job is no longer worth doing, or None."""
        due = f"due {job.due_at:%Y-%m-%d %H:%M} UTC"
        if job.useful_until is not None and now > job.useful_until:
            return f"no longer useful: {due}, useful until {job.useful_until:%Y-%m-%d %H:%M} UTC"
        if job.kind in GRACE_KINDS and now > job.due_at + self.grace:
            return f"later than the grace period ({self.grace}): {due}"
        return None

    async def _failed(self, job: ScheduledJob, error: str) -> None:
        give_up = job.attempts >= self.max_attempts
        delay = timedelta(seconds=min(30 * 2 ** (job.attempts - 1), 1800))
        async with self.db.transaction() as s:
            await s.exec(
                update(ScheduledJob)
                .where(col(ScheduledJob.id) == job.id, col(ScheduledJob.claimed_by) == self.worker_id)
                .values(
                    status="failed" if give_up else "pending",
                    not_before=self.clock.now() + delay,
                    lease_until=None,
                    note=error[:500],
                )
            )
        if give_up:
            log.error("job %s (%s) failed %s times; giving up: %s", job.id, job.key, job.attempts, error)

    async def run_due(self) -> int:
        """Claim and execute everything due now; returns how many jobs were finished."""
        finished = 0
        while True:
            jobs = await self.claim()
            if not jobs:
                return finished
            progressed = False
            for job in jobs:
                if await self.execute(job):
                    finished += 1
                    progressed = True
            if not progressed:
                return finished

    async def next_due(self) -> datetime | None:
        """The earliest time something may need doing: a pending job, or a lease running out."""
        j = ScheduledJob
        async with self.db.session() as s:
            pending = (await s.exec(select(func.min(j.not_before)).where(col(j.status) == "pending"))).one()
            leased = (await s.exec(select(func.min(j.lease_until)).where(col(j.status) == "running"))).one()
        times = [t for t in (pending, leased) if t is not None]
        return min(times) if times else None
