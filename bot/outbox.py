"""The transactional outbox and its dispatcher.

Messages are inserted in the same transaction as the change they report, keyed by an idempotency key
(inserting the same key twice does nothing), and sent later by the `Dispatcher`:

1. claim: a conditional UPDATE moves due rows to `sending` with a lease (`FOR UPDATE SKIP LOCKED` on
   PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE), so two processes never hold one row.
   One transaction claims, per destination, the head of its queue and the run of due messages behind
   it (up to `run` of them): a channel with 20 queued messages costs one claim, not 20;
2. send each destination's run in order through the platform's `Sender` (destinations in parallel);
3. mark each message `sent` as it goes (only if this worker still holds the claim), renewing the
   lease of the rest of the run, so a long run never outlives its lease.

Per-destination order: a message is claimable only when nothing earlier to the same destination is
undelivered, or as part of the run behind such a head — in one transaction that holds the head's row
lock, so two dispatchers never split one destination's run between them. A message that fails with a
retry (429, 5xx) stops its run: the messages behind it are handed back unsent and wait for it (that
is what keeps the order); other destinations are not held back.

A process that dies between 1 and 3 leaves a lease that expires; the row is then claimed again. A
reply sent as several pages (Slack's 50-block limit) records each page as it is delivered
(`pages_sent`, `platform_ref`), so a restart in the middle resumes at the next page.
Delivery is therefore at-least-once at the transport level; each sender narrows that where the
platform allows (Discord: the key becomes a `nonce` with `enforce_nonce`, so a resend within Discord's
dedupe window is dropped by Discord; console and simulation send in-process and are exactly-once).
Slack offers no idempotency for chat.postMessage: a crash in the few milliseconds between Slack's
answer and the mark can repeat one message, and that is the only duplicate possible.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import JSON, bindparam, exists, func, tuple_, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlalchemy.types import TypeDecorator
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.claims import claim_due
from bot.clock import Clock
from bot.reply import Reply
from storage.db import Database, dialect_insert, insert_for, is_unavailable, per_dialect
from storage.models import OutboxMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Destination:
    platform: str
    #: `channel:<id>`, `thread:<channel id>/<thread id>`, `dm:<user id>` or `email:<address>`
    address: str
    #: the human name of the place: `channel:wg`, `thread:t1`, `dm:alice`
    label: str


@dataclass(frozen=True)
class Outgoing:
    """A claimed message as a sender sees it."""

    id: int
    key: str
    destination: Destination
    kind: str
    reply: Reply
    attempts: int
    created_at: datetime
    #: set for an edit: the platform's id of the message to replace (see `enqueue(edit_of=…)`)
    edit_ref: str | None = None
    #: pages of this message delivered by an earlier attempt (a restart mid-message), and the first
    #: page's platform id
    pages_sent: int = 0
    first_ref: str | None = None
    #: a sender sending several pages calls this after each one (`pages delivered`, `first page's id`);
    #: it commits the progress, so a later attempt starts at the next page. Raises ClaimLost when
    #: another worker has taken the message over (stop sending: it will send the rest).
    record_page: Callable[[int, str | None], Awaitable[None]] | None = None

    async def page_sent(self, pages: int, first_ref: str | None) -> None:
        if self.record_page is not None:
            await self.record_page(pages, first_ref)


#: the shortest the dispatcher sleeps between passes (seconds)
MIN_SLEEP = 0.05


class DeliveryError(Exception):
    """Raised by a Sender. `retry_after` (seconds) for 429/5xx; `permanent` when retrying cannot help."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class ClaimLost(DeliveryError):
    """This worker's claim on a message lapsed and another took it over: stop, the other one sends."""


class Sender(Protocol):
    platform: str

    async def send(self, message: Outgoing) -> str | None:
        """Deliver one message; return the platform's message id if it has one."""
        ...


@dataclass(frozen=True)
class Queued:
    """One message for `enqueue_many`: what `enqueue` takes, minus the session and the time."""

    key: str
    destination: Destination
    reply: Reply
    wg_id: int | None = None
    not_before: datetime | None = None
    edit_of: str | None = None


