"""User text never becomes a mention or a broadcast, in any rendering (the plain text included)."""

from __future__ import annotations

import re

from bot.mentions import neutralize
from tests.conftest import Harness

HOSTILE = "@everyone @here <!channel> <!here> <@U123> <@&987> <#C1> @channel"
RAW = re.compile(r"(?<!\u200b)@(everyone|here|channel)\b|<[!@#&]")


def test_neutralize_breaks_every_form_but_keeps_it_readable() -> None:
    out = neutralize(HOSTILE)
    assert not RAW.search(out)
    assert out.replace("\u200b", "") == HOSTILE


async def test_titles_and_bodies_reach_no_platform_as_mentions(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society")
    await harness.say("ana", f'/wg propose "{HOSTILE}" {HOSTILE}')
    await harness.say("ana", f"/wg amend P1 {HOSTILE} again")
    texts = [m.reply.to_text() for m in harness.sent()]
    texts.append((await harness.say("ana", "/wg show P1")).replies[0].to_text())
    texts.append((await harness.say("ana", "/wg proposals")).replies[0].to_text())
    assert len(texts) == 8
    for text in texts:
        assert "everyone" in text
        assert not RAW.search(text), text
