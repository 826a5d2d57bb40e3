"""The Slack adapter through its real entry points: signed HTTP requests into the Bolt app on loopback,
answers observed as Web API calls on the fake Slack server."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlmodel import func, select

from bot.command import UserRef, Where
from bot.reply import Response
from storage.models import Member, Proposal
from tests.conftest import table_snapshot
from tests.slack.conftest import SlackEnv

ZWSP = "\u200b"


async def setup_group(slack: SlackEnv) -> None:
    """#wg bound, Ana (U1, convener) and Bo (U2) joined."""
    assert (await slack.slash("bind"))[0] == 200
    assert (await slack.slash("join civil-society region:latin-american-caribbean"))[0] == 200
    # Ana's two commands run in order; Bo's is someone else's and may run at once: he needs the
    # channel bound, and Ana to have joined first to be the convener, so wait for her work to finish
    await slack.settle()
    assert (await slack.slash("join academia", user="U2", user_name="bo"))[0] == 200
    await slack.settle()
    slack.fake.clear()


def texts(calls: list[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(c, ensure_ascii=False) for c in calls)


async def test_bind_join_propose_and_list(slack: SlackEnv) -> None:
    status, body = await slack.slash("bind")
    assert status == 200 and body == ""  # acknowledged at once, answered through the Web API
    await slack.settle()
    assert slack.fake.of("conversations.join") == [{"channel": "C1"}]
    [bound] = slack.fake.of("chat.postMessage")
    assert bound["channel"] == "C1" and "created and bound" in bound["text"]

    slack.fake.clear()
    await slack.slash("join civil-society region:latin-american-caribbean")
    await slack.settle()
    assert [c["user"] for c in slack.fake.of("users.info")] == ["U1"]
    [welcome] = slack.fake.of("chat.postEphemeral")
    assert welcome["channel"] == "C1" and welcome["user"] == "U1"
    assert "Welcome" in welcome["text"] and "America/Sao_Paulo" in welcome["text"]  # Slack's tz became the default
    async with slack.app.db.session() as s:
        ana = (await s.exec(select(Member))).one()
    assert ana.display_name == "Ana" and ana.timezone == "America/Sao_Paulo" and ana.role == "convener"

    slack.fake.clear()
    await slack.slash('propose "Shared taxonomy" One taxonomy for AI incidents. theme:"cybersecurity of AI"')
    await slack.settle()
    [receipt] = slack.fake.of("chat.postEphemeral")
    assert "P1 recorded" in receipt["text"]
    [card] = slack.fake.of("chat.postMessage")  # the announcement, delivered by the outbox
    assert card["channel"] == "C1" and card["unfurl_links"] is False and card["unfurl_media"] is False
    assert card["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "New proposal P1: Shared taxonomy", "emoji": True},
    }
    assert "One taxonomy for AI incidents." in texts([card])

    slack.fake.clear()
    await slack.slash("proposals")
    await slack.settle()
    [listing] = slack.fake.of("chat.postMessage")
    assert listing["channel"] == "C1" and "thread_ts" not in listing
    assert "P1 [open] Shared taxonomy" in listing["text"]
    assert all(c.authorization == "Bearer xoxb-test-token-not-real" for c in slack.fake.calls)


async def test_errors_are_ephemeral_with_usage(slack: SlackEnv) -> None:
    await setup_group(slack)
    await slack.slash("frobnicate now")
    await slack.settle()
    assert slack.fake.of("chat.postMessage") == []
    [err] = slack.fake.of("chat.postEphemeral")
    assert "Unknown command `frobnicate`" in err["text"] and err["user"] == "U1"


async def test_private_reply_falls_back_to_response_url(slack: SlackEnv) -> None:
    """In a conversation the bot is not part of, chat.postEphemeral fails: the response_url still works."""
    await setup_group(slack)
    slack.fake.fail_next("chat.postEphemeral", error="channel_not_found")
    await slack.slash("me", channel="D9", channel_name="directmessage")
    await slack.settle()
    [answer] = slack.fake.responses
    assert answer.body["response_type"] == "ephemeral" and "civil-society" in answer.body["text"]


async def test_propose_modal_then_submission(slack: SlackEnv) -> None:
    await setup_group(slack)
    await slack.slash("propose")
    await slack.settle()
    [opened] = slack.fake.of("views.open")
    assert opened["trigger_id"].startswith("trigger-")
    view = opened["view"]
    assert view["callback_id"] == "wg_form"
    assert [b["block_id"] for b in view["blocks"]] == ["title", "body", "theme"]
    assert slack.fake.of("chat.postEphemeral") == []  # the usage error is not shown when the modal opened
    meta = json.loads(view["private_metadata"])
    assert meta["channel"] == "C1"

    submitted = {
        "type": "view_submission",
        "user": {"id": "U1", "username": "ana", "name": "ana"},
        "trigger_id": "trigger-x",
        "view": {
            **view,
            "id": "V1",
            "state": {
                "values": {
                    "title": {"value": {"type": "plain_text_input", "value": 'A "quoted" title'}},
                    "body": {"value": {"type": "plain_text_input", "value": "Line one\nline two: with colon"}},
                    "theme": {"value": {"type": "plain_text_input", "value": None}},
                }
            },
        },
    }
    slack.fake.clear()
    status, body = await slack.interact(submitted)
    assert status == 200 and body == ""  # the modal closes
    await slack.settle()
    [receipt] = slack.fake.of("chat.postEphemeral")
    assert "P1 recorded" in receipt["text"]
    async with slack.app.db.session() as s:
        p = (await s.exec(select(Proposal))).one()
    assert p.title == 'A "quoted" title' and p.body == "Line one\nline two: with colon"

    # a mistake keeps the modal open, with the error next to the field
    submitted["view"]["state"]["values"]["theme"]["value"]["value"] = "astrology"
    status, body = await slack.interact(submitted)
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors" and "astrology" in answer["errors"]["title"].lower()
    async with slack.app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Proposal))).one() == 1


