"""`/wg todo` lists the speaker's action items and `/wg todo done A<n>` closes one, through signed Slack requests."""

from __future__ import annotations

from sqlmodel import select

from storage.models import ActionItem
from tests.slack.conftest import SlackEnv
from tests.slack.test_http import setup_group
from tests.test_action_items import add_item


async def test_todo_lists_and_closes_action_items_on_slack(slack: SlackEnv) -> None:
    await setup_group(slack)
    number = await add_item(slack.app.db, "Bo", "Draft the glossary <!channel>", slack.app.clock.now())
    await slack.slash("todo", user="U2", user_name="bo")
    await slack.settle()
    [shown] = slack.fake.of("chat.postEphemeral")
    assert f"A{number} Draft the glossary" in shown["text"] and "— Bo" in shown["text"]
    assert "<!channel>" not in shown["text"]  # user text never becomes a mention
    slack.fake.clear()
    await slack.slash(f"todo done A{number}", user="U2", user_name="bo")
    await slack.settle()
    [done] = slack.fake.of("chat.postEphemeral")
    assert f"A{number}" in done["text"] and "done" in done["text"]
    async with slack.app.db.session() as s:
        assert (await s.exec(select(ActionItem))).one().closed == "done"
