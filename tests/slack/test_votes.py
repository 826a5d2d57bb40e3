"""Votes on Slack through signed requests into the Bolt app and the loopback Web API: buttons for
yes-no, a select in the card, a "Vote" button opening a modal (checkboxes for approval, one select
per option for score, one per rank for ranked, a reason), the receipt ephemeral, the card updated in
place with chat.update at a bounded rate."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlmodel import col, func, select

from adapters.slack.updates import UpdateThrottle
from storage.models import Ballot, OutboxMessage
from tests.slack.conftest import SlackEnv
from tests.slack.test_http import setup_group

CARD_TS = "1767600000.000077"


async def open_vote(slack: SlackEnv, command: str) -> dict[str, Any]:
    assert (await slack.slash(command))[0] == 200
    await slack.settle()
    [card] = [c for c in slack.fake.of("chat.postMessage") if "New vote" in c["text"]]
    slack.fake.clear()
    return card


def elements(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]


def action(card: dict[str, Any], el: dict[str, Any], user: str = "U2", **extra: Any) -> dict[str, Any]:
    act: dict[str, Any] = {"type": el["type"], "action_id": el["action_id"], **extra}
    if el["type"] == "button":
        act["value"] = el["value"]
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "bo", "name": "bo"},
        "channel": {"id": "C1", "name": "wg"},
        "container": {"type": "message", "message_ts": CARD_TS, "channel_id": "C1"},
        "message": {"ts": CARD_TS, "text": card["text"]},
        "response_url": "https://hooks.invalid/none",
        "trigger_id": f"trigger-{el['action_id'][-12:]}",
        "actions": [act],
    }


def submission(view: dict[str, Any], values: dict[str, dict[str, Any]], user: str = "U2") -> dict[str, Any]:
    return {
        "type": "view_submission",
        "user": {"id": user, "username": "bo", "name": "bo"},
        "trigger_id": "trigger-submit",
        "view": {**view, "id": "VIEW1", "state": {"values": {k: {"value": v} for k, v in values.items()}}},
    }


async def vote_button_modal(slack: SlackEnv, card: dict[str, Any]) -> dict[str, Any]:
    button = next(e for e in elements(card) if e["type"] == "button" and e["value"].count(" ") == 1)
    await slack.interact(action(card, button))
    await slack.settle()
    [opened] = slack.fake.of("views.open")
    slack.fake.clear()
    return dict(opened["view"])


async def test_yes_no_buttons_update_the_card_and_the_receipt_is_ephemeral(slack: SlackEnv) -> None:
    await setup_group(slack)
    card = await open_vote(slack, 'vote open "Adopt the charter?" method:yes-no')
    assert [e.get("value") for e in elements(card)] == ["vote V1 yes", "vote V1 no", "vote V1 abstain"]
    yes = elements(card)[0]
    await slack.interact(action(card, yes))
    await slack.settle()
    [updated] = slack.fake.of("chat.update")
    assert updated["channel"] == "C1" and updated["ts"] == CARD_TS
    assert "Participation: 1 of 2 voted" in updated["text"] and "yes 1" in updated["text"]
    assert [e.get("value") for e in elements(updated)] == ["vote V1 yes", "vote V1 no", "vote V1 abstain"]
    [receipt] = slack.fake.of("chat.postEphemeral")
    assert receipt["user"] == "U2" and "Your ballot on V1 is recorded: yes" in receipt["text"]
    slack.check_all()


async def test_choice_by_the_select_in_the_card_and_approval_by_checkboxes_in_a_modal(slack: SlackEnv) -> None:
    await setup_group(slack)
    card = await open_vote(slack, 'vote open "Venue?" method:choice options:"Geneva, Nairobi, Bangkok"')
    menu = next(e for e in elements(card) if e["type"] == "static_select")
    assert [o["value"] for o in menu["options"]] == ["A", "B", "C"]
    await slack.interact(action(card, menu, selected_option={"value": "B"}))
    await slack.settle()
    [receipt] = slack.fake.of("chat.postEphemeral")
    assert "recorded: B" in receipt["text"]
    assert "B 1" in slack.fake.of("chat.update")[0]["text"]
    slack.fake.clear()

    card = await open_vote(slack, 'vote open "Workstreams?" method:approval options:"Taxonomy, Training, Red-teaming"')
    view = await vote_button_modal(slack, card)
    assert [b["block_id"] for b in view["blocks"]] == ["choice", "reason"]
    assert view["blocks"][0]["element"]["type"] == "checkboxes"
    assert json.loads(view["private_metadata"])["message_ts"] == CARD_TS
    status, _ = await slack.interact(
        submission(
            view,
            {
                "choice": {"type": "checkboxes", "selected_options": [{"value": "A"}, {"value": "C"}]},
                "reason": {"type": "plain_text_input", "value": "Both are urgent"},
            },
        )
    )
    assert status == 200
    await slack.settle()
    [receipt] = slack.fake.of("chat.postEphemeral")
    assert "recorded: A, C" in receipt["text"]
    [updated] = slack.fake.of("chat.update")
    assert updated["ts"] == CARD_TS and "Participation: 1 of 2 voted" in updated["text"]
    slack.check_all()


async def test_score_and_ranked_modals_with_one_select_each_and_repeats_refused(slack: SlackEnv) -> None:
    await setup_group(slack)
    card = await open_vote(slack, 'vote open "Priorities?" method:score options:"Taxonomy, Training"')
    view = await vote_button_modal(slack, card)
    assert [b["block_id"] for b in view["blocks"]] == ["score-a", "score-b", "reason"]
    assert [o["value"] for o in view["blocks"][0]["element"]["options"]] == ["0", "1", "2", "3", "4", "5"]
    await slack.interact(
        submission(
            view,
            {
                "score-a": {"type": "static_select", "selected_option": {"value": "5"}},
                "score-b": {"type": "static_select", "selected_option": {"value": "2"}},
            },
        )
    )
    await slack.settle()
    assert "recorded: A=5, B=2" in slack.fake.of("chat.postEphemeral")[0]["text"]
    slack.fake.clear()

    card = await open_vote(slack, 'vote open "Venue?" method:ranked options:"Geneva, Nairobi, Bangkok"')
    view = await vote_button_modal(slack, card)
    assert [b["block_id"] for b in view["blocks"]] == ["rank-1", "rank-2", "rank-3", "reason"]
    assert view["blocks"][1]["optional"] is True and view["blocks"][0]["optional"] is False
    same = {"type": "static_select", "selected_option": {"value": "B"}}
    status, body = await slack.interact(submission(view, {"rank-1": same, "rank-2": same}))
    answer = json.loads(body)
    assert status == 200 and answer["response_action"] == "errors"
    assert "ranked twice" in next(iter(answer["errors"].values()))
    async with slack.app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Ballot))).one() == 1
    c_first = {"type": "static_select", "selected_option": {"value": "C"}}
    await slack.interact(submission(view, {"rank-1": c_first, "rank-2": same}))
    await slack.settle()
    assert "recorded: C &gt; B" in slack.fake.of("chat.postEphemeral")[0]["text"]
    slack.check_all()


async def test_updates_of_one_message_are_coalesced_to_the_latest() -> None:
    """At most one chat.update per message per interval; what comes meanwhile replaces what is held."""
    sent: list[str] = []
    released = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    now = [0.0]

    async def sleep(_: float) -> None:
        await released.wait()

    def send(label: str) -> Any:
        async def go() -> None:
            sent.append(label)

        return go

    throttle = UpdateThrottle(
        lambda coro: tasks.append(asyncio.ensure_future(coro)), interval=1.0, monotonic=lambda: now[0], sleep=sleep
    )
    await throttle.submit("card", send("first"))
    await throttle.submit("card", send("second"))
    await throttle.submit("card", send("third"))
    await throttle.submit("other", send("other card"))
    assert sent == ["first", "other card"], "the first update of each message goes at once"
    now[0] = 1.0
    released.set()
    await asyncio.gather(*tasks)
    assert sent == ["first", "other card", "third"], "one held update, the latest"
    now[0] = 5.0
    await throttle.submit("card", send("later"))
    assert sent[-1] == "later"


async def test_a_typed_ballot_edits_the_posted_card_in_place_through_the_outbox(slack: SlackEnv) -> None:
    from datetime import timedelta

    await setup_group(slack)
    await open_vote(slack, 'vote open "Adopt the charter?" method:yes-no')
    async with slack.app.db.session() as s:
        q = select(OutboxMessage.platform_ref).where(
            OutboxMessage.platform == "slack", col(OutboxMessage.key).startswith("vote:1:opened:")
        )
        posted_ts = (await s.exec(q)).one()
    assert (await slack.slash("vote V1 no", user="U2", user_name="bo"))[0] == 200
    await slack.settle()
    assert slack.fake.of("chat.update") == [], "typed: no clicked card; the outbox edits it later"
    await slack.advance_to(slack.clock.now() + timedelta(minutes=1))
    [edited] = slack.fake.of("chat.update")
    assert edited["channel"] == "C1" and edited["ts"] == posted_ts
    assert "Participation: 1 of 2 voted" in edited["text"] and "no 1" in edited["text"]
    slack.check_all()