async def test_a_submission_slower_than_the_form_wait_closes_the_modal_and_is_answered_after(slack: SlackEnv) -> None:
    """The other path (the fixture's long wait keeps the tests above off it): a core slower than the
    adapter's wait (2 s in production; 0 here) gets the modal closed at once and its answer later."""
    await setup_group(slack)
    await slack.slash("propose")
    await slack.settle()
    [opened] = slack.fake.of("views.open")
    view = opened["view"]
    values = {
        "title": {"value": {"type": "plain_text_input", "value": "Slow"}},
        "body": {"value": {"type": "plain_text_input", "value": "Answered after the modal closed."}},
        "theme": {"value": {"type": "plain_text_input", "value": "astrology"}},  # an error, shown later
    }
    submitted = {
        "type": "view_submission",
        "user": {"id": "U1", "username": "ana", "name": "ana"},
        "trigger_id": "trigger-slow",
        "view": {**view, "state": {"values": values}},
    }
    slack.fake.clear()
    slack.adapter.form_wait = 0.0
    status, body = await slack.interact(submitted)
    assert status == 200 and body == ""  # closed, not errors in the modal: the core had not answered
    await slack.settle()
    [answer] = slack.fake.of("chat.postEphemeral")
    assert answer["user"] == "U1" and "astrology" in answer["text"].lower()
    async with slack.app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Proposal))).one() == 0


async def test_mention_in_thread_answers_in_the_thread(slack: SlackEnv) -> None:
    await setup_group(slack)
    await slack.slash('propose "Shared taxonomy" One taxonomy.')
    await slack.settle()
    slack.fake.clear()
    event = {
        "type": "app_mention",
        "user": "U2",
        "text": "<@UBOT> proposals",
        "ts": "1767600100.000200",
        "thread_ts": "1767600000.000100",
        "channel": "C1",
        "channel_type": "channel",
    }
    status, _ = await slack.event(event)
    assert status == 200
    await slack.settle()
    [listing] = slack.fake.of("chat.postMessage")
    assert listing["channel"] == "C1" and listing["thread_ts"] == "1767600000.000100"
    assert "P1 [open] Shared taxonomy" in listing["text"]


async def test_dm_message_is_a_command(slack: SlackEnv) -> None:
    await setup_group(slack)
    event = {"type": "message", "user": "U2", "text": "me", "ts": "1.2", "channel": "D2", "channel_type": "im"}
    await slack.event(event)
    await slack.settle()
    [answer] = slack.fake.of("chat.postEphemeral")
    assert answer["channel"] == "D2" and "academia" in answer["text"]


