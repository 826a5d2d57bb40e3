"""Thread summaries on Slack, end to end: signed requests into the Bolt app, the thread read from the
loopback fake Web API (conversations.replies, permalinks), the summary posted in the thread within
Block Kit's limits (checked for every call by the `slack` fixture); and with a model, the request the
OpenAI-compatible fake received carries no Slack user id, handle or mention."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from adapters.llm.openai_client import OpenAICompatibleLLM
from adapters.slack.runtime import create_adapter, open_http
from bot.bootstrap import build
from bot.clock import VirtualClock
from bot.config import Settings
from storage.db import Database
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import WORKSPACE_URL, FakeSlackAPI
from tests.slack.conftest import SECRET, TOKEN, SlackEnv
from tests.slack.test_http import setup_group

PARENT = "1767600000.000100"


def thread(n_filler: int = 0) -> list[dict[str, Any]]:
    msgs = [
        {"ts": PARENT, "user": "U1", "text": "Shall we adopt the ATLAS taxonomy for the paper?"},
        {"ts": "1767600010.000200", "user": "U2", "text": "Yes. &lt;@U1&gt; and I agreed to cross-reference OWASP."},
        {"ts": "1767600020.000200", "user": "U1", "text": "Decision: we adopt ATLAS with an OWASP annex."},
        {"ts": "1767600030.000200", "user": "U2", "text": "I'll draft the annex by friday, mail bo@example.org."},
        {"ts": "1767600040.000200", "user": "U1", "text": "Who presents it to <@U2|bo>'s ministry?"},
    ]
    for i in range(n_filler):
        words = " ".join(f"point{i}-{k} on incident reporting and model evaluation" for k in range(12))
        msgs.append({"ts": f"1767601{i:03d}.000300", "user": "U1" if i % 2 else "U2", "text": f"Note {i}: {words}."})
    return msgs


def posted_summary(slack: SlackEnv) -> list[dict[str, Any]]:
    return [c for c in slack.fake.of("chat.postMessage") if "summary" in c["text"].lower()]


async def test_mention_in_a_thread_posts_the_summary_there_with_permalinks(slack: SlackEnv) -> None:
    await setup_group(slack)
    slack.fake.threads[("C1", PARENT)] = thread(n_filler=40)
    mention = {
        "type": "app_mention",
        "user": "U2",
        "text": "<@UBOT> summarize",
        "ts": "1767609999.000100",
        "thread_ts": PARENT,
        "channel": "C1",
    }
    assert (await slack.event(mention))[0] == 200
    await slack.settle()
    pages = slack.fake.of("chat.postMessage")
    assert pages and all(p["channel"] == "C1" and p["thread_ts"] == PARENT for p in pages)
    text = "\n".join(p["text"] for p in pages)
    blocks = json.dumps([p["blocks"] for p in pages])
    assert "Thread summary" in text and "offline summarizer" in blocks
    assert "Decision: we adopt ATLAS with an OWASP annex." in blocks
    assert f"{WORKSPACE_URL}archives/C1/p1767600020000200?thread_ts={PARENT}" in blocks  # the decision's source
    assert "bo@example.org" not in blocks and "[e-mail redacted]" in blocks
    assert slack.fake.of("conversations.replies")[0]["ts"] == PARENT


async def test_the_message_shortcut_summarizes_the_thread_of_the_message(slack: SlackEnv) -> None:
    await setup_group(slack)
    slack.fake.threads[("C1", PARENT)] = thread()
    payload = {
        "type": "message_action",
        "callback_id": "wg_summarize",
        "trigger_id": "trigger-sc",
        "response_url": slack.fake.response_url("sc"),
        "user": {"id": "U1", "username": "ana", "name": "ana"},
        "channel": {"id": "C1", "name": "wg"},
        "message_ts": "1767600030.000200",
        "message": {"type": "message", "user": "U2", "ts": "1767600030.000200", "thread_ts": PARENT, "text": "x"},
    }
    status, body = await slack.interact(payload)
    assert status == 200 and body == ""
    await slack.settle()
    [summary] = slack.fake.of("chat.postMessage")
    assert summary["thread_ts"] == PARENT and "Thread summary" in summary["text"]
    assert "I'll draft the annex by friday" in json.dumps(summary["blocks"])


async def test_summarize_as_a_slash_command_outside_a_thread_says_how(slack: SlackEnv) -> None:
    await setup_group(slack)
    await slack.slash("summarize")
    await slack.settle()
    [err] = slack.fake.of("chat.postEphemeral")
    assert "mention @wgbot summarize" in err["text"] and slack.fake.of("chat.postMessage") == []


@pytest.fixture
async def llm_slack(
    db: Database, clock: VirtualClock, fake_slack: FakeSlackAPI
) -> AsyncIterator[tuple[SlackEnv, FakeOpenAI]]:
    server = FakeOpenAI()
    await server.start()
    settings = Settings(
        WGBOT_DATABASE_URL=str(db.url),
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake_slack.url,
        OPENAI_BASE_URL=server.base_url,
        OPENAI_API_KEY="sk-test",
        WGBOT_LLM_MODEL="test-model",
    )
    llm = OpenAICompatibleLLM.from_settings(settings)
    app = await build(settings, clock=clock, db=db, rng=random.Random(0), worker_id="test", upgrade=False, llm=llm)
    adapter = create_adapter(app, settings, min_interval=0.0)
    http_server = await open_http(adapter, "127.0.0.1", 0)
    async with aiohttp.ClientSession() as http:
        env = SlackEnv(fake_slack, app, adapter, http_server, http, clock)
        yield env, server
        await adapter.tasks.join()
        env.check_all()
    await adapter.close()
    await http_server.close()
    await llm.close()
    await server.stop()


async def test_with_a_model_no_slack_identity_reaches_it(llm_slack: tuple[SlackEnv, FakeOpenAI]) -> None:
    slack, server = llm_slack
    await setup_group(slack)
    slack.fake.threads[("C1", PARENT)] = thread()
    mention = {
        "type": "app_mention",
        "user": "U1",
        "text": "<@UBOT> summarize",
        "ts": "1767609999.1",
        "thread_ts": PARENT,
        "channel": "C1",
    }
    await slack.event(mention)
    await slack.settle()
    [summary] = slack.fake.of("chat.postMessage")
    assert "AI-generated by test-model" in json.dumps(summary["blocks"]) and summary["thread_ts"] == PARENT
    sent = server.sent_text()
    for secret in ("U1", "U2", "ana", "Ana", "bo@example.org", "<@"):
        assert secret not in sent, secret
    assert "Person-1 (civil-society)" in sent and "Person-2 (academia)" in sent
    assert "Who presents it to Person-2's ministry?" in sent
