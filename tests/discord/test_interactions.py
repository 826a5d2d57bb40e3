"""The real client (`client.start()`) against the loopback Discord server: slash commands, modals,
autocompletion, buttons, and what the outbox sends — checked on the REST calls Discord would get."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.clock import VirtualClock
from bot.command import UserRef, Where
from bot.reply import Response
from storage.db import Database
from storage.models import Member, Proposal
from tests.discord.conftest import Bot, assert_no_pings, start_bot
from tests.fakes.discord_server import DiscordServer, FakeUser, Recorded

EPHEMERAL = 64
CHANNEL_MESSAGES = r"^/channels/(\d+)/messages$"


def data(rec: Recorded) -> dict[str, Any]:
    return rec.body.get("data") or {}


def embed_text(body: dict[str, Any]) -> str:
    parts: list[str] = [body.get("content") or ""]
    for e in body.get("embeds") or []:
        parts += [e.get("title", ""), e.get("description", ""), e.get("footer", {}).get("text", "")]
        parts += [f"{f['name']}: {f['value']}" for f in e.get("fields", [])]
    return "\n".join(parts)


def custom_ids(body: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in body.get("components") or [] for c in row["components"]]


async def setup_group(bot: Bot, convener: FakeUser, *others: FakeUser) -> None:
    rec = await bot.command(["bind"], convener)
    assert "bound" in embed_text(data(rec))
    await bot.command(["join"], convener, group="civil-society", region="weog", tz="Europe/Paris")
    for user in others:
        await bot.command(["join"], user, group="government", region="african")


async def test_commands_are_synced_from_the_grammar_with_choices_and_autocomplete(
    bot: Bot, server: DiscordServer
) -> None:
    (put,) = server.matching("PUT", r"^/applications/\d+/commands$")
    [wg] = [c for c in put.body if c["name"] == "wg"]  # beside it: the "Summarize thread" message menu
    subs = {o["name"]: o for o in wg["options"]}
    assert {"bind", "join", "propose", "proposals", "show"} <= set(subs)
    vote = {o["name"]: o for o in subs["vote"]["options"]}
    assert subs["vote"]["type"] == 2 and {"open", "cast", "close", "results"} <= set(vote)
    assert "results" not in subs, "results sits under /wg vote (the 25-subcommand cap)"
    join = {o["name"]: o for o in subs["join"]["options"]}
    assert join["group"]["required"] is True
    assert [c["value"] for c in join["group"]["choices"]][:2] == ["civil-society", "government"]
    assert "weog" in [c["value"] for c in join["region"]["choices"]]
    assert join["tz"]["autocomplete"] is True
    assert subs["show"]["options"][0]["autocomplete"] is True
    meeting = {o["name"]: o for o in subs["meeting"]["options"]}
    assert subs["meeting"]["type"] == 2 and {"schedule", "cancel"} <= set(meeting)


async def test_bind_join_and_propose_through_a_modal(
    bot: Bot, server: DiscordServer, db: Database, alice: FakeUser
) -> None:
    rec = await bot.command(["bind"], alice)
    assert rec.body["type"] == 4 and not (data(rec).get("flags", 0) & EPHEMERAL)
    assert "created and bound" in embed_text(data(rec))

    rec = await bot.command(["join"], alice, group="civil-society", region="weog", tz="Europe/Paris")
    assert data(rec)["flags"] & EPHEMERAL, "a profile confirmation is private"
    assert "convener" in embed_text(data(rec))
    async with db.session() as s:
        (member,) = (await s.exec(select(Member))).all()
    assert (member.stakeholder_group, member.region, member.timezone) == ("civil-society", "weog", "Europe/Paris")

    rec = await bot.command(["propose"], alice)
    assert rec.body["type"] == 9, "no title and body: the form opens"
    modal = data(rec)
    assert modal["custom_id"] == "wgf:propose"
    inputs = [c["custom_id"] for row in modal["components"] for c in row["components"]]
    assert inputs == ["title", "body", "theme"]

    token = await server.push_modal_submit(
        "wgf:propose",
        {"title": "@everyone read this", "body": "A shared taxonomy. cc @here <@&42>", "theme": ""},
        user=alice,
    )
    rec = await bot.callback(token)
    assert data(rec)["flags"] & EPHEMERAL
    assert "P1 recorded" in embed_text(data(rec))

    since = server.mark()
    await bot.app.run_due()
    (post,) = await server.wait_request("POST", CHANNEL_MESSAGES, since=since)
    assert post.path == f"/channels/{server.channel_id}/messages"
    text = embed_text(post.body)
    assert "New proposal P1" in text and "@everyone" not in text and "@\u200beveryone" in text
    assert post.body["allowed_mentions"] == {"parse": []}
    assert post.body["enforce_nonce"] is True and 0 < len(post.body["nonce"]) <= 25
    assert_no_pings(server)


async def test_proposals_list_and_id_autocompletion(
    bot: Bot, server: DiscordServer, db: Database, alice: FakeUser
) -> None:
    await setup_group(bot, alice)
    await bot.command(["propose"], alice, title="Shared incident taxonomy", body="Adopt v1.")
    await bot.command(["propose"], alice, title="Red-teaming norms", body="Publish them.")
    async with db.session() as s:
        assert len((await s.exec(select(Proposal))).all()) == 2

    rec = await bot.command(["proposals"], alice, status="all")
    assert rec.body["type"] == 4
    listing = embed_text(data(rec))
    # brackets are escaped markdown (Discord shows `\[open\]` as [open])
    assert "P1 \\[open\\] Shared incident taxonomy" in listing and "P2 \\[open\\] Red-teaming norms" in listing

    token = await server.push_autocomplete(["wg", "show"], {"id": "norms"}, "id", user=alice)
    rec = await bot.callback(token)
    assert rec.body["type"] == 8
    assert rec.body["data"]["choices"] == [{"name": "P2: Red-teaming norms [open]", "value": "P2"}]

    token = await server.push_autocomplete(["wg", "show"], {"id": ""}, "id", user=alice)
    values = [c["value"] for c in (await bot.callback(token)).body["data"]["choices"]]
    assert values == ["P2", "P1"], "newest first"

    token = await server.push_autocomplete(["wg", "join"], {"group": "academia", "tz": "europe/par"}, "tz", user=alice)
    assert {"name": "Europe/Paris", "value": "Europe/Paris"} in (await bot.callback(token)).body["data"]["choices"]

    rec = await bot.command(["show"], alice, id="P9")
    assert data(rec)["flags"] & EPHEMERAL and "no proposal P9" in embed_text(data(rec))


async def test_ready_twice_syncs_once_and_handles_each_click_once(
    bot: Bot, server: DiscordServer, alice: FakeUser
) -> None:
    client = bot.client
    client.ready_event.clear()
    await server.push_ready_again()
    await asyncio.wait_for(client.ready_event.wait(), 60)
    client.ready_event.clear()
    await server.invalidate_session()  # the client must IDENTIFY again: a new session, on_ready again
    await asyncio.wait_for(client.ready_event.wait(), 60)
    assert client.ready_count == 3 and server.identifies == 3
    assert len(server.matching("PUT", r"^/applications/\d+/commands$")) == 1
    assert client.synced == 1

    # the persistent components were registered once: one click, one answer
    await setup_group(bot, alice)
    await bot.command(["propose"], alice, title="Taxonomy", body="Adopt v1.")
    message = server.store(
        server.message_payload(
            server.channel_id,
            {
                "components": [
                    {"type": 1, "components": [{"type": 2, "style": 2, "label": "Show", "custom_id": "wg:show P1"}]}
                ]
            },
        )
    )
    token = await server.push_click(message, "wg:show P1", user=alice)
    rec = await bot.callback(token)
    assert "P1: Taxonomy" in embed_text(data(rec))
    await bot.client.bridge.drain()
    assert len(server.matching("POST", rf"^/interactions/\d+/{token}/callback$")) == 1


async def test_slow_commands_defer_then_follow_up(
    server: DiscordServer, db: Database, clock: VirtualClock, alice: FakeUser
) -> None:
    bot = await start_bot(server, db, clock, defer_after=0.0)  # every command counts as slow
    try:
        since = server.mark()
        token = await server.push_command(["wg", "bind"], {}, user=alice)
        rec = await bot.callback(token)
        assert rec.body == {"type": 5, "data": {"flags": EPHEMERAL}}, "deferred, thinking, privately"
        (follow,) = await server.wait_request("POST", rf"^/webhooks/\d+/{token}$", since=since)
        assert "created and bound" in embed_text(follow.body)
        assert not (follow.body.get("flags", 0) & EPHEMERAL), "a public answer is a public follow-up"
        assert server.matching("DELETE", rf"^/webhooks/\d+/{token}/messages/@original$", since=since)

        token = await server.push_command(["wg", "join"], {"group": "academia"}, user=alice)
        (follow,) = await server.wait_request("POST", rf"^/webhooks/\d+/{token}$", since=since)
        assert follow.body["flags"] & EPHEMERAL and "Welcome" in embed_text(follow.body)
        assert_no_pings(server)
    finally:
        await bot.stop()


async def _meeting_message(bot: Bot, server: DiscordServer, convener: FakeUser) -> dict[str, Any]:
    rec = await bot.command(
        ["meeting", "schedule"], convener, title="Taxonomy call @everyone", at="2026-01-06T10:00Z", remind="24h,1h"
    )
    assert "M1 scheduled" in embed_text(data(rec)), embed_text(data(rec))
    since = server.mark()
    await bot.app.run_due()
    (post,) = await server.wait_request("POST", CHANNEL_MESSAGES, since=since)
    assert custom_ids(post.body) == ["wg:rsvp M1 yes", "wg:rsvp M1 no", "wg:rsvp M1 maybe"]
    (message,) = [m for m in server.bot_messages() if custom_ids(m)]
    return message


async def _rsvp(db: Database, name: str) -> str | None:
    from storage.models import Identity, Rsvp

    async with db.session() as s:
        ident = (await s.exec(select(Identity).where(Identity.handle == name))).one()
        row = (await s.exec(select(Rsvp).where(Rsvp.member_id == ident.member_id))).first()
        return row.answer if row else None


async def test_meeting_rsvp_click_updates_the_card_and_reminders_arrive_by_dm(
    bot: Bot, server: DiscordServer, db: Database, clock: VirtualClock, alice: FakeUser, bob: FakeUser
) -> None:
    await setup_group(bot, alice, bob)
    message = await _meeting_message(bot, server, alice)

    since = server.mark()
    token = await server.push_click(message, "wg:rsvp M1 yes", user=bob)
    rec = await bot.callback(token)
    assert rec.body["type"] == 7, "the clicked card is updated in place"
    assert "yes 1" in embed_text(data(rec)).lower() or "1 yes" in embed_text(data(rec)).lower()
    assert custom_ids(data(rec)) == custom_ids(message), "the buttons stay"
    (confirm,) = await server.wait_request("POST", rf"^/webhooks/\d+/{token}$", since=since)
    assert confirm.body["flags"] & EPHEMERAL and "yes" in embed_text(confirm.body)
    assert await _rsvp(db, "bob") == "yes"

    # 24 h before the meeting: a reminder in the channel and by DM to each member
    clock.advance(timedelta(hours=1))
    since = server.mark()
    await bot.app.run_due()
    dms = await server.wait_request("POST", r"^/users/@me/channels$", since=since, count=2)
    assert {int(r.body["recipient_id"]) for r in dms} == {alice.id, bob.id}
    posts = server.matching("POST", CHANNEL_MESSAGES, since=since)
    dm_posts = [p for p in posts if p.path != f"/channels/{server.channel_id}/messages"]
    assert len(dm_posts) == 2 and all("Reminder: M1" in embed_text(p.body) for p in dm_posts)
    assert all(custom_ids(p.body) == custom_ids(message) for p in dm_posts)

    # a click in the DM (no bound channel there) finds the group through the member
    (bob_dm,) = server.messages[server.dm_channel_of(bob.id)]
    token = await server.push_interaction(
        3,
        {"custom_id": "wg:rsvp M1 no", "component_type": 2},
        user=bob,
        channel_id=int(bob_dm["channel_id"]),
        message=bob_dm,
        dm=True,
    )
    assert (await bot.callback(token)).body["type"] == 7
    assert await _rsvp(db, "bob") == "no"
    assert_no_pings(server)


async def test_checkin_question_is_delivered_by_dm(
    bot: Bot, server: DiscordServer, clock: VirtualClock, alice: FakeUser, bob: FakeUser
) -> None:
    await setup_group(bot, alice, bob)
    rec = await bot.command(
        ["checkin", "schedule"], alice, question="How is the taxonomy going?", every="day", at="10:00"
    )
    assert "C1" in embed_text(data(rec)), embed_text(data(rec))
    # 10:00 in each member's zone: bob (UTC) gets it now; alice (Paris) had 10:00 already today
    clock.advance(timedelta(hours=1))
    since = server.mark()
    await bot.app.run_due()
    (dm,) = await server.wait_request("POST", r"^/users/@me/channels$", since=since)
    assert int(dm.body["recipient_id"]) == bob.id
    (post,) = server.matching("POST", rf"^/channels/{server.dm_channel_of(bob.id)}/messages$", since=since)
    assert "How is the taxonomy going?" in embed_text(post.body)
    assert post.body["allowed_mentions"] == {"parse": []} and post.body["enforce_nonce"] is True


async def test_rsvp_button_still_works_after_a_restart(
    server: DiscordServer, db: Database, clock: VirtualClock, alice: FakeUser, bob: FakeUser
) -> None:
    first = await start_bot(server, db, clock, worker="before")
    try:
        await setup_group(first, alice, bob)
        message = await _meeting_message(first, server, alice)
    finally:
        await first.stop()

    second = await start_bot(server, db, clock, worker="after")  # a new process: nothing in memory
    try:
        assert second.client is not first.client
        token = await server.push_click(message, "wg:rsvp M1 maybe", user=bob)
        rec = await second.callback(token)
        assert rec.body["type"] == 7
        assert await _rsvp(db, "bob") == "maybe"
    finally:
        await second.stop()


async def test_a_select_appends_its_choice_and_a_thread_belongs_to_its_parent_channel(
    bot: Bot, server: DiscordServer, alice: FakeUser
) -> None:
    from adapters.discord.render import render, to_payload
    from bot.reply import Actions, Option, Reply, Select

    await setup_group(bot, alice)
    await bot.command(["propose"], alice, title="Taxonomy", body="Adopt v1.")
    await bot.command(["propose"], alice, title="Norms", body="Publish them.")
    picker = Reply(
        blocks=[
            Actions(
                elements=[
                    Select(placeholder="Show…", action="show", options=[Option(label=p, value=p) for p in ("P1", "P2")])
                ]
            )
        ]
    )
    (body,) = to_payload(render(picker))
    message = server.store(server.message_payload(server.channel_id, body))
    token = await server.push_click(message, "wgs:show", user=alice, values=["P2"])
    rec = await bot.callback(token)
    assert "P2: Norms" in embed_text(data(rec))

    # in a thread, the channel is the thread's parent: binding there finds the parent already bound
    token = await server.push_command(["wg", "bind"], {}, user=alice, channel_id=server.thread_id)
    rec = await bot.callback(token)
    assert "already bound" in embed_text(data(rec))


async def test_a_form_opened_before_a_restart_can_be_submitted_after_it(
    server: DiscordServer, db: Database, clock: VirtualClock, alice: FakeUser
) -> None:
    first = await start_bot(server, db, clock, worker="before")
    try:
        await setup_group(first, alice)
        assert (await first.command(["propose"], alice)).body["type"] == 9
    finally:
        await first.stop()
    second = await start_bot(server, db, clock, worker="after")
    try:
        token = await server.push_modal_submit("wgf:propose", {"title": "Taxonomy", "body": "Adopt v1."}, user=alice)
        assert "P1 recorded" in embed_text(data(await second.callback(token)))
    finally:
        await second.stop()


async def test_one_persons_commands_apply_in_the_order_sent(
    bot: Bot, server: DiscordServer, db: Database, alice: FakeUser, bob: FakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """discord.py runs each interaction in its own task: alice's three quick commands must still
    apply in order even when the first is slow, while bob is not held up."""
    await setup_group(bot, alice, bob)
    bot.client.bridge.defer_after = 0.0  # every command defers at once: the defer shows it reached the bridge
    core = bot.client.bridge.core
    handle_text = core.handle_text
    log: list[str] = []
    first_may_finish = asyncio.Event()
    bob_done = asyncio.Event()

    async def observed(text: str, user: UserRef, where: Where, **kwargs: Any) -> Response:
        tag = f"{user.handle} {text.split()[0]}"
        slow = not log
        log.append(f"start {tag}")
        if slow:
            await first_may_finish.wait()
        try:
            return await handle_text(text, user, where, **kwargs)
        finally:
            log.append(f"end {tag}")
            if user.handle == "bob":
                bob_done.set()

    monkeypatch.setattr(core, "handle_text", observed)
    since = server.mark()
    tokens: list[str] = []
    try:
        tokens.append(await server.push_command(["wg", "propose"], {"title": "In order", "body": "First."}, user=alice))
        tokens.append(await server.push_command(["wg", "amend"], {"id": "P1", "body": "Second."}, user=alice))
        tokens.append(await server.push_command(["wg", "withdraw"], {"id": "P1"}, user=alice))
        bob_token = await server.push_command(["wg", "me"], {}, user=bob)
        for token in tokens:  # each was deferred: all three reached the bridge while the first is held
            assert (await bot.callback(token)).body["type"] == 5
        await asyncio.wait_for(bob_done.wait(), 60)  # bob ran meanwhile (a global queue would never get here)
        await server.wait_request("POST", rf"^/webhooks/\d+/{bob_token}$", since=since)
        assert [e for e in log if "alice" in e] == ["start alice propose"], "alice's next command did not wait"
    finally:
        first_may_finish.set()  # also when failing: the held task must not hang the teardown
    await bot.client.bridge.drain()

    assert [e for e in log if "alice" in e] == [
        "start alice propose",
        "end alice propose",
        "start alice amend",
        "end alice amend",
        "start alice withdraw",
        "end alice withdraw",
    ]
    async with db.session() as s:
        p = (await s.exec(select(Proposal))).one()
    assert p.status == "withdrawn" and p.body == "Second."
    answers = [
        embed_text(f.body)
        for token in tokens
        for f in await server.wait_request("POST", rf"^/webhooks/\d+/{token}$", since=since)
    ]
    assert len(answers) == 3 and "P1 recorded" in answers[0], answers
    assert not any("no proposal" in a.lower() or "went wrong" in a.lower() for a in answers), answers


async def test_privacy_export_is_an_ephemeral_json_file(bot: Bot, server: DiscordServer, alice: FakeUser) -> None:
    await bot.command(["bind"], alice)
    await bot.command(["join"], alice, group="civil-society", region="weog")
    since = len(server.requests)
    await bot.command(["privacy", "export"], alice)
    await bot.app.run_due()
    with_files = [r for r in server.requests[since:] if isinstance(r.body, dict) and r.body.get("files")]
    assert len(with_files) == 1, [r.path for r in server.requests[since:]]
    [sent] = with_files
    payload = sent.body.get("data", sent.body)
    assert payload.get("flags", 0) & 64, "ephemeral: only the member sees it"
    assert sent.body["files"][0].endswith(".json")
    data = json.loads(sent.body["file_contents"][0])
    assert data["profile"]["stakeholder_group"] == "civil-society" and data["identities"][0]["platform"] == "discord"