async def test_button_and_select_clicks_decode_into_commands(slack: SlackEnv) -> None:
    await setup_group(slack)
    await slack.slash('propose "Shared taxonomy" One taxonomy.')
    await slack.settle()
    slack.fake.clear()
    base = {
        "type": "block_actions",
        "user": {"id": "U2", "username": "bo", "name": "bo"},
        "channel": {"id": "C1", "name": "wg"},
        "container": {"type": "message", "message_ts": "1767600000.000009", "channel_id": "C1"},
        "message": {"ts": "1767600000.000009", "text": "x"},
        "response_url": slack.fake.response_url("click"),
        "trigger_id": "trigger-click",
    }
    await slack.interact({**base, "actions": [{"type": "button", "action_id": "wg:show P1", "value": "show P1"}]})
    await slack.settle()
    [shown] = slack.fake.of("chat.postMessage")
    assert shown["blocks"][0]["text"]["text"].startswith("P1") and "One taxonomy." in texts([shown])

    slack.fake.clear()
    select_action = {
        "type": "static_select",
        "action_id": "wg:proposals",
        "selected_option": {"text": {"type": "plain_text", "text": "All"}, "value": "all"},
    }
    await slack.interact({**base, "actions": [select_action]})
    await slack.settle()
    [listing] = slack.fake.of("chat.postMessage")
    assert "Proposals (all): 1" in listing["text"]

    slack.fake.clear()  # an action id that is not ours is ignored
    await slack.interact({**base, "actions": [{"type": "button", "action_id": "other:thing", "value": "withdraw P1"}]})
    await slack.settle()
    assert slack.fake.calls == []


async def test_bad_signature_and_stale_timestamp_are_rejected(slack: SlackEnv) -> None:
    await setup_group(slack)
    before = await table_snapshot(slack.app.db)
    body = slack.event_body(
        {"type": "app_mention", "user": "U1", "text": "<@UBOT> join government", "ts": "1.1", "channel": "C1"}
    )
    status, _ = await slack.post(body, "application/json", secret="not-the-secret")
    assert status == 401
    status, _ = await slack.post(body, "application/json", timestamp=int(time.time()) - 6 * 60)
    assert status == 401
    status, _ = await slack.post(body, "application/json", headers={"X-Slack-Signature": "v0=deadbeef"})
    assert status == 401
    await slack.settle()
    assert slack.fake.calls == []
    assert await table_snapshot(slack.app.db) == before


async def test_retried_event_has_one_effect(slack: SlackEnv) -> None:
    await setup_group(slack)
    body = slack.event_body(
        {
            "type": "app_mention",
            "user": "U1",
            "text": '<@UBOT> propose "Once only" Delivered four times.',
            "ts": "1767600200.000100",
            "channel": "C1",
        },
        event_id="Ev0RETRY",
    )
    deliveries: list[dict[str, str] | None] = [
        None,
        {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
        {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"},
        None,
    ]
    for headers in deliveries:
        status, _ = await slack.post(body, "application/json", headers=headers)
        assert status == 200
    await slack.settle()
    async with slack.app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Proposal))).one() == 1
    assert len(slack.fake.of("chat.postEphemeral")) == 1
    assert len(slack.fake.of("chat.postMessage")) == 1  # one announcement


async def test_event_whose_handling_failed_runs_when_slack_retries(
    slack: SlackEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure while handling an event must not mark it handled: Slack's retry then does the work."""
    from bot.services.context import HANDLERS

    await setup_group(slack)
    propose = HANDLERS["propose"]
    failures: list[str] = []

    async def fails_once(ctx: Any) -> Any:
        if not failures:
            failures.append("boom")
            raise RuntimeError("the database went away")
        return await propose(ctx)

    monkeypatch.setitem(HANDLERS, "propose", fails_once)
    body = slack.event_body(
        {
            "type": "app_mention",
            "user": "U1",
            "text": '<@UBOT> propose "After a failure" Delivered again by Slack.',
            "ts": "1767600300.000100",
            "channel": "C1",
        },
        event_id="Ev0FAILED",
    )
    assert (await slack.post(body, "application/json"))[0] == 200
    await slack.settle()
    assert failures == ["boom"]
    async with slack.app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Proposal))).one() == 0
    [oops] = slack.fake.of("chat.postEphemeral")
    assert "went wrong" in oops["text"]

    slack.fake.clear()
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    assert (await slack.post(body, "application/json", headers=retry))[0] == 200
    await slack.settle()
    async with slack.app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Proposal))).one() == 1
    [receipt] = slack.fake.of("chat.postEphemeral")
    assert "P1 recorded" in receipt["text"]

    slack.fake.clear()  # handled now: a further retry does nothing
    retry = {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"}
    assert (await slack.post(body, "application/json", headers=retry))[0] == 200
    await slack.settle()
    async with slack.app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Proposal))).one() == 1
    assert slack.fake.calls == []


