"""Tracked background tasks, run in order per key — shared by the Slack and Discord adapters.

Both platforms want an answer within 3 seconds (Slack's ack, Discord's interaction response), so the
adapters answer at once and hand the work to a task. A bare `asyncio.create_task` can be garbage-
collected mid-flight and swallows its exception until the task is collected; keeping the references
and logging failures on completion avoids both. `join()` lets the shutdown path (and the tests) wait
until the work handed off so far is done.

Tasks spawned with the same `key` (one person in one conversation) run one after the other, in the
order they were spawned, so `/wg propose …` followed at once by `/wg amend P1 …` is never applied
the other way round. The order is fixed synchronously in `spawn`, before the listener acknowledges:
a task waits for the one spawned before it with the same key (whatever its outcome). Work for other
keys (other people, other channels) still runs concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Hashable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


async def _after(previous: asyncio.Task[Any] | None, coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` once `previous` has finished (succeeded, failed or been cancelled)."""
    try:
        if previous is not None and not previous.done():
            await asyncio.wait({previous})
    except BaseException:
        coro.close()  # cancelled while queued: the work never started, and must not warn "never awaited"
        raise
    return await coro


class TaskTracker:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        #: the most recently spawned, unfinished task of each key
        self._last: dict[Hashable, asyncio.Task[Any]] = {}

    def spawn(self, coro: Coroutine[Any, Any, T], name: str, *, key: Hashable | None = None) -> asyncio.Task[T]:
        """Run `coro` in a tracked task; with a `key`, only after the previous task of that key."""
        work: Coroutine[Any, Any, T] = coro if key is None else _after(self._last.get(key), coro)
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        if key is not None:
            self._last[key] = task
        task.add_done_callback(lambda done: self._finished(done, key))
        return task

    def _finished(self, task: asyncio.Task[Any], key: Hashable | None) -> None:
        self._tasks.discard(task)
        if key is not None and self._last.get(key) is task:
            del self._last[key]
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("background task %s failed", task.get_name(), exc_info=exc)

    def __len__(self) -> int:
        return len(self._tasks)

    async def join(self) -> None:
        """Wait for every task, including tasks spawned while waiting."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class Gate:
    """At most `size` pieces of work at once (`size` 0: no limit); one that runs longer than `hold`
    seconds stops counting, so a slow one (a model call) holds the others back that long at most.

    The Slack adapter runs its commands through one: fifty commands let into the core at once each
    hold a task, most of them waiting for a pooled connection or for the same vote's row lock, and
    their interleaved steps make every acknowledgement wait on the event loop; queued at the gate
    instead (in arrival order), they cost nothing until their turn. The order of one person's
    commands is kept by `TaskTracker` before the gate; the gate only delays."""

    def __init__(self, size: int, hold: float = 0.5) -> None:
        self.size = size
        self.hold = hold
        self._slots = asyncio.Semaphore(size) if size > 0 else None

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._slots is None:
            return await coro
        try:
            await self._slots.acquire()
        except BaseException:
            coro.close()  # cancelled while waiting: the work never started
            raise
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                assert self._slots is not None
                self._slots.release()

        timer = asyncio.get_running_loop().call_later(self.hold, release)
        try:
            return await coro
        finally:
            timer.cancel()
            release()
