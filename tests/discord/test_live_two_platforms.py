"""One working group on Slack and Discord at once — two processes on one database, each with its own
adapter and loopback fake — and one person linked on both: an upvote by button on Discord and then by
button on Slack counts once, and the queue message in both channels shows the same count."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.clock import VirtualClock
from storage.models import LiveAttendance, LiveUpvote
from tests.discord.conftest import Bot, assert_no_pings
from tests.discord.test_interactions import EPHEMERAL, custom_ids, data, embed_text, setup_group
from tests.fakes.discord_server import DiscordServer, FakeUser
from tests.slack import conftest as slack_fixtures
from tests.slack.conftest import SlackEnv
from tests.slack.test_votes import action, elements

fake_slack = slack_fixtures.fake_slack
slack = slack_fixtures.slack


async def link_on_slack(bot: Bot, slack: SlackEnv, who: FakeUser, user: str, name: str) -> None:
    """`who` asks Discord for a link code and gives it on Slack as `user`: one member, two identities."""
    text = embed_text(data(await bot.command(["link"], who)))
    code = text.split("Your link code is ")[1].split(".")[0]
    assert (await slack.slash(f"link {code}", user=user, user_name=name))[0] == 200
    await slack.settle()
    assert any("linked" in c["text"].lower() for c in slack.fake.of("chat.postEphemeral") if c["user"] == user)


async def test_upvote_buttons_on_slack_and_discord_count_once_per_linked_person(
    bot: Bot, slack: SlackEnv, server: DiscordServer, clock: VirtualClock, alice: FakeUser, bob: FakeUser
) -> None:
    await setup_group(bot, alice, bob)  # the Discord channel bound; alice (convener) and bob joined there
    await link_on_slack(bot, slack, alice, "U1", "ana")
    assert (await slack.slash("bind"))[0] == 200  # Ana, a convener through her link, binds #wg on Slack
    await slack.settle()
    await link_on_slack(bot, slack, bob, "U2", "bo")

    await bot.command(["meeting", "schedule"], alice, title="Call", at="2026-01-05T10:00Z")
    assert "started" in embed_text(data(await bot.command(["live", "start"], alice, id="M1")))
    await bot.command(["live", "ask"], alice, question="Who hosts the data?")
    clock.advance(timedelta(seconds=5))
    await bot.app.run_due()
    await slack.settle()
    # both channels' queue messages now carry the question and its ▲ button
    d_queue = next(m for m in reversed(server.bot_messages()) if "Question queue" in embed_text(m))
    [s_posted] = [c for c in slack.fake.of("chat.postMessage") if c["text"].startswith("Question queue")]
    [s_queue] = [c for c in slack.fake.of("chat.update") if "Q1 ▲0" in c["text"]]
    assert [e["value"] for e in elements(s_queue)] == ["upvote Q1"]
    assert custom_ids(d_queue) == ["wg:upvote Q1"] and "1. Q1 ▲0" in embed_text(d_queue).replace("\\", "")
    slack.fake.clear()

    # Bob presses ▲ Q1 on Discord: counted, the clicked message updated at once
    rec = await bot.callback(await server.push_click(d_queue, "wg:upvote Q1", user=bob))
    assert rec.body["type"] == 7 and "1. Q1 ▲1" in embed_text(data(rec)).replace("\\", "")
    # …then, as Bo, ▲ Q1 on Slack: the same person, so it is not counted again
    await slack.interact(action(s_queue, elements(s_queue)[0], user="U2"))
    await slack.settle()
    [note] = [c for c in slack.fake.of("chat.postEphemeral") if c["user"] == "U2"]
    assert "You already upvoted Q1; an upvote counts once per person." in note["text"]
    [clicked] = slack.fake.of("chat.update")
    assert "1. Q1 ▲1" in clicked["text"]
    async with bot.app.db.session() as s:
        assert len((await s.exec(select(LiveUpvote))).all()) == 1
        # the refused press on Slack recorded nothing: Bo attends from Discord only
        bo = (await s.exec(select(LiveUpvote.member_id))).one()
        where = (await s.exec(select(LiveAttendance.platform).where(LiveAttendance.member_id == bo))).all()
        assert where == ["discord"]
    assert s_posted["channel"] == "C1"
    assert not data(rec).get("flags", 0) & EPHEMERAL
    slack.check_all()
    assert_no_pings(server)


async def test_an_anonymous_question_from_discord_shows_no_group_or_platform_on_either(
    bot: Bot, slack: SlackEnv, server: DiscordServer, clock: VirtualClock, alice: FakeUser, bob: FakeUser
) -> None:
    """Bob, the group's only government member, asks anonymously on Discord: neither platform's queue
    message nor the minutes tie the question to his group or platform, and his ask is answered to him
    alone; Kai's open question on Slack still counts by group and platform."""
    await setup_group(bot, alice, bob)  # alice civil-society, bob government
    await link_on_slack(bot, slack, alice, "U1", "ana")
    assert (await slack.slash("bind"))[0] == 200
    await slack.settle()  # two people's commands run concurrently: the channel is bound before Kai joins
    assert (await slack.slash("join academia", user="U3", user_name="kai"))[0] == 200
    await slack.settle()
    await bot.command(["meeting", "schedule"], alice, title="Call", at="2026-01-05T10:00Z")
    assert "started" in embed_text(data(await bot.command(["live", "start"], alice, id="M1")))
    asked = await bot.command(["live", "ask"], bob, question="Who funds the pilot?", anonymous=True)
    assert data(asked).get("flags", 0) & EPHEMERAL and "not shown anywhere" in embed_text(data(asked))
    assert (await slack.slash("ask Which fields?", user="U3", user_name="kai"))[0] == 200
    await slack.settle()
    clock.advance(timedelta(seconds=5))
    await bot.app.run_due()
    await slack.settle()
    d_queue = embed_text(next(m for m in reversed(server.bot_messages()) if "Question queue" in embed_text(m)))
    s_queue = [c["text"] for c in slack.fake.of("chat.update") if "Question queue" in c["text"]][-1]
    for text in (d_queue.replace("\\", ""), s_queue):
        assert "Who funds the pilot? (anonymous)" in text and "(anonymous, " not in text, text
        assert "By stakeholder group: academia 1" in text and "By platform: slack 1" in text, text
        assert "1 anonymous" in text and "government 1" not in text and "discord 1" not in text, text
    await bot.command(["live", "end"], alice)
    await bot.app.run_due()
    await slack.settle()
    [minutes] = [c["text"] for c in slack.fake.of("chat.postMessage") if c["text"].startswith("Minutes: M1")]
    assert "Who funds the pilot? (anonymous)\n" in minutes and "Attendance: 2 people" in minutes
    assert "By stakeholder group: academia 1, civil-society 1" in minutes and "government 1" not in minutes
    assert "anonymous questions: 1" in minutes
    slack.check_all()
    assert_no_pings(server)
