"""The live outbox dispatcher sleeps until the next row falls due, not a fixed poll: a message whose
platform said "retry after 1 second" goes out about then, even with a poll of an hour."""

from __future__ import annotations

import asyncio
import contextlib

from bot.bootstrap import build
from bot.clock import SystemClock
from bot.config import Settings
from bot.outbox import DeliveryError, Destination, Outgoing, enqueue
from bot.reply import Reply
from storage.db import Database


class RateLimitedOnce:
    platform = "console"

    def __init__(self) -> None:
        self.attempts = 0
        self.delivered = asyncio.Event()

    async def send(self, message: Outgoing) -> str | None:
        self.attempts += 1
        if self.attempts == 1:
            raise DeliveryError("429 rate limited", retry_after=1)
        self.delivered.set()
        return None


async def test_a_retry_after_is_honoured_without_waiting_for_the_poll(db: Database) -> None:
    sender = RateLimitedOnce()
    clock = SystemClock()
    app = await build(Settings(WGBOT_DATABASE_URL=str(db.url)), db=db, clock=clock, senders=[sender], upgrade=False)
    async with db.transaction() as s:
        await enqueue(
            s,
            key="hello",
            destination=Destination("console", "channel:wg", "channel:wg"),
            reply=Reply.text("hello"),
            now=clock.now(),
        )
    loop = asyncio.ensure_future(app.dispatcher.run_forever(poll=3600))
    try:
        await asyncio.wait_for(sender.delivered.wait(), 60)  # the poll alone would wait an hour
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    assert sender.attempts == 2
