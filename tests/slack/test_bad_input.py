"""Hostile and oversized input through Slack's real entry point: signed HTTP requests into the Bolt app.

A 1 MB message, 10,000 vote options, deeply nested quotes and invalid UTF-8 are each refused with a
clear, private error (or, for a request too big or too broken to read, a 4xx), nothing is stored,
and the process answers the next ordinary command as usual.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlmodel import select

from storage.models import Proposal
from tests.conftest import table_snapshot
from tests.slack.conftest import SECRET, SlackEnv
from tests.slack.test_http import setup_group

MB = 1_000_000


async def snapshot(slack: SlackEnv) -> dict[str, Any]:
    """Every table but the counters every request touches (rate limits, handled event ids)."""
    rows = await table_snapshot(slack.app.db)
    rows.pop("inbound_events", None)
    return rows


async def post_bytes(slack: SlackEnv, body: bytes, content_type: str) -> tuple[int, str]:
    ts = int(time.time())
    signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": signature}
    async with slack.http.post(slack.url, data=body, headers=headers) as resp:
        return resp.status, await resp.text()


async def still_healthy(slack: SlackEnv) -> None:
    """The next ordinary command is answered as usual."""
    slack.fake.clear()
    status, _ = await slack.slash("proposals")
    await slack.settle()
    assert status == 200
    [listing] = slack.fake.of("chat.postMessage")
    assert "Proposals" in listing["text"] or "No proposals" in listing["text"], listing["text"]


def private_error(slack: SlackEnv) -> str:
    """The one answer to a refused command: ephemeral, to its author only, nothing posted publicly."""
    assert slack.fake.of("chat.postMessage") == []
    [error] = slack.fake.of("chat.postEphemeral")
    assert error["user"] == "U1"
    return str(error["text"])


NESTED = "“" * 3000 + "«" * 1000 + "x" + "»" * 1000 + "”" * 3000


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("a 1 MB message", 'propose "Huge" ' + "x" * MB, "command is too long"),
        ("10,000 options", 'vote open "Pick" method:choice options:"' + ", ".join(f"o{i}" for i in range(10_000)) + '"',
         "command is too long"),
        ("10,000 short options", 'vote open "Pick" method:approval options:"' + ",".join("x" * 10_000) + '"',
         "command is too long"),
        ("deeply nested quotes", "propose " + NESTED + " body", "title is too long"),
        ("nested Slack markup", "propose " + "<" * 3000 + "@U2" + ">" * 3000 + " body", "title in double quotes"),
        ("an unclosed quote in nested ones", "propose " + "“«„" * 1000, "unbalanced quotes"),
    ],
)  # fmt: skip
async def test_hostile_slash_commands_are_refused_privately_and_store_nothing(
    slack: SlackEnv, name: str, text: str, says: str
) -> None:
    await setup_group(slack)
    before = await snapshot(slack)
    status, body = await slack.slash(text)
    await slack.settle()
    assert status == 200 and body == "", name
    error = private_error(slack)
    assert says in error.lower(), error
    assert len(error) < 1000, "the error does not echo the input"
    assert await snapshot(slack) == before
    await still_healthy(slack)


async def test_a_lone_surrogate_in_an_event_is_stored_as_a_replacement_character(slack: SlackEnv) -> None:
    """JSON may carry a `\\ud800` escape, which no UTF-8 can: the text keeps U+FFFD in its place."""
    await setup_group(slack)
    event = {"type": "app_mention", "user": "U1", "channel": "C1", "text": '<@UBOT> propose "caf\ud800" b', "ts": "1.3"}
    status, _ = await slack.event(event)  # json.dumps escapes it as \\ud800
    await slack.settle()
    assert status == 200
    [receipt] = slack.fake.of("chat.postEphemeral")
    assert "P1 recorded" in receipt["text"], receipt["text"]
    async with slack.app.db.session() as s:
        [proposal] = (await s.exec(select(Proposal))).all()
    assert proposal.title == "caf\ufffd"
    await still_healthy(slack)


async def test_a_1mb_mention_event_is_refused_privately(slack: SlackEnv) -> None:
    await setup_group(slack)
    before = await snapshot(slack)
    event = {"type": "app_mention", "user": "U1", "channel": "C1", "text": "<@UBOT> propose " + "y" * MB, "ts": "1.1"}
    status, _ = await slack.event(event)
    await slack.settle()
    assert status == 200
    assert "too long" in private_error(slack)
    assert await snapshot(slack) == before
    await still_healthy(slack)


async def test_a_request_over_the_size_limit_is_refused_before_it_is_read(slack: SlackEnv) -> None:
    await setup_group(slack)
    before = await snapshot(slack)
    form = urlencode({"command": "/wg", "text": "propose x " + "z" * (2 * MB), "user_id": "U1", "channel_id": "C1"})
    status, body = await slack.post(form, "application/x-www-form-urlencoded")
    await slack.settle()
    assert status == 413, (status, body[:200])
    assert slack.fake.calls == [] and await snapshot(slack) == before
    await still_healthy(slack)


async def test_invalid_utf8_in_a_signed_request_is_a_400(slack: SlackEnv) -> None:
    await setup_group(slack)
    before = await snapshot(slack)
    event = {"type": "app_mention", "user": "U1", "channel": "C1", "text": "<@UBOT> propose XX body", "ts": "1.2"}
    raw = slack.event_body(event).encode().replace(b"XX", b"\xff\xfe\xc3")
    status, body = await post_bytes(slack, raw, "application/json")
    await slack.settle()
    assert status == 400 and "UTF-8" in body, (status, body[:200])
    assert slack.fake.calls == [] and await snapshot(slack) == before
    await still_healthy(slack)


async def test_percent_encoded_invalid_utf8_in_a_slash_command_becomes_replacement_characters(
    slack: SlackEnv,
) -> None:
    """Form bodies are percent-encoded ASCII: the bytes decode leniently, to U+FFFD, never a crash."""
    await setup_group(slack)
    form = urlencode({"command": "/wg", "text": "zz", "user_id": "U1", "channel_id": "C1", "team_id": "T1"})
    status, _ = await post_bytes(slack, form.replace("zz", "%FF%FE").encode(), "application/x-www-form-urlencoded")
    await slack.settle()
    assert status == 200
    assert "Unknown command" in private_error(slack)
    await still_healthy(slack)


async def test_a_form_with_10000_options_is_refused_inside_the_modal(slack: SlackEnv) -> None:
    """A modal submission gets its error shown in the modal (response_action: errors), nothing stored."""
    from adapters.slack.render import FORM_CALLBACK, FORM_INPUT

    await setup_group(slack)
    before = await snapshot(slack)
    options = "\n".join(f"option {i}" for i in range(10_000))
    view = {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "private_metadata": json.dumps({"channel": "C1", "action": 'vote open "Pick" method:choice'}),
        "blocks": [{"type": "input", "block_id": "options"}],
        "state": {"values": {"options": {FORM_INPUT: {"type": "plain_text_input", "value": options}}}},
    }
    status, body = await slack.interact({"type": "view_submission", "user": {"id": "U1"}, "view": view})
    await slack.settle()
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert "too long" in answer["errors"]["options"].lower()
    assert slack.fake.of("chat.postMessage") == []
    assert await snapshot(slack) == before
    await still_healthy(slack)
