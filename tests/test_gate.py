"""adapters.tasks.Gate: at most N at once, in arrival order; slow work stops counting after `hold`."""

from __future__ import annotations

import asyncio

from adapters.tasks import Gate


async def test_at_most_size_run_at_once_in_arrival_order() -> None:
    gate = Gate(2, hold=10)
    running = 0
    most = 0
    started: list[int] = []

    async def work(i: int) -> int:
        nonlocal running, most
        started.append(i)
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1
        return i

    assert await asyncio.gather(*(gate.run(work(i)) for i in range(7))) == list(range(7))
    assert most == 2
    assert started == list(range(7))


async def test_work_longer_than_hold_stops_counting() -> None:
    gate = Gate(1, hold=0.05)
    slow_done = asyncio.Event()

    async def slow() -> None:
        await slow_done.wait()

    async def quick() -> str:
        return "quick"

    blocker = asyncio.ensure_future(gate.run(slow()))
    await asyncio.sleep(0)
    # the slow one holds the only slot for 0.05 s at most, not until it ends
    assert await asyncio.wait_for(gate.run(quick()), timeout=30) == "quick"
    assert not blocker.done()
    slow_done.set()
    await blocker
    assert await gate.run(quick()) == "quick"  # its slot was not released twice, nor lost
    assert gate._slots is not None and gate._slots._value == 1


async def test_failure_and_cancellation_release_the_slot() -> None:
    gate = Gate(1, hold=10)

    async def fail() -> None:
        raise ValueError("boom")

    try:
        await gate.run(fail())
    except ValueError:
        pass
    held = asyncio.Event()

    async def hold() -> None:
        held.set()
        await asyncio.Event().wait()

    first = asyncio.ensure_future(gate.run(hold()))
    await held.wait()
    waiting = asyncio.ensure_future(gate.run(hold()))  # queued behind `first`
    await asyncio.sleep(0)
    waiting.cancel()
    first.cancel()
    await asyncio.gather(first, waiting, return_exceptions=True)

    async def quick() -> int:
        return 1

    assert await asyncio.wait_for(gate.run(quick()), timeout=30) == 1


async def test_size_zero_is_no_limit() -> None:
    gate = Gate(0)

    async def quick() -> int:
        return 3

    assert await gate.run(quick()) == 3
