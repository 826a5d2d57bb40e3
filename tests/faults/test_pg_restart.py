"""PostgreSQL restarted under a running bot: commands during the outage get a clear "try again",
the bot reconnects by itself (pool pre-ping, the dispatcher's and the scheduler's loops carry on,
engine leadership is re-acquired), and nothing recorded before, during or after is lost or doubled."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter

from sqlmodel import col, select

from adapters.console.simulate import ensure_sim_group
from bot.bootstrap import build
from bot.command import PLATFORMS, UserRef, Where
from bot.config import Settings
from bot.core import DATABASE_AWAY
from bot.reply import Response
from storage.models import OutboxMessage, Proposal
from tests.conftest import Recorder
from tests.faults.pgcluster import PrivateCluster

WHERE = Where("console", "wg", "wg")


async def eventually(check: object, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while True:
        if await check():  # type: ignore[operator]
            return
        assert time.monotonic() < deadline, "not reached in time"
        await asyncio.sleep(0.2)


async def test_a_postgresql_restart_is_ridden_out(pg_cluster: PrivateCluster) -> None:
    recorders = {p: Recorder(p) for p in (*PLATFORMS, "email")}
    settings = Settings(WGBOT_DATABASE_URL=pg_cluster.url, WGBOT_LEADER_RETRY_SECONDS=0.5)
    app = await build(settings, senders=list(recorders.values()), rng=random.Random(0), worker_id="restart-test")
    await ensure_sim_group(app)
    tasks = [asyncio.ensure_future(t) for t in app.background(outbox_poll=0.5)]
    ana = UserRef("console", "ana", "ana")

    async def say(text: str) -> Response:
        return await app.core.handle_text(text, ana, WHERE)

    async def proposals() -> list[str]:
        async with app.db.session() as s:
            return list((await s.exec(select(Proposal.title).order_by(col(Proposal.id)))).all())

    try:
        assert "civil-society" in (await say("/wg join civil-society")).replies[0].to_text()
        assert "P1" in (await say('/wg propose "Before" recorded before the restart')).replies[0].to_text()
        assert app.leadership is not None
        await eventually(lambda: _true(app.leadership is not None and app.leadership.is_leader))

        pg_cluster.stop("fast")  # the server goes away under the running bot
        during = await say('/wg propose "During" sent while the database is down')
        [reply] = during.replies
        assert reply.kind == "error" and reply.to_text().strip().startswith(DATABASE_AWAY[:40])
        assert "try again" in reply.to_text().lower()
        await eventually(lambda: _true(app.leadership is not None and not app.leadership.is_leader))

        pg_cluster.start()

        async def answered() -> bool:
            response = await say('/wg propose "After" once the database is back')
            return "P2" in response.replies[0].to_text()

        await eventually(answered)  # no restart of the bot: its pool reconnects
        assert await proposals() == ["Before", "After"]  # the refused one left nothing behind
        await eventually(lambda: _true(app.leadership is not None and app.leadership.is_leader))

        async def all_sent() -> bool:
            async with app.db.session() as s:
                statuses = (await s.exec(select(OutboxMessage.status))).all()
            return bool(statuses) and set(statuses) == {"sent"}

        await eventually(all_sent)
        announced = Counter(
            (m.destination.platform, title)
            for r in recorders.values()
            for m in r.sent
            for title in ("Before", "After", "During")
            if title in m.reply.to_text()
        )
        # every announcement once per bound channel (console, slack, discord), the refused one never
        assert announced == {(p, t): 1 for p in ("console", "slack", "discord") for t in ("Before", "After")}
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        await app.close()


async def _true(value: bool) -> bool:
    return value