#: rows per multi-row INSERT in `enqueue_many`: 12 columns each, well inside SQLite's 32,766 and
#: asyncpg's 32,767 bind parameters per statement
ENQUEUE_BATCH = 500


def _row(message: Queued, now: datetime, *, payload: bool = True) -> dict[str, Any]:
    row: dict[str, Any] = {
        "key": message.key[:255],
        "wg_id": message.wg_id,
        "platform": message.destination.platform,
        "address": message.destination.address,
        "label": message.destination.label,
        "kind": message.reply.kind,
        "status": "pending",
        "attempts": 0,
        "not_before": message.not_before or now,
        "created_at": now,
        "edit_of": message.edit_of,
    }
    if payload:
        row["payload"] = message.reply.model_dump(mode="json")
    return row


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    destination: Destination,
    reply: Reply,
    now: datetime,
    wg_id: int | None = None,
    not_before: datetime | None = None,
    edit_of: str | None = None,
) -> bool:
    """Record a message to send. Returns False when a message with this key already exists.

    With `edit_of` (the key of an earlier message to the same destination) the message replaces that
    one in place where the platform can edit (Slack chat.update, Discord message edit); the
    destination's order guarantees the original went out first. Where it cannot, or the original was
    never delivered, the edit is dropped."""
    values = _row(Queued(key, destination, reply, wg_id, not_before, edit_of), now)
    # the values go as parameters of one statement, built and compiled once, on the transaction's
    # connection (through the ORM session an INSERT costs about twice the CPU)
    conn = await session.connection()
    result = await conn.execute(_enqueue_one(session), values)
    return bool(result.rowcount)


@per_dialect
def _enqueue_one(dialect: str) -> Any:
    table: Any = OutboxMessage.__table__  # type: ignore[attr-defined]
    return insert_for(dialect, table).on_conflict_do_nothing(index_elements=["key"])


