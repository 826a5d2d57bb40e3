"""Keeping the bookkeeping tables small: inbound event ids and delivered outbox rows expire.

Event ids only need to outlive the platforms' retry windows (Slack retries within minutes); sent
messages are kept a while for troubleshooting (`last_error`, `platform_ref`), then deleted. Pending
and failed messages are never deleted here: nothing unsent is lost to housekeeping.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import col

from bot.clock import Clock
from storage.db import Database
from storage.models import InboundEvent, OutboxMessage, RateCounter

log = logging.getLogger(__name__)


@dataclass
class Retention:
    db: Database
    clock: Clock
    events: timedelta = timedelta(days=2)
    sent_messages: timedelta = timedelta(days=30)
    #: rate-limit windows are at most an hour long: older counters limit nothing
    rate_windows: timedelta = timedelta(days=1)

    async def prune(self) -> tuple[int, int]:
        now = self.clock.now()
        async with self.db.transaction() as s:
            ev = await s.exec(delete(InboundEvent).where(col(InboundEvent.received_at) < now - self.events))
            await s.exec(delete(RateCounter).where(col(RateCounter.window_start) < now - self.rate_windows))
            out = await s.exec(
                delete(OutboxMessage).where(
                    col(OutboxMessage.status) == "sent", col(OutboxMessage.sent_at) < now - self.sent_messages
                )
            )
        return ev.rowcount, out.rowcount

    async def run(self, every: float = 3600.0) -> None:
        """Prune now and then every `every` seconds; any process may do it (deletes are idempotent)."""
        while True:
            try:
                events, messages = await self.prune()
                if events or messages:
                    log.info("pruned %s inbound event ids and %s delivered messages", events, messages)
            except Exception:
                log.exception("pruning failed; will try again")
            await asyncio.sleep(every)
