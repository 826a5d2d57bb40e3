"""Concurrent commands: the first-member rule and inbound event dedupe hold under races
(these matter on PostgreSQL, where transactions really run side by side)."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import func, select

from bot.command import UserRef, Where
from bot.services import context
from storage.models import InboundEvent, Member, Proposal
from tests.conftest import Harness

WHERE = Where("slack", "wg", "wg")


async def test_concurrent_first_joins_make_exactly_one_convener(harness: Harness) -> None:
    users = [UserRef("slack", f"U{i}", f"user{i}") for i in range(6)]
    await asyncio.gather(*(harness.app.core.handle_text("/wg join academia", u, WHERE) for u in users))
    async with harness.app.db.session() as s:
        roles = sorted((await s.exec(select(Member.role))).all())
    assert roles == ["convener"] + ["member"] * 5


async def count(harness: Harness, model: type, **where: str) -> int:
    async with harness.app.db.session() as s:
        q = select(func.count()).select_from(model)
        for key, value in where.items():
            q = q.where(getattr(model, key) == value)
        return int((await s.exec(q)).one())


async def test_a_redelivered_event_runs_once_sequentially_and_concurrently(harness: Harness) -> None:
    ana = UserRef("slack", "U1", "ana")
    core = harness.app.core
    await core.handle_text("/wg join civil-society", ana, WHERE)
    first = await core.handle_text('/wg propose "Once" only once', ana, WHERE, event_id="Ev1")
    assert "P1 recorded" in first.replies[0].to_text()
    again = await core.handle_text('/wg propose "Once" only once', ana, WHERE, event_id="Ev1")
    assert again.replies == []
    results = await asyncio.gather(
        *(core.handle_text('/wg propose "Twice?" no', ana, WHERE, event_id="Ev2") for _ in range(4))
    )
    assert sum(1 for r in results if r.replies) == 1
    assert all(not r.replies or "recorded" in r.replies[0].to_text() for r in results)
    assert await count(harness, Proposal) == 2
    assert await count(harness, InboundEvent) == 2


async def test_an_event_that_failed_unexpectedly_runs_when_retried(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = UserRef("slack", "U1", "ana")
    core = harness.app.core
    await core.handle_text("/wg join civil-society", ana, WHERE)
    real = context.HANDLERS["propose"]
    calls = 0

    async def crash_once(ctx: context.Ctx):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the database went away")
        return await real(ctx)

    monkeypatch.setitem(context.HANDLERS, "propose", crash_once)
    failed = await core.handle_text('/wg propose "Retry me" body', ana, WHERE, event_id="Ev9")
    assert "went wrong" in failed.replies[0].to_text()
    assert await count(harness, InboundEvent, event_id="Ev9") == 0
    retried = await core.handle_text('/wg propose "Retry me" body', ana, WHERE, event_id="Ev9")
    assert "P1 recorded" in retried.replies[0].to_text()
    assert await count(harness, Proposal) == 1


async def test_a_refused_event_is_answered_once(harness: Harness) -> None:
    ana = UserRef("slack", "U1", "ana")
    core = harness.app.core
    first = await core.handle_text("/wg propose no quotes", ana, WHERE, event_id="Ev3")
    assert first.replies[0].kind == "error"
    assert (await core.handle_text("/wg propose no quotes", ana, WHERE, event_id="Ev3")).replies == []
    bad = await core.handle_text("/wg frobnicate", ana, WHERE, event_id="Ev4")
    assert bad.replies[0].kind == "error"
    assert (await core.handle_text("/wg frobnicate", ana, WHERE, event_id="Ev4")).replies == []


async def test_concurrent_first_binds_create_one_group(empty: Harness) -> None:
    from storage.models import WorkingGroup

    harness = empty
    binds = [
        harness.app.core.handle_text(
            f"/wg bind Group {i}", UserRef("slack", f"U{i}", f"u{i}"), Where("slack", f"C{i}", f"c{i}")
        )
        for i in range(4)
    ]
    results = await asyncio.gather(*binds)
    assert await count(harness, WorkingGroup) == 1
    assert sum("created" in r.replies[0].to_text() for r in results) == 1