async def test_socket_mode_duplicate_envelope_has_one_effect(slack: SlackEnv) -> None:
    """Socket Mode delivers envelopes without signatures; a duplicate is dropped by event_id too."""
    from slack_bolt.request.async_request import AsyncBoltRequest

    await setup_group(slack)
    body = slack.event_body(
        {"type": "app_mention", "user": "U1", "text": '<@UBOT> propose "Socket" Twice.', "ts": "9.1", "channel": "C1"},
        event_id="Ev0SOCKET",
    )
    for _ in range(2):
        response = await slack.adapter.app.async_dispatch(AsyncBoltRequest(body=body, mode="socket_mode"))
        assert response.status == 200
    await slack.settle()
    async with slack.app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Proposal))).one() == 1


async def test_hostile_title_reaches_slack_escaped(slack: SlackEnv) -> None:
    await setup_group(slack)
    # what Slack sends when someone types: propose "<!channel> @here &lt;" …  (should_escape on)
    await slack.slash('propose "&lt;!channel&gt; <!here> &amp;lt;" Body with <@U2|bo> &amp; more')
    await slack.settle()
    async with slack.app.db.session() as s:
        p = (await s.exec(select(Proposal))).one()
    assert p.title == "<!channel> @here &lt;"
    [card] = slack.fake.of("chat.postMessage")
    raw = texts([card])
    assert "<!channel>" not in raw and "<!here>" not in raw and "<@U2>" not in raw
    assert f"&lt;{ZWSP}!channel&gt; @{ZWSP}here &amp;lt;" in card["text"]
    section_texts = [b["text"]["text"] for b in card["blocks"] if b["type"] == "section" and "text" in b]
    assert any(f"&lt;{ZWSP}@U2&gt; &amp; more" in t for t in section_texts)


async def test_meeting_card_rsvp_click_updates_the_message(slack: SlackEnv) -> None:
    await setup_group(slack)
    await slack.slash('meeting "Kickoff" at:2026-01-06T15:00Z')
    await slack.settle()
    cards = [c for c in slack.fake.of("chat.postMessage") if "Kickoff" in c["text"]]
    assert cards, slack.fake.methods()
    card = cards[0]
    buttons = [e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]
    yes = next(b for b in buttons if b["value"] == "rsvp M1 yes")
    slack.fake.clear()
    await slack.interact(
        {
            "type": "block_actions",
            "user": {"id": "U2", "username": "bo", "name": "bo"},
            "channel": {"id": "C1", "name": "wg"},
            "container": {"type": "message", "message_ts": "1767600000.000042", "channel_id": "C1"},
            "message": {"ts": "1767600000.000042", "text": card["text"]},
            "response_url": slack.fake.response_url("rsvp"),
            "trigger_id": "trigger-rsvp",
            "actions": [{"type": "button", "action_id": yes["action_id"], "value": yes["value"]}],
        }
    )
    await slack.settle()
    [updated] = slack.fake.of("chat.update")
    assert updated["channel"] == "C1" and updated["ts"] == "1767600000.000042"
    assert "Kickoff" in updated["text"] and "RSVP: 1 yes" in updated["text"]
    assert any(b["type"] == "actions" for b in updated["blocks"])  # the buttons stay for the others
    [confirm] = slack.fake.of("chat.postEphemeral")
    assert confirm["user"] == "U2"


