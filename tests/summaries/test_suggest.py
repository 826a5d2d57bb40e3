"""Plain words with a model configured: the command it suggests is shown with a button, never run;
pressing the button runs it with the person's own permissions (real openai client, loopback fake)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.clock import VirtualClock
from bot.command import UserRef, Where
from bot.reply import Actions, Button, Response
from storage.db import Database
from storage.models import LlmUsage, Meeting
from tests.fakes.openai_server import FakeOpenAI
from tests.summaries.conftest import LlmEnv, make_env


async def dm(env: LlmEnv, name: str, text: str, *, from_action: bool = False) -> Response:
    return await env.app.core.handle_text(
        text, UserRef("console", name, name), Where("console", f"dm-{name}", "dm", is_dm=True), from_action=from_action
    )


def button(response: Response) -> Button:
    [reply] = response.replies
    assert reply.private
    [actions] = [b for b in reply.blocks if isinstance(b, Actions)]
    [el] = actions.elements
    assert isinstance(el, Button)
    return el


async def test_a_suggestion_is_shown_with_a_button_and_runs_only_when_pressed(env: LlmEnv, server: FakeOpenAI) -> None:
    await env.say("alice", "/wg join civil-society")
    await env.say("bob", "/wg join academia")
    r = await dm(env, "alice", "could you set up our weekly sync meeting on tuesday at 10, mail alice@example.org")
    b = button(r)
    assert b.action == 'meeting "Weekly sync" at:"2026-01-06 10:00"' and b.label == "Run it"
    assert "Suggested by an AI model (test-model)" in r.replies[0].to_text()
    async with env.app.db.session() as s:
        assert (await s.exec(select(Meeting))).all() == []  # shown, not run
        [usage] = (await s.exec(select(LlmUsage))).all()
    assert usage.purpose == "suggest" and usage.calls == 1
    [req] = server.requests
    assert "alice@example.org" not in server.sent_text() and "/wg meeting" in req["messages"][-1]["content"]
    assert req["store"] is False and "tools" not in req

    pressed = await dm(env, "alice", b.action, from_action=True)
    assert pressed.replies and pressed.replies[0].kind != "error"
    async with env.app.db.session() as s:
        [meeting] = (await s.exec(select(Meeting))).all()
    assert meeting.title == "Weekly sync"

    # the same suggestion machinery never grants anything: bob's button goes through the permission check
    b = button(await dm(env, "bob", "please make me a convener"))
    assert b.action == "role bob convener"
    [refused] = (await dm(env, "bob", b.action, from_action=True)).replies
    assert refused.kind == "error" and "Only a convener" in refused.to_text()


async def test_an_unusable_suggestion_or_an_opted_out_person_gets_the_offline_answer(
    env: LlmEnv, server: FakeOpenAI
) -> None:
    await env.say("alice", "/wg join civil-society")
    [r] = (await dm(env, "alice", "tell me some nonsense about proposals please")).replies
    assert "I answer /wg commands" in r.to_text() and "frobnicate" not in r.to_text()
    assert len(server.requests) == 1
    await env.say("alice", "/wg privacy opt-out")
    [r] = (await dm(env, "alice", "how do I schedule a meeting?")).replies
    assert "I answer /wg commands" in r.to_text() and len(server.requests) == 1  # nothing sent
    # a typo is not plain words: the offline did-you-mean, no model call
    [r] = (await dm(env, "alice", "proposls")).replies
    assert "Did you mean `/wg proposals`" in r.to_text() and len(server.requests) == 1


async def test_plain_words_count_against_the_limit_and_past_it_no_model_is_asked(
    db: Database, clock: VirtualClock, server: FakeOpenAI
) -> None:
    env = await make_env(db, clock, server, WGBOT_RATE_COMMANDS_PER_MINUTE=4)
    try:
        await env.say("alice", "/wg join civil-society")
        for _ in range(3):  # the second to fourth commands of the minute: each asks the model
            assert button(await dm(env, "alice", "please make me a convener"))
        assert len(server.requests) == 3
        for _ in range(5):  # past the limit: refused, and the model is not called
            [r] = (await dm(env, "alice", "please make me a convener")).replies
            assert r.kind == "error" and "sending commands too fast (the limit is 4 a minute)" in r.to_text()
        assert len(server.requests) == 3
        clock.advance(timedelta(minutes=1))
        assert button(await dm(env, "alice", "please make me a convener")) and len(server.requests) == 4
    finally:
        await env.llm.close()
