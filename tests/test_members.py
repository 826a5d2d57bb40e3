"""Joining, profiles and roles — and that every refusal leaves the database exactly as it was."""

from __future__ import annotations

import pytest

from tests.conftest import Harness, table_snapshot


async def refused(h: Harness, who: str, text: str, *, platform: str = "console") -> str:
    """Run a command that must fail; return its error text after checking nothing changed."""
    before = await table_snapshot(h.app.db)
    sent_before = len(h.sent())
    r = await h.say(who, text, platform=platform)
    assert len(r.replies) == 1
    reply = r.replies[0]
    assert reply.kind == "error" and reply.private
    assert await table_snapshot(h.app.db) == before
    assert len(h.sent()) == sent_before
    return reply.to_text()


async def test_first_member_becomes_convener_then_members(harness: Harness) -> None:
    r = await harness.say("ana", "/wg join civil-society region:weog tz:Europe/Lisbon email:ana@example.org")
    assert "convener" in r.replies[0].to_text()
    r = await harness.say("ben", "/wg join government", platform="slack")
    assert "convener" not in r.replies[0].to_text()
    me = (await harness.say("ben", "/wg me", platform="slack")).replies[0].to_text()
    assert "Role: member" in me and "government" in me


async def test_platform_time_zone_is_the_default(harness: Harness) -> None:
    await harness.say("kim", "/wg join academia", platform="slack", tz="Asia/Seoul")
    me = (await harness.say("kim", "/wg me", platform="slack")).replies[0].to_text()
    assert "Time zone: Asia/Seoul" in me


async def test_joining_again_updates_the_profile(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society")
    r = await harness.say("ana", "/wg join academia region:african tz:africa/nairobi")
    assert "Profile updated" in r.replies[0].to_text()
    me = (await harness.say("ana", "/wg me")).replies[0].to_text()
    assert "academia" in me and "Africa/Nairobi" in me and "Role: convener" in me


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/wg join farmers", "Unknown stakeholder group `farmers`. Valid: civil-society, government"),
        ("/wg join academia region:mars", "Unknown region `mars`. Valid: african, asia-pacific"),
        ("/wg join academia tz:Mars/Olympus", "Unknown time zone `Mars/Olympus`"),
        ("/wg join academia tz:../../etc/passwd", "Unknown time zone"),
        ("/wg join academia email:not-an-address", "is not a valid e-mail address"),
        ("/wg join academia lang:english!", "is not a language code"),
        (f"/wg join academia name:{'n' * 101}", "display name is too long (101 characters"),
        ('/wg join academia name:"\u202e"', "display name cannot be empty"),
    ],
)
async def test_join_validation(harness: Harness, command: str, expected: str) -> None:
    await harness.say("ana", "/wg join civil-society")
    assert expected in await refused(harness, "zoe", command)


async def test_commands_from_someone_who_has_not_joined(harness: Harness) -> None:
    text = await refused(harness, "stranger", '/wg propose "T" body')
    assert "You have not joined" in text and "/wg join" in text


async def test_roles_are_for_conveners_and_one_convener_remains(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society")
    await harness.say("ben", "/wg join government", platform="slack")
    assert "Only a convener can change roles" in await refused(
        harness, "ben", "/wg role ana observer", platform="slack"
    )
    assert "at least one convener" in await refused(harness, "ana", "/wg role ana member")
    assert "No member `nobody`" in await refused(harness, "ana", "/wg role nobody observer")
    assert "Unknown role `king`" in await refused(harness, "ana", "/wg role ben king")
    r = await harness.say("ana", "/wg role @ben convener")
    assert "ben is now a convener" in r.replies[0].to_text()
    announced = [m for m in harness.sent() if "made ben a convener" in m.reply.to_text()]
    assert sorted(m.destination.platform for m in announced) == ["console", "discord", "slack"]
    harness.clear()
    r = await harness.say("ana", "/wg role ana observer")
    assert "ana is now an observer." in r.replies[0].to_text()
    assert any("ana made ana an observer (was convener)." in m.reply.to_text() for m in harness.sent())
    again = await harness.say("ben", "/wg role ana observer", platform="slack")
    assert "ana is already an observer." in again.replies[0].to_text()
    me = (await harness.say("ana", "/wg me")).replies[0].to_text()
    assert "Role: observer" in me