async def test_one_persons_commands_apply_in_the_order_sent(slack: SlackEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each slash command is acknowledged at once and handled in a background task; Ana's three
    commands must still apply in order even when the first is slow, while Bo is not held up."""
    await setup_group(slack)
    core = slack.app.core
    handle_text = core.handle_text
    log: list[str] = []
    first_may_finish = asyncio.Event()
    bo_done = asyncio.Event()

    async def observed(text: str, user: UserRef, where: Where, **kwargs: Any) -> Response:
        tag = f"{user.user_id} {text.split()[0]}"
        slow = not log
        log.append(f"start {tag}")
        if slow:
            await first_may_finish.wait()
        try:
            return await handle_text(text, user, where, **kwargs)
        finally:
            log.append(f"end {tag}")
            if user.user_id == "U2":
                bo_done.set()

    monkeypatch.setattr(core, "handle_text", observed)
    try:
        assert (await slack.slash('propose "In order" First body.'))[0] == 200
        assert (await slack.slash("amend P1 Second body."))[0] == 200
        assert (await slack.slash("withdraw P1"))[0] == 200
        assert (await slack.slash("me", user="U2", user_name="bo"))[0] == 200
        # Bo's command runs while Ana's first is still held (a global queue would never get here)
        await asyncio.wait_for(bo_done.wait(), 60)
        assert [e for e in log if "U1" in e] == ["start U1 propose"], "Ana's next command did not wait"
    finally:
        first_may_finish.set()  # also when failing: the held task must not hang the teardown
    await slack.settle()

    assert [e for e in log if "U1" in e] == [
        "start U1 propose",
        "end U1 propose",
        "start U1 amend",
        "end U1 amend",
        "start U1 withdraw",
        "end U1 withdraw",
    ]
    async with slack.app.db.session() as s:
        p = (await s.exec(select(Proposal))).one()
    assert p.status == "withdrawn" and p.body == "Second body."
    answers = [c["text"] for c in slack.fake.of("chat.postEphemeral") if c["user"] == "U1"]
    assert len(answers) == 3 and "P1 recorded" in answers[0], answers
    assert not any("error" in a.lower() or "no proposal" in a.lower() for a in answers), answers


async def test_unsigned_requests_with_malformed_bodies_or_timestamps_get_401_not_500(slack: SlackEnv) -> None:
    """The signature is checked on the raw bytes before anything is parsed: an unsigned request whose
    body is broken JSON (or 200,000 nested brackets) or whose timestamp is not a number used to reach
    Bolt's parser first and get a 500 with a traceback."""
    await setup_group(slack)
    before = await table_snapshot(slack.app.db)
    for body in ("{not json", "[" * 200_000, '{"type": "event_callback", "event": '):
        status, _ = await slack.post(body, "application/json", secret="not-the-secret")
        assert status == 401, body[:20]
    for stamp in ("abc", "9" * 400, "-5", "1e9", ""):
        status, _ = await slack.post("{}", "application/json", headers={"X-Slack-Request-Timestamp": stamp})
        assert status == 401, stamp[:20]
    # a signature header that is not ASCII (a raw client can send one; compare_digest raised on it)
    stamp = str(int(time.time()))
    for signature in ("v0=\xff", "v0=é" + "a" * 60, ""):
        assert not slack.adapter._signed(b"{}", {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature})
    await slack.settle()
    assert slack.fake.calls == []
    assert await table_snapshot(slack.app.db) == before
    status, _ = await slack.slash("help")  # a signed request is still served
    assert status == 200


async def _proposed_once(slack: SlackEnv, body_text: str) -> tuple[str, int, dict[str, list[tuple[object, ...]]], int]:
    """A group, then Ana's signed `/wg propose "Said once" <body_text>` sent once as Slack sends it:
    the request's body and timestamp (to replay), and the tables and the fake's calls after it."""

    await setup_group(slack)
    form = {
        "team_id": "T1",
        "channel_id": "C1",
        "channel_name": "wg",
        "user_id": "U1",
        "user_name": "ana",
        "command": "/wg",
        "text": f'propose "Said once" {body_text}',
        "response_url": slack.fake.response_url("r-replay"),
        "trigger_id": "trigger-replay",
    }
    body, ts = urlencode(form), int(time.time())
    assert (await slack.post(body, "application/x-www-form-urlencoded", timestamp=ts))[0] == 200
    await slack.settle()
    return body, ts, await table_snapshot(slack.app.db), len(slack.fake.calls)


async def test_a_replayed_slash_command_or_click_is_ignored(slack: SlackEnv, caplog: pytest.LogCaptureFixture) -> None:
    """A signed slash command captured and sent again within Slack's 5-minute window (Slack itself never
    resends one) runs once: the replay gets a 200, does nothing, and is one log line without its body."""

    body, ts, before, calls = await _proposed_once(slack, "Replayed by someone else.")
    with caplog.at_level(logging.INFO, logger="adapters.slack.app"):
        for _ in range(3):
            status, text = await slack.post(body, "application/x-www-form-urlencoded", timestamp=ts)
            assert (status, text) == (200, "")
        await slack.settle()
    assert await table_snapshot(slack.app.db) == before
    assert len(slack.fake.calls) == calls
    async with slack.app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Proposal))).one() == 1
    replays = [r.getMessage() for r in caplog.records if "replay" in r.getMessage()]
    assert len(replays) == 3 and all("body not logged" in m and "Replayed" not in m for m in replays)

    # a click too: the same signed interaction twice has one effect
    await slack.slash('meeting "Sync" at:"2030-01-07 10:00 UTC"')
    await slack.settle()
    click = urlencode(
        {
            "payload": json.dumps(
                {
                    "type": "block_actions",
                    "team": {"id": "T1"},
                    "user": {"id": "U2", "username": "bo"},
                    "channel": {"id": "C1", "name": "wg"},
                    "trigger_id": "trigger-click",
                    "actions": [{"action_id": "wg:0", "value": "rsvp M1 no", "type": "button"}],
                }
            )
        }
    )
    ts = int(time.time())
    assert (await slack.post(click, "application/x-www-form-urlencoded", timestamp=ts))[0] == 200
    await slack.settle()
    answered = await table_snapshot(slack.app.db)
    await slack.slash("rsvp M1 yes", user="U2", user_name="bo")  # Bo changes his mind in the chat
    await slack.settle()
    changed = await table_snapshot(slack.app.db)
    assert changed != answered
    assert (await slack.post(click, "application/x-www-form-urlencoded", timestamp=ts))[0] == 200
    await slack.settle()
    assert await table_snapshot(slack.app.db) == changed  # the replayed "no" did not undo his "yes"
    # signed again (a new timestamp, as Slack would for a new click), the same payload is a new request
    assert (await slack.post(click, "application/x-www-form-urlencoded", timestamp=ts + 1))[0] == 200
    await slack.settle()
    assert await table_snapshot(slack.app.db) != changed


