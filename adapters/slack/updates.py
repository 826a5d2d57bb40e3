"""Updating one message at a bounded rate: many ballots on one vote card mean one chat.update per
message per interval, always ending with the latest content.

Slack rate-limits chat.update (Tier 3, about 50 a minute, and less for one message), and a popular
vote's card may be clicked many times a second. The first update of a message goes out at once;
one that comes within `interval` of the previous is held, and a later one replaces what is held
(only the latest card matters), so nothing is sent that is already out of date.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from typing import Any

Send = Callable[[], Awaitable[None]]


class UpdateThrottle:
    def __init__(
        self,
        spawn: Callable[[Coroutine[Any, Any, None]], object],
        *,
        interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.spawn = spawn
        self.interval = interval
        self.monotonic = monotonic
        self.sleep = sleep
        self._last: dict[Hashable, float] = {}
        self._held: dict[Hashable, Send] = {}

    async def submit(self, key: Hashable, send: Send) -> None:
        """Send now, or hold `send` (replacing what was held) until the interval has passed."""
        if key in self._held:
            self._held[key] = send
            return
        wait = self._last.get(key, float("-inf")) + self.interval - self.monotonic()
        if wait <= 0:
            self._last[key] = self.monotonic()
            await send()
            return
        self._held[key] = send
        self.spawn(self._later(key, wait))

    async def _later(self, key: Hashable, wait: float) -> None:
        await self.sleep(wait)
        send = self._held.pop(key)
        self._last[key] = self.monotonic()
        await send()
