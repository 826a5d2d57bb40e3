"""`/wg link`: one person, one member, across Slack and Discord."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import Harness
from tests.test_members import refused


async def code_for(h: Harness, who: str, platform: str) -> str:
    text = (await h.say(who, "/wg link", platform=platform)).replies[0].to_text()
    return text.split("Your link code is ")[1].split(".")[0]


async def test_link_makes_one_member_with_two_identities(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society tz:Europe/Lisbon", platform="slack")
    code = await code_for(harness, "ana", "slack")
    assert len(code) == 8
    # redeemed in a Discord DM (no bound channel): the code finds the group
    from bot.command import UserRef, Where

    r = await harness.app.core.handle_text(
        f"/wg link {code.lower()}", UserRef("discord", "999", "ana_d"), Where("discord", "dm-1", is_dm=True)
    )
    assert "one member" in r.replies[0].to_text() and "slack, discord" in r.replies[0].to_text()
    me = (await harness.say("999", "/wg me", platform="discord")).replies[0].to_text()
    assert "Role: convener" in me and "ana on slack" in me and "ana_d on discord" in me
    # single use
    assert "unknown, used or expired" in await refused(harness, "other", f"/wg link {code}", platform="discord")


async def test_link_refusals(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society", platform="slack")
    await harness.say("bob", "/wg join academia", platform="discord")
    code = await code_for(harness, "ana", "slack")
    assert "on your other platform" in await refused(harness, "ana2", f"/wg link {code}", platform="slack")
    assert "unknown, used or expired" in await refused(harness, "x", "/wg link NOPE1234", platform="discord")
    harness.clock.advance(timedelta(minutes=16))
    assert "unknown, used or expired" in await refused(harness, "newbie", f"/wg link {code}", platform="discord")