async def _post_as(slack: SlackEnv, body: str, timestamp: int, content_type: str | None) -> tuple[int, str]:
    """A signed request sent with this Content-Type (not covered by the signature); None: no header at all."""
    from tests.slack.conftest import sign

    headers = {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": sign(body, timestamp)}
    if content_type is not None:
        headers["Content-Type"] = content_type
    skip = [] if content_type is not None else ["Content-Type"]
    async with slack.http.post(slack.url, data=body.encode(), headers=headers, skip_auto_headers=skip) as resp:
        return resp.status, await resp.text()


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/octet-stream",
        "multipart/form-data",
        "",
        None,
        "application/x-www-form-urlencoded; charset=utf-8",
        "application/json",
    ],
)
async def test_a_replay_is_ignored_whatever_its_content_type(slack: SlackEnv, content_type: str | None) -> None:
    """Content-Type is not signed and Bolt reads any body not starting with `{` as a form: a signed slash
    command or click replayed under another Content-Type (or none) is still a replay, and runs once."""
    body, ts, before, calls = await _proposed_once(slack, "Replayed under another Content-Type.")
    assert await _post_as(slack, body, ts, content_type) == (200, "")
    await slack.settle()
    assert await table_snapshot(slack.app.db) == before
    assert len(slack.fake.calls) == calls
    async with slack.app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Proposal))).one() == 1

    # an interaction (a form with a JSON `payload`) likewise
    await slack.slash('meeting "Sync" at:"2030-01-07 10:00 UTC"')
    await slack.settle()
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "U2", "username": "bo"},
        "channel": {"id": "C1", "name": "wg"},
        "trigger_id": "trigger-click",
        "actions": [{"action_id": "wg:0", "value": "rsvp M1 no", "type": "button"}],
    }
    click, ts = urlencode({"payload": json.dumps(payload)}), int(time.time())
    assert (await slack.post(click, "application/x-www-form-urlencoded", timestamp=ts))[0] == 200
    await slack.settle()
    await slack.slash("rsvp M1 yes", user="U2", user_name="bo")
    await slack.settle()
    changed = await table_snapshot(slack.app.db)
    assert await _post_as(slack, click, ts, content_type) == (200, "")
    await slack.settle()
    assert await table_snapshot(slack.app.db) == changed  # the replayed "no" did not undo his "yes"


