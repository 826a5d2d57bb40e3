"""Trust on Slack, through signed requests: a stranger's DM gets how to join (never the group), an
invitation lets them join from the DM, and ids are scoped by workspace (team id)."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from sqlmodel import select

from storage.models import Channel, Identity, Member
from tests.conftest import table_snapshot
from tests.slack.conftest import SlackEnv
from tests.slack.test_http import setup_group


def dm_event(user: str, text: str, channel: str) -> dict[str, Any]:
    return {
        "type": "message",
        "user": user,
        "text": text,
        "ts": f"{time.time():.4f}",
        "channel": channel,
        "channel_type": "im",
    }


async def answers_in(slack: SlackEnv, channel: str) -> str:
    await slack.settle()
    calls = slack.fake.of("chat.postEphemeral") + slack.fake.of("chat.postMessage")
    return "\n".join(c.get("text", "") for c in calls if c.get("channel") == channel)


async def test_a_strangers_dm_gets_how_to_join_and_an_invitation_lets_them_in(slack: SlackEnv) -> None:
    await setup_group(slack)
    slack.fake.clear()
    before = {k: v for k, v in (await table_snapshot(slack.app.db)).items() if k != "inbound_events"}
    await slack.event(dm_event("U7", "join government", "D7"))
    text = await answers_in(slack, "D7")
    assert "You are not a member of any working group yet" in text and "invite:&lt;code&gt;" in text
    await slack.event(dm_event("U7", "proposals", "D7"))
    assert "P1" not in await answers_in(slack, "D7")
    assert {k: v for k, v in (await table_snapshot(slack.app.db)).items() if k != "inbound_events"} == before

    # the convener issues a single-use invitation; the stranger joins with it from the DM
    slack.fake.clear()
    await slack.slash("member invite")
    await slack.settle()
    [ephemeral] = slack.fake.of("chat.postEphemeral")
    assert ephemeral["user"] == "U1" and "Invitation code for “wg”" in ephemeral["text"]
    code = ephemeral["text"].split("invite:")[-1].strip()
    slack.fake.clear()
    await slack.event(dm_event("U7", f"join government invite:{code}", "D7"))
    assert "Welcome to “wg”" in await answers_in(slack, "D7")
    # used up: nobody else gets in with it
    slack.fake.clear()
    await slack.event(dm_event("U8", f"join government invite:{code}", "D8"))
    assert "unknown, used up or expired" in await answers_in(slack, "D8")
    async with slack.app.db.session() as s:
        assert len((await s.exec(select(Member))).all()) == 3


async def test_ids_from_two_workspaces_never_mix(slack: SlackEnv) -> None:
    await setup_group(slack)
    # the same channel id and user id, from another workspace (team T2): not the bound channel,
    # not the member U1 of team T1
    form = {
        "team_id": "T2",
        "channel_id": "C1",
        "channel_name": "wg",
        "user_id": "U1",
        "user_name": "other-ana",
        "command": "/wg",
        "text": "me",
        "response_url": slack.fake.response_url("r-t2"),
        "trigger_id": "trigger-t2",
    }
    slack.fake.clear()
    await slack.post(urlencode(form), "application/x-www-form-urlencoded")
    await slack.settle()
    said = json.dumps(slack.fake.of("chat.postEphemeral") + [c.body for c in slack.fake.responses])
    assert "not bound to a working group" in said and "civil-society" not in said
    async with slack.app.db.session() as s:
        channels = (await s.exec(select(Channel))).all()
        idents = (await s.exec(select(Identity))).all()
    assert {(c.workspace, c.channel_id) for c in channels} == {("T1", "C1")}
    assert {(i.workspace, i.user_id) for i in idents} == {("T1", "U1"), ("T1", "U2")}
