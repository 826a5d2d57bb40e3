"""A live session on Discord through the loopback gateway and REST fake: the live commands under
`/wg live …`, the queue's ▲ buttons editing it in place and counting once per linked person, a quick
poll's buttons and its close by itself, a pause round's React button opening a one-line modal."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import VirtualClock
from bot.command import UserRef, Where
from tests.discord.conftest import Bot, assert_no_pings
from tests.discord.test_interactions import CHANNEL_MESSAGES, EPHEMERAL, custom_ids, data, embed_text, setup_group
from tests.fakes.discord_server import DiscordServer, FakeUser

SLACK_BOB = UserRef("slack", "U77", "bob-s")


SLACK_DM = Where("slack", "D77", is_dm=True)


async def start_live(bot: Bot, alice: FakeUser) -> None:
    rec = await bot.command(["meeting", "schedule"], alice, title="Call", at="2026-01-06T10:00Z")
    assert "M1 scheduled" in embed_text(data(rec)), embed_text(data(rec))
    rec = await bot.command(["live", "start"], alice, id="M1")
    assert "started" in embed_text(data(rec)), embed_text(data(rec))


async def link_bob_on_slack(bot: Bot, bob: FakeUser) -> None:
    rec = await bot.command(["link"], bob)
    text = embed_text(data(rec))
    code = text.split("Your link code is ")[1].split(".")[0]
    answer = await bot.app.core.handle_text(f"/wg link {code}", SLACK_BOB, SLACK_DM)
    assert any("linked" in r.to_text().lower() for r in answer.replies), [r.to_text() for r in answer.replies]


async def test_queue_buttons_edit_in_place_and_count_once_per_linked_person(
    bot: Bot, server: DiscordServer, alice: FakeUser, bob: FakeUser
) -> None:
    await setup_group(bot, alice, bob)
    await link_bob_on_slack(bot, bob)
    await start_live(bot, alice)
    rec = await bot.command(["live", "ask"], alice, question="Who hosts the data?")
    assert "Q1" in embed_text(data(rec)) and data(rec)["flags"] & EPHEMERAL
    await bot.command(["live", "ask"], alice, question="Which fields are mandatory?")
    token = await server.push_command(["wg", "live", "queue"], {}, user=bob)
    rec = await bot.callback(token)
    assert not (data(rec).get("flags") or 0) & EPHEMERAL, "the queue is posted in the channel"
    assert custom_ids(data(rec)) == ["wg:upvote Q1", "wg:upvote Q2"]
    message = server.original(token)
    assert message is not None

    # Bob upvotes Q2 from Slack, then clicks ▲ Q2 on Discord: counted once; Q2 now ranks first
    answer = await bot.app.core.handle_text("/wg upvote Q2", SLACK_BOB, SLACK_DM)
    assert "Upvoted Q2 (▲1)" in answer.replies[0].to_text()
    since = server.mark()
    click = await server.push_click(message, "wg:upvote Q2", user=bob)
    rec = await bot.callback(click)
    assert rec.body["type"] == 7, "the queue message is edited in place"
    lines = [
        line.replace("\\", "") for line in embed_text(data(rec)).splitlines() if line[:1].isdigit()
    ]  # markdown escapes
    assert lines[0].startswith("1. Q2 ▲1") and lines[1].startswith("2. Q1 ▲0")
    (note,) = await server.wait_request("POST", rf"^/webhooks/\d+/{click}$", since=since)
    assert note.body["flags"] & EPHEMERAL and "already upvoted Q2" in embed_text(note.body)
    # the asker cannot upvote her own question
    rec = await bot.callback(await server.push_click(message, "wg:upvote Q1", user=alice))
    assert "your own question" in embed_text(data(rec)) and data(rec)["flags"] & EPHEMERAL
    assert_no_pings(server)


async def test_poll_closes_by_itself_and_react_opens_a_modal(
    bot: Bot, server: DiscordServer, clock: VirtualClock, alice: FakeUser, bob: FakeUser
) -> None:
    await setup_group(bot, alice, bob)
    await start_live(bot, alice)
    await bot.app.run_due()
    rec = await bot.command(["live", "poll"], alice, question="Pilot first?", options="yes, no")
    assert "Quick poll V1 open for 2 min" in embed_text(data(rec)), embed_text(data(rec))
    since = server.mark()
    await bot.app.run_due()
    (post,) = await server.wait_request("POST", CHANNEL_MESSAGES, since=since)
    assert custom_ids(post.body) == ["wg:vote V1 A", "wg:vote V1 B"]
    message = next(m for m in reversed(server.bot_messages()) if custom_ids(m) == custom_ids(post.body))
    rec = await bot.callback(await server.push_click(message, "wg:vote V1 B", user=bob))
    assert rec.body["type"] == 7 and "B ██████████ 1 (100%) no" in embed_text(data(rec))

    clock.advance(timedelta(minutes=2))
    since = server.mark()
    await bot.app.run_due()
    posts = await server.wait_request("POST", CHANNEL_MESSAGES, since=since)
    assert any("V1 closed" in embed_text(p.body) and "B: no wins" in embed_text(p.body) for p in posts)

    rec = await bot.command(["live", "pause"], alice, prompt="What worries you?", **{"for": "1m"})
    assert "Pause round open" in embed_text(data(rec)), embed_text(data(rec))
    since = server.mark()
    await bot.app.run_due()
    (post,) = await server.wait_request("POST", CHANNEL_MESSAGES, since=since)
    assert custom_ids(post.body) == ["wg:react"]
    message = next(m for m in reversed(server.bot_messages()) if custom_ids(m) == ["wg:react"])
    rec = await bot.callback(await server.push_click(message, "wg:react", user=bob))
    assert rec.body["type"] == 9, "a modal"
    modal = data(rec)
    assert [c["custom_id"] for row in modal["components"] for c in row["components"]] == ["text"]
    rec = await bot.callback(await server.push_modal_submit(modal["custom_id"], {"text": "Liability"}, user=bob))
    assert "Your reaction is recorded: “Liability”" in embed_text(data(rec))
    clock.advance(timedelta(minutes=1))
    since = server.mark()
    await bot.app.run_due()
    posts = await server.wait_request("POST", CHANNEL_MESSAGES, since=since)
    assert any("Pause round closed: What worries you?" in embed_text(p.body) for p in posts)
    assert_no_pings(server)


async def test_a_typed_upvote_edits_the_queue_message_in_place(
    bot: Bot, server: DiscordServer, clock: VirtualClock, alice: FakeUser, bob: FakeUser
) -> None:
    """The queue is posted once at live start; typed asks and upvotes edit that message (PATCH on its
    id) once per 5-second window, and a click on it afterwards still counts once per person."""
    await setup_group(bot, alice, bob)
    since = server.mark()
    await start_live(bot, alice)
    await bot.app.run_due()
    posts = await server.wait_request("POST", CHANNEL_MESSAGES, since=since)
    assert any("Question queue" in embed_text(p.body) for p in posts)
    queue = next(m for m in reversed(server.bot_messages()) if "Question queue" in embed_text(m))
    assert "No open questions" in embed_text(queue)
    # attendance: the start announcement's "I'm here" button
    start = next(m for m in reversed(server.bot_messages()) if "Live now" in embed_text(m))
    assert custom_ids(start) == ["wg:live here"]
    rec = await bot.callback(await server.push_click(start, "wg:live here", user=bob))
    assert data(rec)["flags"] & EPHEMERAL and "You are marked as attending M1 “Call” (from discord)" in embed_text(
        data(rec)
    )
    edit_path = rf"^/channels/{server.channel_id}/messages/{queue['id']}$"

    await bot.command(["live", "ask"], alice, question="Who hosts the data?")
    await bot.command(["live", "ask"], alice, question="Which fields are mandatory?")
    rec = await bot.command(["live", "upvote"], bob, id="Q2")
    assert "Upvoted Q2 (▲1)" in embed_text(data(rec)) and data(rec)["flags"] & EPHEMERAL
    since = server.mark()
    await bot.app.run_due()
    assert not server.matching("PATCH", edit_path), "the edit waits for the end of its window"
    clock.advance(timedelta(seconds=5))
    await bot.app.run_due()
    (edit,) = await server.wait_request("PATCH", edit_path, since=since)
    lines = [line.replace("\\", "") for line in embed_text(edit.body).splitlines() if line[:1].isdigit()]
    assert lines[0].startswith("1. Q2 ▲1") and lines[1].startswith("2. Q1 ▲0"), lines
    assert custom_ids(edit.body) == ["wg:upvote Q2", "wg:upvote Q1"]
    assert edit.body["allowed_mentions"] == {"parse": []}
    assert not [p for p in server.matching("POST", CHANNEL_MESSAGES) if "Question queue" in embed_text(p.body)][1:]

    # Bob clicks ▲ Q2 on that (edited) message: already counted, the queue unchanged
    rec = await bot.callback(await server.push_click(queue, "wg:upvote Q2", user=bob))
    assert rec.body["type"] == 7 and "1. Q2 ▲1" in embed_text(data(rec)).replace("\\", "")
    assert_no_pings(server)