async def test_genuine_requests_with_a_charset_suffix_still_work(slack: SlackEnv) -> None:
    """Slack's own Content-Types with `; charset=utf-8`: a slash command runs, and an event with an
    event_id is left to the database (the same signed delivery twice has one effect, no replay log)."""

    await setup_group(slack)
    form = {
        "team_id": "T1",
        "channel_id": "C1",
        "channel_name": "wg",
        "user_id": "U1",
        "user_name": "ana",
        "command": "/wg",
        "text": 'propose "With a charset" Sent as form; charset=utf-8.',
        "response_url": slack.fake.response_url("r-charset"),
        "trigger_id": "trigger-charset",
    }
    status, _ = await _post_as(
        slack, urlencode(form), int(time.time()), "application/x-www-form-urlencoded; charset=utf-8"
    )
    assert status == 200
    body = slack.event_body(
        {
            "type": "app_mention",
            "user": "U1",
            "text": '<@UBOT> propose "Event" As JSON; charset.',
            "ts": "1.2",
            "channel": "C1",
        },
        event_id="Ev0CHARSET",
    )
    ts = int(time.time())
    for _ in range(2):
        assert (await _post_as(slack, body, ts, "application/json; charset=utf-8"))[0] == 200
    challenge = json.dumps({"type": "url_verification", "token": "legacy", "challenge": "c-123"})
    for _ in range(2):  # url_verification is answered every time (it changes nothing)
        assert await _post_as(slack, challenge, ts, "application/json; charset=utf-8") == (
            200,
            '{"challenge": "c-123"}',
        )
    await slack.settle()
    async with slack.app.db.session() as s:
        titles = sorted((await s.exec(select(Proposal.title))).all())
    assert titles == ["Event", "With a charset"]


def test_only_events_with_an_id_and_url_verification_are_left_to_the_database() -> None:
    from adapters.slack.replay import deduplicated_by_event_id as exempt

    assert exempt(b'{"type": "event_callback", "event_id": "Ev1", "event": {}}')
    assert exempt(b'{"type": "url_verification", "challenge": "x"}')
    assert not exempt(b'{"type": "event_callback", "event": {}}')  # no event_id: nothing deduplicates it
    assert not exempt(b'{"type": "event_callback", "event_id": ""}')
    assert not exempt(b'{"type": "block_actions"}')
    assert not exempt(b"command=%2Fwg&text=propose")  # a slash command, whatever its Content-Type
    assert not exempt(b"payload=%7B%22type%22%3A%22block_actions%22%7D")
    assert not exempt(b' {"type": "event_callback", "event_id": "Ev1"}')  # Bolt would not read it as JSON
    assert not exempt(b"{not json")
    assert not exempt(b"[1]")
    assert not exempt(b"")


def test_the_replay_guard_forgets_what_left_the_window_and_stays_bounded() -> None:
    from adapters.slack.replay import ReplayGuard

    guard = ReplayGuard(window=300, limit=3)
    assert guard.first_time("v0=a", 1000, now=1000.0)
    assert not guard.first_time("v0=a", 1000, now=1299.0)  # still in the window: a replay
    assert guard.first_time("v0=b", 1100, now=1299.0)
    assert len(guard) == 2
    assert guard.first_time("v0=c", 1200, now=1301.0)
    assert len(guard) == 2  # "a" left the window (the signature check refuses it from now on) and was dropped
    assert guard.first_time("v0=d", 1250, now=1301.0) and len(guard) == 3
    assert guard.first_time("v0=e", 1260, now=1301.0) and len(guard) == 3  # at the limit: "b" made room
    assert not guard.first_time("v0=e", 1260, now=1302.0) and not guard.first_time("v0=d", 1250, now=1302.0)
    assert guard.first_time("v0=b", 1100, now=1302.0)  # forgotten (the price of the bound), and "c" goes
    assert guard.first_time("v0=c", 1200, now=1302.0)
