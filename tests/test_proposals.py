"""Proposals P<n>: creation, listing, amendments with history, withdrawal, and their refusals."""

from __future__ import annotations

import pytest

from tests.conftest import Harness
from tests.test_members import refused


@pytest.fixture
async def group(harness: Harness) -> Harness:
    await harness.say("ana", "/wg join civil-society region:weog tz:Europe/Lisbon")
    await harness.say("ben", "/wg join government region:african tz:Africa/Lagos", platform="slack")
    await harness.say("chen", "/wg join technical-community tz:Asia/Shanghai", platform="discord")
    harness.clear()
    return harness


async def test_proposal_made_on_console_is_announced_once_on_each_platform(group: Harness) -> None:
    r = await group.say(
        "ana", '/wg propose "Shared taxonomy" One taxonomy for AI incidents. theme:"cybersecurity of ai"'
    )
    assert "P1 recorded" in r.replies[0].to_text()
    announcements = [m for m in group.sent() if m.kind == "announcement"]
    assert sorted(m.destination.platform for m in announcements) == ["console", "discord", "slack"]
    assert all(m.destination.label == "channel:wg" for m in announcements)
    text = announcements[0].reply.to_text()
    assert "P1: Shared taxonomy" in text and "cybersecurity of AI" in text and "ana (civil-society)" in text


async def test_numbers_list_show_and_filters(group: Harness) -> None:
    await group.say("ana", '/wg propose "First" one')
    await group.say("ben", '/wg propose "Second" two', platform="slack")
    await group.say("ben", "/wg withdraw P2", platform="slack")
    listing = (await group.say("chen", "/wg proposals", platform="discord")).replies[0].to_text()
    assert "P1 [open] First" in listing and "P2" not in listing
    assert (
        "P2 [withdrawn] Second"
        in (await group.say("chen", "/wg proposals withdrawn", platform="discord")).replies[0].to_text()
    )
    assert "No proposals (accepted)" in (await group.say("ana", "/wg proposals accepted")).replies[0].to_text()
    shown = (await group.say("chen", "/wg show p1", platform="discord")).replies[0].to_text()
    assert "P1: First" in shown
    # times are shown in the reader's zone: chen reads Shanghai time
    assert "Mon 5 Jan 2026 17:00 CST" in shown


async def test_amendments_keep_history_and_are_announced(group: Harness) -> None:
    await group.say("ana", '/wg propose "Charter" Version one.')
    group.clear()
    r = await group.say("ana", "/wg amend P1 Version two, with\na second line.")
    assert "revision 2" in r.replies[0].to_text()
    assert len([m for m in group.sent() if "amended by ana" in m.reply.to_text()]) == 3
    shown = (await group.say("ana", "/wg show P1")).replies[0].to_text()
    assert "Version two, with\na second line." in shown
    assert "History: r1" in shown and "r2" in shown
    # the convener may amend someone else's proposal
    await group.say("ben", '/wg propose "Ben idea" text', platform="slack")
    assert "revision 2" in (await group.say("ana", "/wg amend P2 better text")).replies[0].to_text()


async def test_refusals_leave_everything_unchanged(group: Harness) -> None:
    await group.say("ben", '/wg propose "Ben idea" text', platform="slack")
    assert "title is empty" in await refused(group, "ana", '/wg propose "" body')
    assert "title is too long (201 characters" in await refused(group, "ana", f'/wg propose "{"t" * 201}" body')
    assert "body is too long (4001 characters" in await refused(group, "ana", f'/wg propose "T" {"b" * 4001}')
    assert "needs a body" in await refused(group, "ana", '/wg propose "Only a title"')
    assert "Put the title in double quotes" in await refused(group, "ana", "/wg propose no quotes here")
    assert "Unknown theme `cooking`" in await refused(group, "ana", '/wg propose "T" b theme:cooking')
    assert "no proposal P9" in await refused(group, "ana", "/wg show P9")
    assert "not a proposal id" in await refused(group, "ana", "/wg amend X1 text")
    assert "Only the author of P1 or a convener can amend" in await refused(
        group, "chen", "/wg amend P1 hijack", platform="discord"
    )
    assert "Only the author of P1 or a convener can withdraw" in await refused(
        group, "chen", "/wg withdraw P1", platform="discord"
    )
    await group.say("ben", "/wg withdraw P1", platform="slack")
    assert "only open proposals can be amended" in await refused(group, "ben", "/wg amend P1 late", platform="slack")
    assert "already withdrawn" in await refused(group, "ben", "/wg withdraw P1", platform="slack")
    assert "Unbalanced quotes" in await refused(group, "ana", '/wg propose "oops body')


async def test_propose_without_arguments_opens_a_form(group: Harness) -> None:
    r = await group.say("ana", "/wg propose")
    assert r.form is not None and r.form.action == "propose"
    assert [f.name for f in r.form.fields] == ["title", "body", "theme"]
    # what a form submission sends back
    r = await group.say("ana", '/wg propose title:"From a form" body:"Body from a form" theme:""')
    assert "P1 recorded" in r.replies[0].to_text()
