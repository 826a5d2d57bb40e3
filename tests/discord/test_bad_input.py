"""Hostile and oversized input through Discord's real entry points: interactions (typed options, modal
fields) and DM message content, delivered by the loopback gateway to the real client.

A 1 MB value, 10,000 vote options, deeply nested quotes and text that is not valid Unicode (a lone
surrogate: what JSON's `\\ud800` escape decodes to) are refused with a clear, private error or stored
safely, nothing else is stored, and the next ordinary command is answered as usual.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from storage.db import Database
from storage.models import Proposal
from tests.conftest import table_snapshot
from tests.discord.conftest import Bot, until
from tests.discord.test_interactions import EPHEMERAL, data, embed_text, setup_group
from tests.discord.test_messages import answers, dm
from tests.fakes.discord_server import DiscordServer, FakeUser

MB = 1_000_000
NESTED = "“" * 3000 + "«" * 1000 + "x" + "»" * 1000 + "”" * 3000


async def snapshot(db: Database) -> dict[str, Any]:
    rows = await table_snapshot(db)
    rows.pop("inbound_events", None)
    return rows


async def still_healthy(bot: Bot, user: FakeUser) -> None:
    rec = await bot.command(["proposals"], user)
    assert rec.body["type"] == 4
    text = embed_text(data(rec))
    assert "Proposals" in text or "No proposals" in text, text


@pytest.mark.parametrize(
    ("name", "path", "options", "says"),
    [
        ("a 1 MB title", ["propose"], {"title": "x" * MB, "body": "b"}, "title is too long"),
        ("a 1 MB body", ["propose"], {"title": "T", "body": "y" * MB}, "command is too long"),
        ("10,000 options", ["vote", "open"],
         {"subject": "Pick", "method": "choice", "options": ", ".join(f"o{i}" for i in range(10_000))},
         "command is too long"),
        ("deeply nested quotes", ["propose"], {"title": NESTED, "body": "b"}, "title is too long"),
        ("nested quotes in a body", ["propose"], {"title": "T", "body": "“«„" * 2000 + '"'}, "body is too long"),
    ],
)  # fmt: skip
async def test_hostile_options_are_refused_privately_and_store_nothing(
    bot: Bot, server: DiscordServer, db: Database, alice: FakeUser, name: str, path: list[str], options: dict[str, str],
    says: str,
) -> None:  # fmt: skip
    await setup_group(bot, alice)
    before = await snapshot(db)
    rec = await bot.command(path, alice, **options)
    assert rec.body["type"] == 4, name
    assert data(rec)["flags"] & EPHEMERAL, "a refusal is private"
    text = embed_text(data(rec))
    assert says in text.lower(), text
    assert len(text) < 1000, "the error does not echo the input"
    assert await snapshot(db) == before
    await still_healthy(bot, alice)


async def test_a_1mb_modal_field_is_refused_privately(
    bot: Bot, server: DiscordServer, db: Database, alice: FakeUser
) -> None:
    await setup_group(bot, alice)
    before = await snapshot(db)
    token = await server.push_modal_submit("wgf:propose", {"title": "T", "body": "z" * MB, "theme": ""}, user=alice)
    rec = await bot.callback(token)
    assert data(rec)["flags"] & EPHEMERAL
    assert "too long" in embed_text(data(rec))
    assert await snapshot(db) == before
    await still_healthy(bot, alice)


async def test_a_lone_surrogate_in_an_option_is_stored_as_a_replacement_character(
    bot: Bot, server: DiscordServer, db: Database, alice: FakeUser
) -> None:
    await setup_group(bot, alice)
    rec = await bot.command(["propose"], alice, title="caf\ud800", body="b\udfff")
    assert "P1 recorded" in embed_text(data(rec))
    async with db.session() as s:
        [proposal] = (await s.exec(select(Proposal))).all()
    assert proposal.title == "caf\ufffd" and proposal.body == "b\ufffd"
    await still_healthy(bot, alice)


async def test_hostile_direct_messages_are_answered_with_an_error_and_store_nothing(
    bot: Bot, server: DiscordServer, db: Database, alice: FakeUser
) -> None:
    await setup_group(bot, alice)
    before = await snapshot(db)
    channel = await dm(server, alice, "propose " + "x" * MB)
    [text] = await answers(server, channel, 1)
    assert "command is too long" in text and len(text) < 1000
    channel = await dm(server, alice, "propose " + "“«„" * 1000)
    [_, text] = await answers(server, channel, 2)
    assert "Unbalanced quotes" in text
    channel = await dm(server, alice, "nonsense\ud800")
    [_, _, text] = await answers(server, channel, 3)
    assert "Unknown command" in text and "\ufffd" in text
    await bot.client.bridge.drain()
    assert await snapshot(db) == before
    channel = await dm(server, alice, "me")
    [*_, text] = await answers(server, channel, 4)
    assert "civil-society" in text


async def test_a_gateway_frame_that_is_not_utf8_costs_a_reconnect_not_the_process(
    bot: Bot, server: DiscordServer, db: Database, alice: FakeUser
) -> None:
    """A text frame must be UTF-8 (RFC 6455): the client drops that connection and resumes its session."""
    from aiohttp import WSMsgType

    await setup_group(bot, alice)
    before = await snapshot(db)
    sessions = server.identifies + server.resumes
    ws = server._ws
    assert ws is not None and ws._writer is not None
    frame = b'{"op": 0, "t": "MESSAGE_CREATE", "s": 999, "d": {"content": "caf\xff\xfe"}}'
    await ws._writer.send_frame(frame, WSMsgType.TEXT)
    await until(lambda: server.identifies + server.resumes > sessions)  # the client reconnected
    assert await snapshot(db) == before
    await still_healthy(bot, alice)
