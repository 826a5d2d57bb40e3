"""The transactional outbox and its dispatcher.

Messages are inserted in the same transaction as the change they report, keyed by an idempotency key
(inserting the same key twice does nothing), and sent later by the `Dispatcher`:

1. claim: a conditional UPDATE moves due rows to `sending` with a lease (`FOR UPDATE SKIP LOCKED` on
   PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE), so two processes never hold one row;
2. send through the platform's `Sender`;
3. mark `sent` (only if this worker still holds the claim).

A process that dies between 1 and 3 leaves a lease that expires; the row is then claimed again.
Delivery is therefore at-least-once at the transport level; each sender narrows that where the
platform allows (Discord: the key becomes a `nonce` with `enforce_nonce`, so a resend within Discord's
dedupe window is dropped by Discord; console and simulation send in-process and are exactly-once).
Slack offers no idempotency for chat.postMessage: a crash in the few milliseconds between Slack's
answer and the mark can repeat one message, and that is the only duplicate possible.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import exists, func, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.claims import claim_due
from bot.clock import Clock
from bot.reply import Reply
from storage.db import Database, dialect_insert
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


#: the shortest the dispatcher sleeps between passes (seconds)
MIN_SLEEP = 0.05


class DeliveryError(Exception):
    """Raised by a Sender. `retry_after` (seconds) for 429/5xx; `permanent` when retrying cannot help."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class Sender(Protocol):
    platform: str

    async def send(self, message: Outgoing) -> str | None:
        """Deliver one message; return the platform's message id if it has one."""
        ...


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
    values = {
        "key": key[:255],
        "wg_id": wg_id,
        "platform": destination.platform,
        "address": destination.address,
        "label": destination.label,
        "kind": reply.kind,
        "payload": reply.model_dump(mode="json"),
        "status": "pending",
        "attempts": 0,
        "not_before": not_before or now,
        "created_at": now,
        "edit_of": edit_of,
    }
    stmt = dialect_insert(session, OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["key"])
    result = await session.exec(stmt)
    return bool(result.rowcount)


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
    ) -> None:
        self.db = db
        self.clock = clock
        self.senders = {s.platform: s for s in senders}
        self.worker_id = worker_id
        self.lease = lease
        self.max_attempts = max_attempts
        self.batch = batch
        self._wake = asyncio.Event()

    def add_sender(self, sender: Sender) -> None:
        self.senders[sender.platform] = sender

    def wake(self) -> None:
        """Something was enqueued: send it now rather than at the next poll."""
        self._wake.set()

    async def claim(self) -> list[OutboxMessage]:
        if not self.senders:
            return []
        now = self.clock.now()
        o = OutboxMessage
        async with self.db.transaction() as s:
            return await claim_due(
                s,
                o,
                working="sending",
                worker_id=self.worker_id,
                now=now,
                lease=self.lease,
                limit=self.batch,
                order_by=(col(o.id),),
                # only the head of each destination's queue: per-destination order
                where=(col(o.platform).in_(list(self.senders)), ~_queued_behind()),
            )

    async def run_once(self) -> int:
        """Claim and send everything due now; returns how many messages were delivered."""
        delivered = 0
        while True:
            rows = await self.claim()
            if not rows:
                return delivered
            results = await asyncio.gather(*(self._send_one(row) for row in rows))
            delivered += sum(results)
            if not any(results):
                return delivered

    async def _send_one(self, row: OutboxMessage) -> bool:
        assert row.id is not None
        sender = self.senders[row.platform]
        msg = Outgoing(
            id=row.id,
            key=row.key,
            destination=Destination(row.platform, row.address, row.label),
            kind=row.kind,
            reply=Reply.model_validate(row.payload),
            attempts=row.attempts,
            created_at=row.created_at,
        )
        edit = getattr(sender, "edit", None)
        if row.edit_of is not None:
            msg = replace(msg, edit_ref=await self._original_ref(row.edit_of))
            if msg.edit_ref is None or edit is None:
                # the original never went out (or this platform cannot edit): nothing to replace
                await self._mark_sent(row, None)
                return True
        try:
            ref = await edit(msg) if msg.edit_ref is not None and edit is not None else await sender.send(msg)
        except DeliveryError as exc:
            await self._failed(row, str(exc), exc.retry_after, exc.permanent)
            return False
        except Exception as exc:  # a bug or an unexpected transport error: retry with backoff
            log.exception("sending outbox message %s to %s failed", row.id, row.label)
            await self._failed(row, f"{type(exc).__name__}", None, False)
            return False
        await self._mark_sent(row, ref)
        return True

    async def _original_ref(self, key: str) -> str | None:
        o = OutboxMessage
        async with self.db.session() as s:
            found = (await s.exec(select(o.status, o.platform_ref).where(col(o.key) == key))).first()
        return found[1] if found is not None and found[0] == "sent" else None

    async def _mark_sent(self, row: OutboxMessage, ref: str | None) -> None:
        async with self.db.transaction() as s:
            await s.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == row.id, col(OutboxMessage.claimed_by) == self.worker_id)
                .values(status="sent", sent_at=self.clock.now(), platform_ref=ref, lease_until=None)
            )

    async def _failed(self, row: OutboxMessage, error: str, retry_after: float | None, permanent: bool) -> None:
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
            except Exception:
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
