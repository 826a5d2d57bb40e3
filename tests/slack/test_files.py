"""`/wg ics M<n>` on Slack: the calendar file goes privately to the person's DM with the bot
(conversations.open, then files_upload_v2's three steps against the fake), and the ephemeral answer in
the channel says so; when the upload cannot be done, the file is shown inline as before."""

from __future__ import annotations

import json
import logging

import pytest

from adapters.slack.doctor import check_slack, manifest_scopes
from bot.config import Settings
from tests.fakes.slack_api import FakeSlackAPI
from tests.slack.conftest import SECRET, TOKEN, SlackEnv
from tests.slack.test_http import setup_group


async def schedule_kickoff(slack: SlackEnv) -> None:
    await setup_group(slack)
    await slack.slash('meeting "Kickoff" at:2026-01-06T15:00Z')
    await slack.settle()
    slack.fake.clear()


async def test_ics_is_uploaded_to_the_dm_and_the_channel_is_told(slack: SlackEnv) -> None:
    await schedule_kickoff(slack)
    status, _ = await slack.slash("ics M1", user="U2", user_name="bo")
    assert status == 200
    await slack.settle()

    assert slack.fake.of("conversations.open") == [{"users": "U2"}]
    [asked] = slack.fake.of("files.getUploadURLExternal")
    assert asked["filename"] == "M1.ics"
    [shared] = slack.fake.shared()
    assert shared.filename == "M1.ics" and shared.channel == "DU2"  # Bo's DM with the bot, not the channel
    assert shared.content is not None and int(asked["length"]) == len(shared.content)
    calendar = shared.content.decode("utf-8")
    assert calendar.startswith("BEGIN:VCALENDAR") and "SUMMARY:Kickoff" in calendar
    assert calendar.rstrip().endswith("END:VCALENDAR") and "\r\n" in calendar  # the bytes as the core made them
    assert shared.initial_comment is not None and "M1" in shared.initial_comment
    assert "BEGIN:VCALENDAR" not in shared.initial_comment

    [told] = slack.fake.of("chat.postEphemeral")
    assert told["channel"] == "C1" and told["user"] == "U2"
    assert "Sent M1.ics to your direct messages with wgbot" in told["text"]
    assert "VCALENDAR" not in json.dumps(told)  # no inline copy when the file was sent
    assert slack.fake.of("chat.postMessage") == []  # nothing public


@pytest.mark.parametrize("failure", ["missing_scope", "im_not_allowed", "upload_500"])
async def test_ics_falls_back_to_the_code_block_when_the_upload_fails(
    slack: SlackEnv, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    await schedule_kickoff(slack)
    if failure == "missing_scope":  # the app was installed before files:write was in the manifest
        slack.fake.fail_next("files.getUploadURLExternal", error="missing_scope")
    elif failure == "im_not_allowed":
        slack.fake.fail_next("conversations.open", error="missing_scope")
    else:
        slack.fake.fail_uploads = 1
    with caplog.at_level(logging.WARNING, logger="adapters.slack.app"):
        await slack.slash("ics M1")
        await slack.settle()

    assert slack.fake.shared() == []
    assert slack.fake.of("files.completeUploadExternal", ok_only=False) == []
    [told] = slack.fake.of("chat.postEphemeral")
    assert told["user"] == "U1" and "Sent M1.ics" not in told["text"]
    blocks = json.dumps(told["blocks"])
    assert "File: M1.ics" in blocks and "```BEGIN:VCALENDAR" in blocks and "SUMMARY:Kickoff" in blocks
    [logged] = [r.getMessage() for r in caplog.records if "M1.ics" in r.getMessage()]
    assert "showing it inline" in logged
    assert ("missing_scope" in logged) if failure != "upload_500" else ("status: 500" in logged)
    assert "xoxb-" not in logged


async def test_doctor_asks_for_the_upload_scopes(fake_slack: FakeSlackAPI) -> None:
    """An app installed before files:write was in the manifest: the doctor names it."""
    assert {"files:write", "im:write"} <= set(manifest_scopes())
    fake_slack.scopes = [s for s in manifest_scopes() if s != "files:write"]
    settings = Settings(SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=fake_slack.url)
    check = await check_slack(settings)
    assert check.status == "fail" and "files:write" in check.detail


async def test_privacy_export_sends_the_json_file_privately(slack: SlackEnv) -> None:
    await setup_group(slack)
    status, _ = await slack.slash("privacy export", user="U2", user_name="bo")
    assert status == 200
    await slack.settle()
    [shared] = slack.fake.shared()
    assert shared.channel == "DU2" and shared.filename.endswith(".json")  # Bo's DM with the bot
    assert shared.content is not None
    data = json.loads(shared.content.decode("utf-8"))
    assert data["profile"]["stakeholder_group"] == "academia"
    assert data["identities"][0]["platform"] == "slack"
    assert slack.fake.of("chat.postMessage") == []  # nothing public
