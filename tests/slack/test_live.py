"""A live session on Slack through signed requests into the Bolt app and the loopback Web API: the
queue is one message whose ▲ buttons update it in place (chat.update), an upvote counts once per
linked person whichever platform it came from, a quick poll's buttons and its close by itself, and a
pause round's React button opening a one-line modal."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.command import UserRef, Where
from storage.models import OutboxMessage
from tests.slack.conftest import SlackEnv
from tests.slack.test_http import setup_group
from tests.slack.test_votes import CARD_TS, action, elements, submission

DISCORD_BO = UserRef("discord", "900000000000000002", "bo")
DISCORD_DM = Where("discord", "dm-bo", is_dm=True)


async def link_bo_on_discord(slack: SlackEnv) -> None:
    """Bo (U2 on Slack) links a Discord account: one member, two identities."""
    assert (await slack.slash("link", user="U2", user_name="bo"))[0] == 200
    await slack.settle()
    [note] = [c for c in slack.fake.of("chat.postEphemeral") if "link code" in c["text"]]
    code = note["text"].split("Your link code is ")[1].split(".")[0]
    answer = await slack.app.core.handle_text(f"/wg link {code}", DISCORD_BO, DISCORD_DM)
    assert any("linked" in r.to_text().lower() for r in answer.replies), [r.to_text() for r in answer.replies]
    slack.fake.clear()


async def test_queue_upvote_buttons_count_once_per_linked_person_and_edit_the_queue_in_place(
    slack: SlackEnv,
) -> None:
    await setup_group(slack)
    await link_bo_on_discord(slack)
    for text in ('meeting "Call" at:"2026-01-05 10:00 UTC"', "live start M1", "ask Who hosts the data?"):
        assert (await slack.slash(text))[0] == 200
        await slack.settle()
    assert (await slack.slash("ask Which fields are mandatory?"))[0] == 200
    await slack.settle()
    slack.fake.clear()
    assert (await slack.slash("queue", user="U2", user_name="bo"))[0] == 200
    await slack.settle()
    [queue] = [c for c in slack.fake.of("chat.postMessage") if c["text"].startswith("Question queue")]
    assert [e["value"] for e in elements(queue)] == ["upvote Q1", "upvote Q2"]
    slack.fake.clear()

    # Bo upvotes Q2 from Discord, then presses ▲ Q2 on Slack: still one upvote, and Q2 (▲1) now ranks
    # before the older Q1 (▲0)
    answer = await slack.app.core.handle_text("/wg upvote Q2", DISCORD_BO, DISCORD_DM)
    assert "Upvoted Q2 (▲1)" in answer.replies[0].to_text()
    await slack.interact(action(queue, elements(queue)[1]))
    await slack.settle()
    [updated] = slack.fake.of("chat.update")
    assert updated["channel"] == "C1" and updated["ts"] == CARD_TS, "the queue message is edited in place"
    lines = [line for line in updated["text"].splitlines() if line[:1].isdigit()]
    assert lines[0].startswith("1. Q2 ▲1") and lines[1].startswith("2. Q1 ▲0")
    [note] = slack.fake.of("chat.postEphemeral")
    assert note["user"] == "U2" and "already upvoted Q2" in note["text"]
    slack.fake.clear()

    # a first upvote by button counts and refreshes the same message
    await slack.interact(action(queue, elements(queue)[0]))
    await slack.settle()
    [updated] = slack.fake.of("chat.update")
    assert updated["ts"] == CARD_TS and "Q1 ▲1" in updated["text"]
    slack.check_all()


async def test_quick_poll_buttons_and_close_by_itself_and_a_react_modal(slack: SlackEnv) -> None:
    await setup_group(slack)
    for text in ('meeting "Call" at:"2026-01-05 10:00 UTC"', "live start M1"):
        assert (await slack.slash(text))[0] == 200
        await slack.settle()
    slack.fake.clear()
    assert (await slack.slash('poll "Pilot first?" options:"yes, no"'))[0] == 200
    await slack.settle()
    [card] = [c for c in slack.fake.of("chat.postMessage") if c["text"].startswith("Quick poll V1")]
    assert [e["value"] for e in elements(card)] == ["vote V1 A", "vote V1 B"]
    slack.fake.clear()
    await slack.interact(action(card, elements(card)[0]))
    await slack.settle()
    [updated] = slack.fake.of("chat.update")
    assert "A ██████████ 1 (100%) yes" in updated["text"] and "B ░░░░░░░░░░ 0 (0%) no" in updated["text"]
    assert [e["value"] for e in elements(updated)] == ["vote V1 A", "vote V1 B"], "still the poll's buttons"
    slack.fake.clear()
    await slack.advance_to(slack.clock.now() + timedelta(minutes=2))
    await slack.settle()
    [closed] = [c for c in slack.fake.of("chat.postMessage") if c["text"].startswith("V1 closed")]
    assert closed["channel"] == "C1" and "Outcome: A: yes wins" in closed["text"]
    slack.fake.clear()

    assert (await slack.slash('pause "What worries you?" for:1m'))[0] == 200
    await slack.settle()
    [card] = [c for c in slack.fake.of("chat.postMessage") if c["text"].startswith("Pause and react")]
    [button] = elements(card)
    assert button["value"] == "react"
    slack.fake.clear()
    await slack.interact(action(card, button))
    await slack.settle()
    [opened] = slack.fake.of("views.open")
    view = opened["view"]
    assert [b["block_id"] for b in view["blocks"]] == ["text"]
    slack.fake.clear()
    await slack.interact(submission(view, {"text": {"type": "plain_text_input", "value": "Liability for data"}}))
    await slack.settle()
    [receipt] = slack.fake.of("chat.postEphemeral")
    assert "Your reaction is recorded: “Liability for data”" in receipt["text"]
    slack.fake.clear()
    await slack.advance_to(slack.clock.now() + timedelta(minutes=1))
    await slack.settle()
    [synthesis] = [c for c in slack.fake.of("chat.postMessage") if c["text"].startswith("Pause round closed")]
    assert "1 reaction(s)" in synthesis["text"] and "Liability for data" in synthesis["text"]
    slack.check_all()


async def test_a_typed_upvote_edits_the_queue_message_in_place(slack: SlackEnv) -> None:
    """`live start` posts the queue once; a typed ask or upvote does not post anew: within the 5-second
    window the outbox edits that same message (chat.update with its ts) to the new ranking."""
    await setup_group(slack)
    for text in ('meeting "Call" at:"2026-01-05 10:00 UTC"', "live start M1"):
        assert (await slack.slash(text))[0] == 200
        await slack.settle()
    [posted] = [c for c in slack.fake.of("chat.postMessage") if c["text"].startswith("Question queue")]
    assert posted["channel"] == "C1" and "No open questions" in posted["text"]
    # attendance: the start announcement's "I'm here" button
    [start] = [c for c in slack.fake.of("chat.postMessage") if c["text"].startswith("Live now")]
    [here] = elements(start)
    assert here["value"] == "live here"
    await slack.interact(action(start, here))
    await slack.settle()
    [note] = [c for c in slack.fake.of("chat.postEphemeral") if c["user"] == "U2"]
    assert "You are marked as attending M1 “Call” (from slack)" in note["text"]
    async with slack.app.db.session() as s:
        q = select(OutboxMessage.platform_ref).where(
            OutboxMessage.platform == "slack", col(OutboxMessage.key).startswith("live:1:queue:ch")
        )
        queue_ts = (await s.exec(q)).one()
    assert queue_ts
    for text in ("ask Who hosts the data?", "ask Which fields are mandatory?"):
        assert (await slack.slash(text))[0] == 200
        await slack.settle()
    slack.fake.clear()
    await slack.advance_to(slack.clock.now() + timedelta(seconds=5))
    [edited] = slack.fake.of("chat.update")
    assert edited["channel"] == "C1" and edited["ts"] == queue_ts
    assert "1. Q1 ▲0" in edited["text"] and "2. Q2 ▲0" in edited["text"]
    slack.fake.clear()

    assert (await slack.slash("upvote Q2", user="U2", user_name="bo"))[0] == 200
    await slack.settle()
    assert not [c for c in slack.fake.of("chat.postMessage") if "Question queue" in c["text"]], "no new message"
    assert slack.fake.of("chat.update") == [], "the edit waits for the end of its window"
    [note] = slack.fake.of("chat.postEphemeral")
    assert "Upvoted Q2 (▲1)" in note["text"]
    await slack.advance_to(slack.clock.now() + timedelta(seconds=5))
    [edited] = slack.fake.of("chat.update")
    assert edited["ts"] == queue_ts, "the same message, edited in place"
    lines = [line for line in edited["text"].splitlines() if line[:1].isdigit()]
    assert lines[0].startswith("1. Q2 ▲1") and lines[1].startswith("2. Q1 ▲0")
    slack.fake.clear()

    # the convener answers Q2 by typing: the queue drops it and says so; live end leaves it without buttons
    assert (await slack.slash("answered Q2"))[0] == 200
    await slack.settle()
    await slack.advance_to(slack.clock.now() + timedelta(seconds=5))
    [edited] = slack.fake.of("chat.update")
    assert edited["ts"] == queue_ts and "Closed: Q2 answered" in edited["text"] and "Q2 ▲" not in edited["text"]
    slack.fake.clear()
    assert (await slack.slash("live end"))[0] == 200
    await slack.settle()
    [final] = slack.fake.of("chat.update")
    assert final["ts"] == queue_ts and "(session ended)" in final["text"]
    assert not [b for b in final["blocks"] if b["type"] == "actions"], "no upvote buttons once ended"
    slack.check_all()


async def test_an_anonymous_question_by_mention_in_a_channel_is_refused_and_by_dm_taken(slack: SlackEnv) -> None:
    """A mention of the bot is a message the whole channel sees, so it cannot ask anonymously: refused
    privately, nothing recorded (the question would appear in the queue beside the visible message).
    The same in a DM to the bot, or as a slash command, is anonymous."""
    from storage.models import LiveQuestion

    await setup_group(slack)
    for text in ('meeting "Call" at:"2026-01-05 10:00 UTC"', "live start M1"):
        assert (await slack.slash(text))[0] == 200
        await slack.settle()
    slack.fake.clear()
    mention = {"type": "app_mention", "user": "U2", "text": "<@UBOT> ask Who pays? anonymous", "ts": "1.5"}
    await slack.event({**mention, "channel": "C1", "channel_type": "channel"})
    await slack.settle()
    [refusal] = slack.fake.of("chat.postEphemeral")
    assert refusal["user"] == "U2" and "cannot be anonymous" in refusal["text"]
    assert not [c for c in slack.fake.of("chat.postMessage") if "Who pays?" in c["text"]]
    async with slack.app.db.session() as s:
        assert (await s.exec(select(LiveQuestion))).all() == []
    slack.fake.clear()
    dm = {"type": "message", "user": "U2", "text": "ask Who pays? anonymous", "ts": "1.6", "channel": "D2"}
    await slack.event({**dm, "channel_type": "im"})
    await slack.settle()
    assert any("Your question is Q1" in c["text"] for c in slack.fake.of("chat.postEphemeral"))
    assert (await slack.slash("ask Who hosts? anonymous", user="U2", user_name="bo"))[0] == 200
    await slack.settle()
    async with slack.app.db.session() as s:
        asked = (await s.exec(select(LiveQuestion).order_by(col(LiveQuestion.number)))).all()
    assert [(q.number, q.anonymous, q.platform) for q in asked] == [(1, True, ""), (2, True, "")]
