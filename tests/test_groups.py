"""Binding channels, settings and help."""

from __future__ import annotations

from bot.services.context import HANDLERS
from tests.conftest import Harness
from tests.test_members import refused


async def test_first_bind_creates_the_group_and_first_joiner_convenes(empty: Harness) -> None:
    r = await empty.say("ana", "/wg proposals", channel="general")
    assert "not bound to a working group" in r.replies[0].to_text()
    r = await empty.say("ana", "/wg bind AI and cyber", channel="general")
    assert "“AI and cyber” created" in r.replies[0].to_text()
    assert "convener" in (await empty.say("ana", "/wg join civil-society", channel="general")).replies[0].to_text()
    # a second channel, on another platform, by a non-member: refused
    text = await refused(empty, "eve", "/wg bind AI and cyber", platform="discord")
    assert "Only a convener of “AI and cyber”" in text
    # binding again where it is bound already
    r = await empty.say("ana", "/wg bind", channel="general")
    assert "already bound" in r.replies[0].to_text()
    # the convener binds another console channel: announcements now reach both
    await empty.say("ana", "/wg bind", channel="second")
    await empty.say("ana", '/wg propose "T" body', channel="general")
    labels = sorted(m.destination.label for m in empty.sent() if m.kind == "announcement")
    assert labels == ["channel:general", "channel:second"]


async def test_settings_are_for_conveners_and_validated(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society")
    await harness.say("ben", "/wg join government")
    assert "Only a convener can change the settings" in await refused(harness, "ben", "/wg settings tz:Europe/Paris")
    assert "Unknown time zone `Paris`" in await refused(harness, "ana", "/wg settings tz:Paris")
    assert "Unknown weekday `someday`" in await refused(harness, "ana", '/wg settings digest:"someday 09:00"')
    assert "not a time of day" in await refused(harness, "ana", '/wg settings digest:"monday 25:00"')
    # one bad option among good ones: nothing is applied
    assert "Unknown time zone" in await refused(harness, "ana", '/wg settings name:"New" tz:Nowhere')
    r = await harness.say("ana", '/wg settings tz:America/Bogota digest:"fri 16:30" name:"IGF WG"')
    assert "Settings changed" in r.replies[0].to_text()
    shown = (await harness.say("ben", "/wg settings")).replies[0].to_text()
    assert "America/Bogota" in shown and "Friday 16:30" in shown
    await harness.say("ana", "/wg settings digest:off")
    assert "Digest: off" in (await harness.say("ben", "/wg settings")).replies[0].to_text()


async def test_help_lists_only_what_works(harness: Harness) -> None:
    text = (await harness.say("anyone", "/wg help")).replies[0].to_text()
    assert "/wg propose" in text and "/wg join" in text
    for name in ("live.start", "privacy.erase"):
        if name not in HANDLERS:
            assert f"/wg {name.replace('.', ' ')}" not in text
    one = (await harness.say("anyone", "/wg help propose")).replies[0].to_text()
    assert one.startswith('/wg propose "<title>"')
    assert "No command `teleport`" in (await harness.say("anyone", "/wg help teleport")).replies[0].to_text()


async def test_bind_tells_an_outsider_nothing_about_the_deployments_groups(empty: Harness) -> None:
    await empty.say("ana", "/wg bind alpha", channel="general")
    await empty.say("ana", "/wg join civil-society", channel="general")
    r = await empty.say("ana", "/wg bind Secret Treaty Talks", channel="secret")
    assert "“Secret Treaty Talks” created" in r.replies[0].to_text()
    await empty.say("carl", "/wg join academia", channel="general")
    await empty.say("ana", "/wg role carl convener", channel="general")
    # an outsider in a fresh channel: no list of groups, and a name is refused alike whether it exists or not
    text = await refused(empty, "eve", "/wg bind")
    assert "alpha" not in text and "Secret" not in text and "Only a convener" in text
    existing = await refused(empty, "eve", "/wg bind secret treaty talks")
    unknown = await refused(empty, "eve", "/wg bind no such group here")
    assert existing.replace("secret treaty talks", "X") == unknown.replace("no such group here", "X")
    assert "Secret Treaty Talks" not in existing
    # a convener of alpha only is offered alpha only
    text = await refused(empty, "carl", "/wg bind")
    assert "groups you can bind: alpha)" in text and "Secret" not in text
    # the convener of both binds by name as before
    r = await empty.say("ana", "/wg bind secret treaty talks")
    assert "now bound to working group “Secret Treaty Talks”" in r.replies[0].to_text()


async def test_an_unbound_channel_says_who_can_bind_it(empty: Harness) -> None:
    await empty.say("ana", "/wg bind alpha", channel="general")
    text = await refused(empty, "eve", "/wg join academia")
    assert "ask a convener of your group to bind it" in text and "Only a convener can bind a channel" in text
    # and it is true: eve cannot create a group of her own now that one exists
    assert "Only a convener" in await refused(empty, "eve", "/wg bind Eve's group")
