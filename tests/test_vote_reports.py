"""Votes in the other reports: the digest, a member's data export, the white paper."""

from __future__ import annotations

import json
from datetime import timedelta

from bot import whitepaper
from bot.reply import Attachment
from storage.models import WorkingGroup
from tests.conftest import Harness
from tests.test_votes import group, text  # noqa: F401  (the fixture)


async def test_digest_export_and_white_paper_report_votes(group: Harness) -> None:  # noqa: F811
    await group.say("ana", "/wg vote open P1")
    await group.say("ana", '/wg vote open "Venue?" options:"Geneva, Nairobi" anonymous')
    await group.say("ben", "/wg vote V1 agree", platform="slack")
    await group.say("ben", "/wg vote V2 B", platform="slack")
    await group.say("chen", "/wg vote V1 agree", platform="discord")
    await group.say("ana", "/wg vote close V1")
    group.clock.advance(timedelta(minutes=5))
    digest = text(await group.say("ana", "/wg digest preview"))
    assert "Closed: V1 “Shared taxonomy”: adopted by consent (2 of 3 voted)" in digest
    assert "Opened: V2 “Venue?” (choice)" in digest

    reply = (await group.say("ben", "/wg privacy export", platform="slack")).replies[0]
    [file] = [b for b in reply.blocks if isinstance(b, Attachment)]
    ballots = json.loads(file.content)["ballots"]
    assert [(b["vote"], b["choice"]) for b in ballots] == [
        ("V1", "agree"),
        ("V2", "(anonymous vote: who chose what is never exported)"),
    ]

    async with group.app.db.session() as s:
        from sqlmodel import select

        wg = (await s.exec(select(WorkingGroup))).one()
        paper = await whitepaper.build(s, wg)
    lines = [item for block in paper.blocks for item in block.items]
    assert any("P1" in line and "V1: adopted by consent (2 of 3 voted)" in line for line in lines), lines
