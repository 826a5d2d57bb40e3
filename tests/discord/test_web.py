"""`/wg web link [rotate]` and `/wg settings web:…` through the real Discord client."""

from __future__ import annotations

import re

from sqlmodel import select

from storage.models import WebAccess
from tests.discord.conftest import Bot
from tests.discord.test_interactions import EPHEMERAL, data, embed_text, setup_group
from tests.fakes.discord_server import FakeUser

PUBLIC = "https://wg.example.org"


async def test_web_link_show_rotate_and_visibility_on_discord(bot: Bot, alice: FakeUser, bob: FakeUser) -> None:
    bot.app.core.public_url = PUBLIC
    await setup_group(bot, alice, bob)
    shown = data(await bot.command(["web", "link"], alice))
    first = re.search(rf"{PUBLIC}/r/([A-Za-z0-9_-]+)/", embed_text(shown))
    assert first and shown.get("flags") == EPHEMERAL
    rotated = embed_text(data(await bot.command(["web", "link"], alice, action="rotate")))
    second = re.search(rf"{PUBLIC}/r/([A-Za-z0-9_-]+)/", rotated)
    assert second and second.group(1) != first.group(1) and "no longer works" in rotated
    refused_reply = data(await bot.command(["web", "link"], bob))
    refused = embed_text(refused_reply)
    assert "Only a convener" in refused and second.group(1) not in refused
    assert refused_reply.get("flags") == EPHEMERAL  # the refusal is private too
    await bot.command(["settings"], alice, web="public", summaries="on")
    async with bot.app.db.session() as s:
        access = (await s.exec(select(WebAccess))).one()
    assert access.public and access.summaries and access.token == second.group(1)
