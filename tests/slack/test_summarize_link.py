"""`/wg summarize <thread link>` with the link pasted as is: Slack sends it as `<https://…>`, and the
link names the thread (it used to be read as an option `https:` and refused)."""

from __future__ import annotations

from tests.fakes.slack_api import WORKSPACE_URL
from tests.slack.conftest import SlackEnv
from tests.slack.test_http import setup_group
from tests.slack.test_summaries import PARENT, posted_summary, thread


async def test_a_pasted_thread_link_is_summarized(slack: SlackEnv) -> None:
    await setup_group(slack)
    slack.fake.threads[("C1", PARENT)] = thread()
    link = f"{WORKSPACE_URL}archives/C1/p{PARENT.replace('.', '')}"
    status, _ = await slack.slash(f"summarize <{link}>")
    assert status == 200
    await slack.settle()
    assert not [e for e in slack.fake.of("chat.postEphemeral") if "Unknown option" in e["text"]]
    [read] = slack.fake.of("conversations.replies")
    assert (read["channel"], read["ts"]) == ("C1", PARENT)
    [summary] = posted_summary(slack)  # the command's public reply, where it was typed
    assert summary["channel"] == "C1" and "ATLAS" in summary["text"]
