"""`/wg web link [rotate]` and `/wg settings web:…` through signed Slack requests."""

from __future__ import annotations

import re

from sqlmodel import select

from storage.models import WebAccess
from tests.slack.conftest import SlackEnv
from tests.slack.test_http import setup_group

PUBLIC = "https://wg.example.org"


async def test_web_link_show_rotate_and_visibility_on_slack(slack: SlackEnv) -> None:
    slack.app.core.public_url = PUBLIC
    await setup_group(slack)
    await slack.slash("web link")
    await slack.settle()
    [shown] = slack.fake.of("chat.postEphemeral")
    first = re.search(rf"{PUBLIC}/r/([A-Za-z0-9_-]+)/", shown["text"])
    assert first and shown["user"] == "U1"
    assert not any(first.group(1) in str(c) for c in slack.fake.of("chat.postMessage"))  # never in the channel
    slack.fake.clear()
    await slack.slash("web link rotate")
    await slack.settle()
    [rotated] = slack.fake.of("chat.postEphemeral")
    second = re.search(rf"{PUBLIC}/r/([A-Za-z0-9_-]+)/", rotated["text"])
    assert second and second.group(1) != first.group(1) and "no longer works" in rotated["text"]
    slack.fake.clear()
    await slack.slash("web link", user="U2", user_name="bo")
    await slack.settle()
    [refused] = slack.fake.of("chat.postEphemeral")
    assert "Only a convener" in refused["text"] and second.group(1) not in refused["text"] and refused["user"] == "U2"
    await slack.slash("settings web:public")
    await slack.settle()
    async with slack.app.db.session() as s:
        access = (await s.exec(select(WebAccess))).one()
    assert access.public and access.token == second.group(1)
