"""After a command, the outbox dispatcher and the scheduler are woken only if the command gave them work
(bot/wakeups.py): a ballot or a `show` wakes neither, an announcement wakes the dispatcher, a meeting's
reminders wake the scheduler. Notes are kept per task, so one command never takes another's."""

from __future__ import annotations

import asyncio

import pytest

from bot import wakeups
from bot.command import UserRef, Where
from bot.outbox import Destination, enqueue
from bot.reply import Reply
from storage.db import Database
from tests.conftest import START, Harness


@pytest.fixture
async def woken(harness: Harness) -> list[str]:
    calls: list[str] = []
    harness.app.dispatcher.wake = lambda: calls.append("outbox")  # type: ignore[method-assign]
    harness.app.waker.wake = lambda: calls.append("jobs")  # type: ignore[method-assign]
    await harness.say("ana", "/wg join civil-society")
    await harness.say("ben", "/wg join government")
    calls.clear()
    return calls


async def command(harness: Harness, name: str, text: str) -> str:
    """Run a command as the adapters do: the core alone (`Harness.say` also runs due work, whose writes
    would be noted on this test's task; in a live process the dispatcher and engine have their own)."""
    wakeups.take()
    response = await harness.app.core.handle_text(text, UserRef("console", name, name), Where("console", "wg", "wg"))
    return response.replies[0].to_text() if response.replies else ""


async def test_a_command_that_queues_nothing_wakes_nothing(harness: Harness, woken: list[str]) -> None:
    await harness.say("ana", '/wg propose "First" one')
    await harness.say("ana", "/wg vote open P1 method:yes-no")
    await harness.say("ana", "/wg vote V1 yes")  # the first ballot plans the vote card's refresh
    woken.clear()
    assert "V1" in await command(harness, "ben", "/wg vote V1 no")
    assert "P1" in await command(harness, "ben", "/wg show P1")
    await command(harness, "ben", "/wg help")
    assert woken == []


async def test_an_announcement_wakes_the_dispatcher(harness: Harness, woken: list[str]) -> None:
    assert "P1 recorded" in await command(harness, "ana", '/wg propose "First" one')
    assert woken == ["outbox"]


async def test_a_meeting_wakes_the_scheduler(harness: Harness, woken: list[str]) -> None:
    assert "scheduled" in await command(harness, "ana", '/wg meeting "Sync" at:2026-01-08T14:00 remind:1h')
    assert "jobs" in woken


async def test_notes_belong_to_the_task_that_wrote(db: Database) -> None:
    async def write(key: str) -> set[str]:
        async with db.transaction() as session:
            where = Destination("console", "channel:wg", "wg")
            await enqueue(session, key=key, destination=where, reply=Reply.text("hi"), now=START)
        return wakeups.take()

    assert await asyncio.ensure_future(write("a")) == {wakeups.OUTBOX}
    assert wakeups.take() == set()  # the other task's note is not this task's
    assert await write("b") == {wakeups.OUTBOX}
    assert wakeups.take() == set()  # taken once


async def test_every_way_of_writing_is_noted(db: Database) -> None:
    """A Core statement on the session's connection, an ORM statement, a flushed object; reads are not."""
    from sqlalchemy import update
    from sqlmodel import col, select

    from storage.models import OutboxMessage, ScheduledJob

    async with db.transaction() as session:
        where = Destination("console", "channel:wg", "wg")
        await enqueue(session, key="core", destination=where, reply=Reply.text("hi"), now=START)
    assert wakeups.take() == {wakeups.OUTBOX}
    async with db.transaction() as session:
        await session.exec(update(ScheduledJob).where(col(ScheduledJob.key) == "none").values(status="pending"))
    assert wakeups.take() == {wakeups.JOBS}
    async with db.transaction() as session:
        row = (await session.exec(select(OutboxMessage))).one()
        assert wakeups.take() == set()
        row.label = "channel:wg2"
    assert wakeups.take() == {wakeups.OUTBOX}
