"""A DM or an @mention in plain words gets the offline how-to, not "Unknown command"."""

from __future__ import annotations

from tests.slack.conftest import SlackEnv
from tests.slack.test_http import setup_group


async def test_plain_words_in_a_dm_and_a_mention(slack: SlackEnv) -> None:
    await setup_group(slack)
    dm = {
        "type": "message",
        "user": "U2",
        "text": "how do I schedule a meeting?",
        "ts": "1.2",
        "channel": "D2",
        "channel_type": "im",
    }
    await slack.event(dm)
    mention = {"type": "app_mention", "user": "U1", "text": "<@UBOT> hello there", "ts": "1.3", "channel": "C1"}
    await slack.event(mention)
    await slack.settle()
    answers = slack.fake.of("chat.postEphemeral")
    assert len(answers) == 2
    for a in answers:
        assert "Unknown command" not in a["text"] and "/wg help" in a["text"]
    [in_dm] = [a for a in answers if a["channel"] == "D2"]
    assert "/wg meeting" in in_dm["text"]
    assert slack.fake.of("chat.postMessage") == []


async def test_a_mistyped_command_in_a_mention_gets_did_you_mean(slack: SlackEnv) -> None:
    await setup_group(slack)
    await slack.event({"type": "app_mention", "user": "U1", "text": "<@UBOT> proposls", "ts": "1.4", "channel": "C1"})
    await slack.settle()
    [err] = slack.fake.of("chat.postEphemeral")
    assert "Did you mean `/wg proposals`" in err["text"]
