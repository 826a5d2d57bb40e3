"""Votes on Discord through the loopback gateway and REST fake: buttons for consent and yes-no, string
selects for choice and approval, modals for ranked, score, a block's reason and more than 25 options;
the receipt is ephemeral and the clicked announcement is edited in place."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import func, select

from bot.clock import VirtualClock
from storage.db import Database
from storage.models import Ballot
from tests.discord.conftest import Bot, assert_no_pings
from tests.discord.test_interactions import CHANNEL_MESSAGES, EPHEMERAL, custom_ids, data, embed_text, setup_group
from tests.fakes.discord_server import DiscordServer, FakeUser


async def open_vote(bot: Bot, server: DiscordServer, convener: FakeUser, **options: Any) -> dict[str, Any]:
    """`/wg vote open …` as a convener; returns the announcement message in the bound channel."""
    await bot.app.run_due()  # earlier announcements out of the way
    rec = await bot.command(["vote", "open"], convener, **options)
    assert "opened" in embed_text(data(rec)), embed_text(data(rec))
    assert data(rec)["flags"] & EPHEMERAL
    since = server.mark()
    await bot.app.run_due()
    (post,) = await server.wait_request("POST", CHANNEL_MESSAGES, since=since)
    assert post.path == f"/channels/{server.channel_id}/messages"
    return next(m for m in reversed(server.bot_messages()) if m["id"] and custom_ids(m) == custom_ids(post.body))


def selects(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for row in message.get("components") or [] for c in row["components"] if c["type"] == 3]


async def ephemeral_followup(server: DiscordServer, token: str, since: int) -> str:
    (confirm,) = await server.wait_request("POST", rf"^/webhooks/\d+/{token}$", since=since)
    assert confirm.body["flags"] & EPHEMERAL, "the receipt is private"
    return embed_text(confirm.body)


async def test_yes_no_buttons_update_the_card_in_place_and_the_receipt_is_ephemeral(
    bot: Bot, server: DiscordServer, db: Database, alice: FakeUser, bob: FakeUser
) -> None:
    await setup_group(bot, alice, bob)
    message = await open_vote(bot, server, alice, subject="Adopt the charter?", method="yes-no")
    assert custom_ids(message) == ["wg:vote V1 yes", "wg:vote V1 no", "wg:vote V1 abstain"]
    assert "Participation: 0 of 2 voted" in embed_text(message)

    since = server.mark()
    token = await server.push_click(message, "wg:vote V1 yes", user=bob)
    rec = await bot.callback(token)
    assert rec.body["type"] == 7, "the announcement is edited in place"
    card = embed_text(data(rec))
    assert "Participation: 1 of 2 voted" in card and "yes 1" in card
    assert custom_ids(data(rec)) == custom_ids(message), "the buttons stay"
    receipt = await ephemeral_followup(server, token, since)
    assert "Your ballot on V1 is recorded: yes" in receipt and "Receipt" in receipt
    # changed by a second click: still one ballot
    await bot.callback(await server.push_click(message, "wg:vote V1 no", user=bob))
    async with db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Ballot))).one() == 1
        assert (await s.exec(select(Ballot.choice))).one() == {"answer": "no"}
    assert_no_pings(server)


async def test_consent_block_button_asks_for_the_reason_in_a_modal(
    bot: Bot, server: DiscordServer, alice: FakeUser, bob: FakeUser
) -> None:
    await setup_group(bot, alice, bob)
    await bot.command(["propose"], alice, title="Taxonomy", body="Adopt v1.")
    message = await open_vote(bot, server, alice, subject="P1")
    assert custom_ids(message)[-1] == "wg:vote V1 block"
    rec = await bot.callback(await server.push_click(message, "wg:vote V1 block", user=bob))
    assert rec.body["type"] == 9
    modal = data(rec)
    assert modal["custom_id"] == "wgf:vote V1 block"
    assert [c["custom_id"] for row in modal["components"] for c in row["components"]] == ["reason"]
    since = server.mark()
    token = await server.push_modal_submit("wgf:vote V1 block", {"reason": "Needs legal review"}, user=bob)
    rec = await bot.callback(token)
    assert data(rec)["flags"] & EPHEMERAL and "recorded: block" in embed_text(data(rec))
    assert since >= 0


async def test_choice_and_approval_selects(bot: Bot, server: DiscordServer, alice: FakeUser, bob: FakeUser) -> None:
    await setup_group(bot, alice, bob)
    message = await open_vote(bot, server, alice, subject="Venue?", method="choice", options="Geneva, Nairobi, Bangkok")
    (menu,) = selects(message)
    assert menu["custom_id"] == "wgs:vote V1" and menu["max_values"] == 1
    assert [o["value"] for o in menu["options"]] == ["A", "B", "C"] and menu["options"][1]["label"] == "B: Nairobi"
    since = server.mark()
    token = await server.push_click(message, "wgs:vote V1", user=bob, values=["B"])
    rec = await bot.callback(token)
    assert rec.body["type"] == 7 and "B 1" in embed_text(data(rec))
    assert "recorded: B" in await ephemeral_followup(server, token, since)

    message = await open_vote(
        bot, server, alice, subject="Workstreams?", method="approval", options="Taxonomy, Training, Red-teaming"
    )
    (menu,) = selects(message)
    assert menu["custom_id"] == "wgs:vote V2" and menu["max_values"] == 3
    since = server.mark()
    token = await server.push_click(message, "wgs:vote V2", user=bob, values=["A", "C"])
    assert (await bot.callback(token)).body["type"] == 7
    assert "recorded: A, C" in await ephemeral_followup(server, token, since)


async def test_ranked_and_score_open_a_modal(bot: Bot, server: DiscordServer, alice: FakeUser, bob: FakeUser) -> None:
    await setup_group(bot, alice, bob)
    message = await open_vote(bot, server, alice, subject="Venue?", method="ranked", options="Geneva, Nairobi, Bangkok")
    assert custom_ids(message) == ["wg:vote V1"]
    rec = await bot.callback(await server.push_click(message, "wg:vote V1", user=bob))
    assert rec.body["type"] == 9
    modal = data(rec)
    inputs = [c for row in modal["components"] for c in row["components"]]
    assert [c["custom_id"] for c in inputs] == ["rank-1", "rank-2", "rank-3", "reason"]
    assert inputs[0]["placeholder"] == "One of: A, B, C"
    # a repeated rank is refused privately; nothing is recorded
    rec = await bot.callback(await server.push_modal_submit("wgf:vote V1", {"rank-1": "B", "rank-2": "b"}, user=bob))
    assert data(rec)["flags"] & EPHEMERAL and "ranked twice" in embed_text(data(rec))
    rec = await bot.callback(
        await server.push_modal_submit("wgf:vote V1", {"rank-1": "C", "rank-2": "A", "rank-3": ""}, user=bob)
    )
    assert data(rec)["flags"] & EPHEMERAL and "recorded: C > A" in embed_text(data(rec))

    # six options: one input per option would not fit Discord's five, so the modal asks for one line
    message = await open_vote(bot, server, alice, subject="Priorities?", method="score", options="a, b, c, d, e, f")
    rec = await bot.callback(await server.push_click(message, "wg:vote V2", user=bob))
    inputs = [c for row in data(rec)["components"] for c in row["components"]]
    assert [c["custom_id"] for c in inputs] == ["choice", "reason"]
    rec = await bot.callback(await server.push_modal_submit("wgf:vote V2", {"choice": "A=5, F=2"}, user=bob))
    assert "recorded: A=5, F=2" in embed_text(data(rec))


async def test_more_than_25_options_fall_back_to_a_form_and_say_so(
    bot: Bot, server: DiscordServer, alice: FakeUser, bob: FakeUser
) -> None:
    await setup_group(bot, alice, bob)
    names = ", ".join(f"City {i}" for i in range(30))
    message = await open_vote(bot, server, alice, subject="Host city?", method="choice", options=names)
    assert not selects(message) and custom_ids(message) == ["wg:vote V1"]
    assert "more than a menu holds" in embed_text(message)
    rec = await bot.callback(await server.push_click(message, "wg:vote V1", user=bob))
    inputs = [c for row in data(rec)["components"] for c in row["components"]]
    assert [c["custom_id"] for c in inputs] == ["choice", "reason"]
    rec = await bot.callback(await server.push_modal_submit("wgf:vote V1", {"choice": "AB"}, user=bob))
    assert "recorded: AB" in embed_text(data(rec))


async def test_a_typed_ballot_edits_the_announcement_in_place_through_the_outbox(
    bot: Bot, server: DiscordServer, clock: VirtualClock, alice: FakeUser, bob: FakeUser
) -> None:
    await setup_group(bot, alice, bob)
    message = await open_vote(bot, server, alice, subject="Adopt the charter?", method="yes-no")
    rec = await bot.command(["vote", "cast"], bob, id="V1", choice="yes")
    assert data(rec)["flags"] & EPHEMERAL and "recorded: yes" in embed_text(data(rec))
    clock.advance(timedelta(minutes=1))
    since = server.mark()
    await bot.app.run_due()
    (edit,) = await server.wait_request(
        "PATCH", rf"^/channels/{server.channel_id}/messages/{message['id']}$", since=since
    )
    assert "Participation: 1 of 2 voted" in embed_text(edit.body) and "yes 1" in embed_text(edit.body)
    assert custom_ids(edit.body) == ["wg:vote V1 yes", "wg:vote V1 no", "wg:vote V1 abstain"]
    assert edit.body["allowed_mentions"] == {"parse": []}
    # closing edits it once more, without the buttons
    await bot.command(["vote", "close"], alice, id="V1")
    since = server.mark()
    await bot.app.run_due()
    edits = await server.wait_request(
        "PATCH", rf"^/channels/{server.channel_id}/messages/{message['id']}$", since=since
    )
    assert "Outcome: adopted" in embed_text(edits[-1].body) and custom_ids(edits[-1].body) == []
