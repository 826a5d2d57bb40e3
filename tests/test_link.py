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


async def test_linking_does_not_undo_a_demotion(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society", platform="slack")  # the convener
    await harness.say("eve", "/wg join academia", platform="slack")
    await harness.say("eve_d", "/wg join academia", platform="discord")
    r = await harness.say("ana", "/wg role eve_d observer", platform="slack")
    assert "observer" in r.replies[0].to_text(), r.replies[0].to_text()
    code = await code_for(harness, "eve", "slack")
    r = await harness.say("eve_d", f"/wg link {code}", platform="discord")
    assert "Your role is now observer (the more restrictive of the two)" in r.replies[0].to_text()
    me = (await harness.say("eve", "/wg me", platform="slack")).replies[0].to_text()
    assert "Role: observer" in me
    assert "Observers can read" in await refused(harness, "eve", '/wg propose "X" y', platform="slack")


async def test_a_convener_linking_a_second_membership_stays_convener(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society", platform="slack")  # the convener
    await harness.say("ana_d", "/wg join civil-society", platform="discord")
    code = await code_for(harness, "ana_d", "discord")
    r = await harness.say("ana", f"/wg link {code}", platform="slack")
    assert "one member" in r.replies[0].to_text() and "now convener (kept from your other" in r.replies[0].to_text()
    me = (await harness.say("ana_d", "/wg me", platform="discord")).replies[0].to_text()
    assert "Role: convener" in me
