"""`/wg todo` with its `action` choice and `id` option through the real Discord client."""

from __future__ import annotations

from sqlmodel import select

from storage.models import ActionItem
from tests.discord.conftest import Bot
from tests.discord.test_interactions import EPHEMERAL, data, embed_text, setup_group
from tests.fakes.discord_server import DiscordServer, FakeUser
from tests.test_action_items import add_item


async def test_todo_lists_and_closes_action_items_on_discord(
    bot: Bot, server: DiscordServer, alice: FakeUser, bob: FakeUser
) -> None:
    await setup_group(bot, alice, bob)
    number = await add_item(bot.app.db, "bob", "Send the ministry's comments", bot.app.clock.now())
    shown = data(await bot.command(["todo"], bob))
    assert shown.get("flags") == EPHEMERAL and f"A{number} Send the ministry's comments — bob" in embed_text(shown)
    refused = embed_text(data(await bot.command(["todo"], alice, action="done", id=f"A{number + 5}")))
    assert f"no action item A{number + 5}" in refused
    closed = embed_text(data(await bot.command(["todo"], bob, action="done", id=f"A{number}")))
    assert f"A{number} Send the ministry's comments: done" in closed
    async with bot.app.db.session() as s:
        assert (await s.exec(select(ActionItem))).one().closed == "done"
    (put,) = server.matching("PUT", r"^/applications/\d+/commands$")
    [wg] = [c for c in put.body if c["name"] == "wg"]
    [todo] = [o for o in wg["options"] if o["name"] == "todo"]
    action = next(o for o in todo["options"] if o["name"] == "action")
    assert [c["value"] for c in action["choices"]] == ["done", "reopen"]
