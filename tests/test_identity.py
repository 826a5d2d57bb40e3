"""Who is who: member references that cannot pick the wrong person, unique display names, the group
creator as convener, and no way into a group by DMing the bot."""

from __future__ import annotations

from bot.command import UserRef, Where
from tests.conftest import Harness, table_snapshot
from tests.test_members import refused


async def dm(h: Harness, name: str, text: str, *, platform: str = "slack") -> str:
    user = UserRef(platform=platform, user_id=name, handle=name)
    where = Where(platform=platform, channel_id=f"D-{name}", is_dm=True)
    r = await h.app.core.handle_text(text, user, where)
    await h.app.run_due()
    return "\n".join(reply.to_text() for reply in r.replies)


async def test_an_ambiguous_handle_is_refused_with_the_candidates(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society")
    await harness.say("bob", "/wg join government", platform="slack")
    await harness.say("bob", "/wg join academia", platform="discord")
    text = await refused(harness, "ana", "/wg role bob convener")
    assert "could mean several members" in text
    assert "bob@slack" in text and "bob@discord" in text
    r = await harness.say("ana", "/wg role bob@slack convener")
    assert r.replies[0].to_text() == "bob is now a convener."
    me = (await harness.say("bob", "/wg me", platform="slack")).replies[0].to_text()
    assert "Role: convener" in me
    me = (await harness.say("bob", "/wg me", platform="discord")).replies[0].to_text()
    assert "Role: member" in me and "bob@discord" in me  # the second bob got a distinct name


async def test_mentions_resolve_on_the_speakers_platform_only(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society", platform="slack")
    await harness.say("U1", "/wg join government", platform="slack")
    await harness.say("U1", "/wg join academia", platform="discord")
    r = await harness.say("ana", "/wg role <@U1> observer", platform="slack")
    assert "U1 is now an observer." in r.replies[0].to_text()
    slack_me = (await harness.say("U1", "/wg me", platform="slack")).replies[0].to_text()
    discord_me = (await harness.say("U1", "/wg me", platform="discord")).replies[0].to_text()
    assert "Role: observer" in slack_me and "Role: member" in discord_me


async def test_display_names_are_unique_within_a_group(harness: Harness) -> None:
    await harness.say("ana", '/wg join civil-society name:"Ana Silva"')
    text = await refused(harness, "eve", '/wg join civil-society name:"ana silva"', platform="discord")
    assert "already called “Ana Silva”" in text
    await harness.say("eve", "/wg join government", platform="discord")
    text = await refused(harness, "eve", '/wg join government name:"ANA SILVA"', platform="discord")
    assert "already called" in text
    # keeping one's own name (in another case) is fine
    r = await harness.say("ana", '/wg join civil-society name:"ANA SILVA"')
    assert "Profile updated" in r.replies[0].to_text()
    assert "already called “eve”" in await refused(harness, "mallory", '/wg join government name:"Eve"')
    # a second "eve" (by handle, on Slack) gets a distinct name, and "eve" alone is now ambiguous
    r = await harness.say("eve", "/wg join government", platform="slack")
    assert "Welcome to “wg”, eve@slack" in r.replies[0].to_text()
    assert "could mean several members" in await refused(harness, "ana", "/wg role eve observer")


async def test_the_creator_of_a_group_is_its_convener(empty: Harness) -> None:
    r = await empty.say("ana", "/wg bind AI and cyber", channel="general")
    text = r.replies[0].to_text()
    assert "you are its convener" in text and "first member" not in text
    # someone else joins first: a member, not the convener
    r = await empty.say("eve", "/wg join government", channel="general")
    assert "convener" not in r.replies[0].to_text()
    assert "Only a convener can change the settings" in await refused(empty, "eve", '/wg settings name:"Mine"')
    # nor can they bind channels to it
    text = await refused(empty, "eve", "/wg bind AI and cyber", platform="discord")
    assert "Only a convener of “AI and cyber”" in text
    r = await empty.say("ana", "/wg join civil-society", channel="general")
    assert "As you created it, you are its convener" in r.replies[0].to_text()


async def test_a_stranger_dming_the_bot_learns_how_to_join_and_gets_no_group(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society", platform="slack")
    before = await table_snapshot(harness.app.db)
    for text in ("/wg join government", "/wg proposals", "/wg me", '/wg propose "T" body'):
        answer = await dm(harness, "stranger", text)
        assert "not a member of any working group" in answer and "invitation" in answer, answer
    assert await table_snapshot(harness.app.db) == before
    # a member's DM still finds their group
    assert "Role: convener" in await dm(harness, "ana", "/wg me")


async def test_invitations(harness: Harness) -> None:
    from datetime import timedelta

    await harness.say("ana", "/wg join civil-society", platform="slack")
    await harness.say("ben", "/wg join government", platform="slack")
    assert "Only a convener can invite people" in await refused(harness, "ben", "/wg member invite", platform="slack")
    assert "from 1 to 100" in await refused(harness, "ana", "/wg member invite 101", platform="slack")
    assert "between 1 hour and 30 days" in await refused(
        harness, "ana", "/wg member invite expires:60d", platform="slack"
    )
    text = (await harness.say("ana", "/wg member invite 2 expires:1d", platform="slack")).replies[0].to_text()
    code = text.split("invite:")[-1].strip()
    assert "usable 2 times" in text and len(code) == 11  # XXXXX-XXXXX
    # only its hash is stored
    async with harness.app.db.session() as s:
        from sqlmodel import select

        from storage.models import Invitation

        (row,) = (await s.exec(select(Invitation))).all()
    assert code not in row.code_hash and code.replace("-", "") not in row.code_hash
    assert "Welcome" in await dm(harness, "cat", f"/wg join academia invite:{code.lower()}", platform="discord")
    # an existing member joining again with it updates their profile and does not use it up
    assert "Profile updated" in await dm(harness, "cat", f"/wg join government invite:{code}", platform="discord")
    harness.clock.advance(timedelta(days=2))
    assert "unknown, used up or expired" in await dm(harness, "dan", f"/wg join academia invite:{code}")


async def test_a_stored_link_with_a_line_break_cannot_break_calendars(harness: Harness) -> None:
    from sqlmodel import select

    from bot import ics
    from storage.models import Meeting

    await harness.say("ana", "/wg join civil-society")
    await harness.say("ana", '/wg meeting "Sync" at:"2026-01-06 10:00" link:https://zoom.us/j/1')
    async with harness.app.db.transaction() as s:  # as a link accepted before links were checked
        (m,) = (await s.exec(select(Meeting))).all()
        m.link = "https://zoom.us/j/1\r\nATTENDEE:mailto:evil@example.org"
        s.add(m)
    r = await harness.say("ana", "/wg ics M1")
    assert r.replies[0].kind == "reply"
    content, count = await ics.export_all(harness.app.db, harness.clock.now())
    assert count == 1 and b"evil@example.org" not in content
    text = await refused(harness, "ana", '/wg meeting "Two" at:"2026-01-06 12:00" link:"https://zoom.us/j/2\nX"')
    assert "cannot contain spaces, line breaks or invisible characters" in text


async def test_channels_and_accounts_bound_before_workspaces_were_recorded_are_adopted(harness: Harness) -> None:
    from sqlmodel import select

    from storage.models import Channel, Identity

    await harness.say("ana", "/wg join civil-society", platform="slack")
    user = UserRef(platform="slack", user_id="ana", handle="ana", workspace="T1")
    where = Where(platform="slack", channel_id="wg", channel_name="wg", workspace="T1")
    r = await harness.app.core.handle_text("/wg me", user, where)
    assert "Role: convener" in r.replies[0].to_text()
    async with harness.app.db.session() as s:
        slack_channel = (await s.exec(select(Channel).where(Channel.platform == "slack"))).one()
        ident = (await s.exec(select(Identity))).one()
    assert slack_channel.workspace == "T1" and ident.workspace == "T1"
    # from then on, the same ids in another workspace are someone and somewhere else
    other = UserRef(platform="slack", user_id="ana", handle="ana", workspace="T2")
    r = await harness.app.core.handle_text("/wg me", other, Where("slack", "wg", "wg", workspace="T2"))
    assert "not bound to a working group" in r.replies[0].to_text()