class _EncodedJSON(TypeDecorator[str]):
    """A JSON column's value given already encoded (json.dumps, as the JSON type itself encodes it):
    `enqueue_many` encodes a reply shared by many readers once, not once per row."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Any) -> None:
        return None


async def enqueue_many(
    session: AsyncSession, messages: Sequence[Queued], *, now: datetime, batch: int = ENQUEUE_BATCH
) -> int:
    """Record many messages, as `enqueue` does one by one, in `batch`-row INSERTs; returns how many
    were new (a key already recorded, or repeated in `messages`, is skipped: nothing goes twice).

    The same guarantees as `enqueue`: the rows are written in the caller's transaction (they commit
    or vanish with it) and in the order given, so ids, and with them each destination's delivery
    order, follow `messages` (a multi-row INSERT … VALUES … ON CONFLICT (key) DO NOTHING numbers its
    rows in VALUES order on SQLite and PostgreSQL). The caller wakes the dispatcher after the commit,
    as after `enqueue` (Core and Engine do)."""
    table: Any = OutboxMessage.__table__  # type: ignore[attr-defined]
    # one statement, compiled once; with RETURNING, SQLAlchemy's "insertmanyvalues" sends a list of
    # parameter sets as multi-row INSERT … VALUES (…), (…) … statements in the list's order (a
    # .values([...]) statement per batch would compile thousands of parameters each time)
    stmt = (
        dialect_insert(session, table)
        .values(payload=bindparam("payload_json", type_=_EncodedJSON()))
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.key)
    )
    seen: set[str] = set()
    added = 0
    step = max(1, batch)
    for i in range(0, len(messages), step):
        encoded: dict[int, str] = {}  # id(reply) → its JSON, for replies shared within the batch
        rows: list[dict[str, Any]] = []
        for m in messages[i : i + step]:
            key = m.key[:255]
            if key in seen:
                continue
            seen.add(key)
            if id(m.reply) not in encoded:
                encoded[id(m.reply)] = json.dumps(m.reply.model_dump(mode="json"))
            row = _row(m, now, payload=False)
            row["payload_json"] = encoded[id(m.reply)]
            rows.append(row)
        if rows:
            result = await session.exec(stmt, params=rows)
            added += len(result.all())  # a key already recorded returns no row
    return added


def _queued_behind() -> Any:
    """True for a row with an earlier undelivered row to the same destination.

    Only the head of each destination's queue is due: a message waiting on a retry holds back the
    ones after it, so every channel and DM receives messages in the order they were recorded.
    """
    o = OutboxMessage
    earlier = aliased(OutboxMessage)
    return exists().where(
        col(earlier.platform) == col(o.platform),
        col(earlier.address) == col(o.address),
        col(earlier.id) < col(o.id),
        col(earlier.status).in_(("pending", "sending")),
    )


#: the most messages to one destination claimed together; at Slack's one message per second per
#: channel a run takes about this many seconds (the lease is renewed after each message anyway)
RUN = 25


class Dispatcher:
    """Sends due outbox rows through the registered senders: destinations in parallel, each in order."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        senders: Sequence[Sender],
        *,
        worker_id: str,
        lease: timedelta = timedelta(seconds=60),
        max_attempts: int = 8,
        batch: int = 100,
        run: int = RUN,
    ) -> None:
        self.db = db
        self.clock = clock
        self.senders = {s.platform: s for s in senders}
        self.worker_id = worker_id
        self.lease = lease
        self.max_attempts = max_attempts
        #: destinations per claim
        self.batch = batch
        #: messages per destination per claim
        self.run = max(1, run)
        self._wake = asyncio.Event()

    def add_sender(self, sender: Sender) -> None:
        self.senders[sender.platform] = sender

    def wake(self) -> None:
        """Something was enqueued: send it now rather than at the next poll."""
        self._wake.set()

    async def claim(self) -> list[OutboxMessage]:
        """Claim, in one transaction, the head of up to `batch` destinations' queues and the run of due
        messages behind each head (up to `run` per destination); returned in id order."""
        if not self.senders:
            return []
        now = self.clock.now()
        o = OutboxMessage
        async with self.db.transaction() as s:
            heads = await claim_due(
                s,
                o,
                working="sending",
                worker_id=self.worker_id,
                now=now,
                lease=self.lease,
                limit=self.batch,
                order_by=(col(o.id),),
                where=(col(o.platform).in_(list(self.senders)), ~_queued_behind()),
            )
            if not heads or self.run == 1:
                return heads
            # the rest of each run; the heads' row locks (held until commit) keep other dispatchers
            # off these destinations, so the plain FOR UPDATE below waits on nobody but a stale
            # worker's single-row mark
            head_ids = {(h.platform, h.address): h.id for h in heads}
            behind = (
                sa_select(o.id, o.platform, o.address, o.status, o.not_before, o.lease_until)  # type: ignore[call-overload]
                .where(
                    tuple_(col(o.platform), col(o.address)).in_(list(head_ids)),
                    col(o.id).not_in([h.id for h in heads]),
                    col(o.status).in_(("pending", "sending")),
                )
                .order_by(col(o.id))
                .limit(len(heads) * self.run)
                .with_for_update()
            )
            runs: dict[tuple[str, str], list[int]] = {}
            closed: set[tuple[str, str]] = set()
            for row_id, platform, address, status, not_before, lease_until in (await s.exec(behind)).all():
                dest = (platform, address)
                if dest in closed or row_id < (head_ids[dest] or 0):
                    continue
                due = (status == "pending" and not_before <= now) or (
                    status == "sending" and lease_until is not None and lease_until < now
                )
                run = runs.setdefault(dest, [])
                if not due or len(run) >= self.run - 1:
                    # the run ends at the first message not due (a retry waiting) or at the cap
                    closed.add(dest)
                    continue
                run.append(row_id)
            more = [i for run in runs.values() for i in run]
            if not more:
                return heads
            await s.exec(
                update(o)
                .where(col(o.id).in_(more))
                .values(
                    status="sending",
                    claimed_by=self.worker_id,
                    lease_until=now + self.lease,
                    attempts=col(o.attempts) + 1,
                )
            )
            followers = (await s.exec(select(o).where(col(o.id).in_(more)))).all()
            return sorted([*heads, *followers], key=lambda r: r.id or 0)

    async def run_once(self) -> int:
        """Claim and send everything due now; returns how many messages were delivered.

        Destinations are sent in parallel, and whenever one's run finishes the dispatcher claims
        again, so a slow destination (a paced channel, a 30-second run) does not hold back the others
        or what was recorded meanwhile."""
        delivered = 0
        tasks: set[asyncio.Future[int]] = set()
        claim = True
        try:
            while True:
                if claim:
                    runs: dict[tuple[str, str], list[OutboxMessage]] = {}
                    for row in await self.claim():
                        runs.setdefault((row.platform, row.address), []).append(row)
                    tasks.update(asyncio.ensure_future(self._send_run(run)) for run in runs.values())
                if not tasks:
                    return delivered
                done, tasks = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                progressed = 0
                for task in done:
                    try:
                        progressed += task.result()
                    except Exception:
                        log.exception("an outbox run failed")
                delivered += progressed
                # claim again only after progress: a destination whose message keeps failing at once
                # must not spin this loop
                claim = progressed > 0
        finally:
            # cancelled (the process stops) or failed: the runs still in flight are cancelled AND
            # awaited, so none is left holding a database connection after the dispatcher returns
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _send_run(self, run: list[OutboxMessage]) -> int:
        """Send one destination's run in order; a retry stops it and hands the rest back unsent."""
        sent = 0
        for index, row in enumerate(run):
            outcome = await self._send_one(row, run[index + 1 :])
            if outcome == "sent":
                sent += 1
            elif outcome == "retry":
                await self._release(run[index + 1 :])
                break
        return sent

    async def _release(self, rows: Sequence[OutboxMessage]) -> None:
        """Hand back claimed messages that were not attempted: pending again, the attempt uncounted."""
        if not rows:
            return
        o = OutboxMessage
        async with self.db.transaction() as s:
            await s.exec(
                update(o)
                .where(
                    col(o.id).in_([r.id for r in rows]),
                    col(o.claimed_by) == self.worker_id,
                    col(o.status) == "sending",
                )
                .values(status="pending", lease_until=None, attempts=col(o.attempts) - 1)
            )

    async def _send_one(self, row: OutboxMessage, rest: Sequence[OutboxMessage] = ()) -> str:
        """Deliver one claimed row: "sent", "retry" (it waits; so must the rest of its run) or "failed"."""
        assert row.id is not None
        sender = self.senders[row.platform]

        async def record_page(pages: int, first_ref: str | None) -> None:
            await self._record_page(row, pages, first_ref)

        msg = Outgoing(
            id=row.id,
            key=row.key,
            destination=Destination(row.platform, row.address, row.label),
            kind=row.kind,
            reply=Reply.model_validate(row.payload),
            attempts=row.attempts,
            created_at=row.created_at,
            pages_sent=row.pages_sent,
            first_ref=row.platform_ref if row.pages_sent else None,
            record_page=record_page,
        )
        edit = getattr(sender, "edit", None)
        if row.edit_of is not None:
            msg = replace(msg, edit_ref=await self._original_ref(row.edit_of))
            if msg.edit_ref is None or edit is None:
                # the original never went out (or this platform cannot edit): nothing to replace
                await self._mark_sent(row, None, rest)
                return "sent"
        try:
            ref = await edit(msg) if msg.edit_ref is not None and edit is not None else await sender.send(msg)
        except ClaimLost:
            log.warning("outbox message %s to %s was taken over by another worker", row.id, row.label)
            return "retry"
        except DeliveryError as exc:
            gave_up = await self._failed(row, str(exc), exc.retry_after, exc.permanent)
            return "failed" if gave_up else "retry"
        except Exception as exc:  # a bug or an unexpected transport error: retry with backoff
            log.exception("sending outbox message %s to %s failed", row.id, row.label)
            gave_up = await self._failed(row, f"{type(exc).__name__}", None, False)
            return "failed" if gave_up else "retry"
        await self._mark_sent(row, ref, rest)
        return "sent"

    async def _record_page(self, row: OutboxMessage, pages: int, first_ref: str | None) -> None:
        o = OutboxMessage
        async with self.db.transaction() as s:
            result = await s.exec(
                update(o)
                .where(col(o.id) == row.id, col(o.claimed_by) == self.worker_id, col(o.status) == "sending")
                .values(pages_sent=pages, platform_ref=first_ref, lease_until=self.clock.now() + self.lease)
            )
        if result.rowcount != 1:
            raise ClaimLost(f"outbox message {row.id}: claim lost after page {pages}")

    async def _original_ref(self, key: str) -> str | None:
        o = OutboxMessage
        async with self.db.session() as s:
            found = (await s.exec(select(o.status, o.platform_ref).where(col(o.key) == key))).first()
        return found[1] if found is not None and found[0] == "sent" else None

    async def _mark_sent(self, row: OutboxMessage, ref: str | None, rest: Sequence[OutboxMessage] = ()) -> None:
        o = OutboxMessage
        now = self.clock.now()
        async with self.db.transaction() as s:
            await s.exec(
                update(o)
                .where(col(o.id) == row.id, col(o.claimed_by) == self.worker_id)
                .values(status="sent", sent_at=now, platform_ref=ref, lease_until=None)
            )
            if rest:
                # the rest of the run is still ours: a fresh lease for it
                await s.exec(
                    update(o)
                    .where(
                        col(o.id).in_([r.id for r in rest]),
                        col(o.claimed_by) == self.worker_id,
                        col(o.status) == "sending",
                    )
                    .values(lease_until=now + self.lease)
                )

    async def _failed(self, row: OutboxMessage, error: str, retry_after: float | None, permanent: bool) -> bool:
        """Record a failed attempt: retry later, or give up. Returns True when given up."""
        # a sender may ride out longer outages than the default (e-mail: a day of backoff)
        limit = getattr(self.senders.get(row.platform), "max_attempts", None) or self.max_attempts
        give_up = permanent or row.attempts >= limit
        delay = retry_after if retry_after is not None else min(2 ** (row.attempts - 1) * 5, 900)
        log.warning(
            "outbox message %s to %s failed (attempt %s): %s%s",
            row.id,
            row.label,
            row.attempts,
            error,
            "; giving up" if give_up else f"; retrying in {delay:.0f}s",
        )
        async with self.db.transaction() as s:
            await s.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == row.id, col(OutboxMessage.claimed_by) == self.worker_id)
                .values(
                    status="failed" if give_up else "pending",
                    not_before=self.clock.now() + timedelta(seconds=delay),
                    lease_until=None,
                    last_error=error[:500],
                )
            )
        return give_up

    async def run_due(self) -> int:
        return await self.run_once()

    async def next_due(self) -> datetime | None:
        """When the earliest row falls due: a pending one, or a claim whose lease runs out."""
        o = OutboxMessage
        platforms = list(self.senders)
        async with self.db.session() as s:
            pending = await s.exec(
                select(func.min(o.not_before)).where(
                    col(o.status) == "pending", col(o.platform).in_(platforms), ~_queued_behind()
                )
            )
            leased = await s.exec(
                select(func.min(o.lease_until)).where(col(o.status) == "sending", col(o.platform).in_(platforms))
            )
            times = [t for t in (pending.one_or_none(), leased.one_or_none()) if t is not None]
        return min(times) if times else None

    async def run_forever(self, poll: float = 5.0) -> None:
        """Send as messages arrive (wake()) or fall due: it sleeps until the next row falls due (a
        429's Retry-After, a retry's backoff), at most `poll` seconds, which also picks up rows other
        processes recorded."""
        while True:
            try:
                await self.run_once()
            except Exception as exc:
                if is_unavailable(exc) or isinstance(exc, OSError):
                    # one line per pass while the database is away: the next pass reconnects
                    log.warning("outbox: the database is unreachable (%s); retrying", type(exc).__name__)
                else:
                    log.exception("outbox dispatcher pass failed")
            self._wake.clear()
            timeout = poll
            try:
                due = await self.next_due()
            except Exception:
                due = None
            if due is not None:
                # a floor, so that a row due now that another process holds cannot spin this loop
                timeout = min(poll, max(MIN_SLEEP, (due - self.clock.now()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
