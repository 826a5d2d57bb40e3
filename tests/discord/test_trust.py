"""Trust on Discord, through the loopback gateway: a stranger's DM gets how to join, an invitation
works from a DM, the channel records its server (guild), and user text cannot become a masked link
or a heading in an embed while the bot's own links stay links."""

from __future__ import annotations

from sqlmodel import select

from storage.db import Database
from storage.models import Channel, Member
from tests.discord.conftest import Bot, assert_no_pings
from tests.discord.test_interactions import CHANNEL_MESSAGES, data, embed_text, setup_group
from tests.fakes.discord_server import DiscordServer, FakeUser


async def dm_command(bot: Bot, server: DiscordServer, user: FakeUser, path: list[str], **options: object) -> str:
    dm = server._dm_channels.setdefault(user.id, server.new_id())
    server.messages.setdefault(dm, [])
    token = await server.push_command(["wg", *path], dict(options), user=user, channel_id=dm, dm=True)
    return embed_text(data(await bot.callback(token)))


async def test_a_strangers_dm_and_an_invitation(
    bot: Bot, server: DiscordServer, db: Database, alice: FakeUser, bob: FakeUser
) -> None:
    await setup_group(bot, alice)
    async with db.session() as s:
        (channel,) = (await s.exec(select(Channel))).all()
    assert channel.workspace == str(server.guild_id)  # the server (guild) is recorded with the channel

    text = await dm_command(bot, server, bob, ["join"], group="government")
    assert "You are not a member of any working group yet" in text
    rec = await bot.command(["member", "invite"], alice, uses="2", expires="2d")
    said = embed_text(data(rec))
    assert "usable 2 times" in said
    code = said.split("invite:")[-1].strip()
    text = await dm_command(bot, server, bob, ["join"], group="government", invite=code)
    assert "Welcome to “wg”" in text
    async with db.session() as s:
        assert sorted(m.display_name for m in (await s.exec(select(Member))).all()) == ["alice", "bob"]
    assert_no_pings(server)


async def test_user_text_cannot_become_a_masked_link(bot: Bot, server: DiscordServer, alice: FakeUser) -> None:
    await setup_group(bot, alice)
    rec = await bot.command(
        ["propose"],
        alice,
        title="Join here",
        body="[https://zoom.us/j/123](https://evil.example/login)\n# OFFICIAL\n**urgent** ||x||",
    )
    assert "P1 recorded" in embed_text(data(rec))
    await bot.command(
        ["meeting", "schedule"], alice, title="Sync", at="2026-01-06 10:00", link="https://zoom.us/j/9?pwd=a_b"
    )
    since = server.mark()
    await bot.app.run_due()
    posts = await server.wait_request("POST", CHANNEL_MESSAGES, since=since, count=2)
    card = next(p for p in posts if "New proposal P1" in embed_text(p.body))
    text = embed_text(card.body)
    assert "\\[https://zoom.us/j/123\\](https://evil.example/login)" in text  # shown, not a masked link
    assert "[https://zoom.us/j/123](" not in text.replace("\\[", "").replace("\\]", "")
    assert "\\# OFFICIAL" in text and "\\*\\*urgent\\*\\*" in text and "\\|\\|x\\|\\|" in text
    meeting = next(p for p in posts if "M1" in embed_text(p.body))
    assert "https://zoom.us/j/9?pwd=a_b" in embed_text(meeting.body)  # the bot's link, whole and clickable


async def test_a_meeting_link_with_a_line_break_is_refused(bot: Bot, server: DiscordServer, alice: FakeUser) -> None:
    await setup_group(bot, alice)
    rec = await bot.command(
        ["meeting", "schedule"], alice, title="Sync", at="2026-01-06 10:00", link="https://zoom.us/j/9\nBEGIN:VEVENT"
    )
    assert "cannot contain spaces, line breaks or invisible characters" in embed_text(data(rec))
