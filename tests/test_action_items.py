"""Action items with owners: from a thread summary (the model sees pseudonyms; the stored item keeps
the pseudonym → member id mapping) and from a live session's minutes; in the weekly digest (open
ones, deduplicated, with source and age, in each reader's zone), in `/wg todo` (with `done A<n>`),
in the white paper and the data export; an erased owner reads "a former member", an owner who
opted out is not named."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from adapters.console.chatlog import ChatLog
from adapters.console.simulate import ensure_sim_group
from adapters.llm.openai_client import OpenAICompatibleLLM
from bot.bootstrap import build
from bot.clock import VirtualClock
from bot.command import UserRef, Where
from bot.config import Settings
from bot.whitepaper import build as build_paper
from bot.whitepaper import find_group
from bot.whitepaper_render import to_markdown
from storage.db import Database
from storage.models import ActionItem, Member
from tests.conftest import PLATFORMS, Harness, Recorder
from tests.fakes.openai_server import FakeOpenAI, Scripted

MONDAY = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
#: late on Wednesday in UTC: already Thursday in Shanghai
EVENING = datetime(2026, 1, 7, 22, 30, tzinfo=UTC)


class Env(Harness):
    chat: ChatLog

    async def post(self, name: str, text: str, thread: str = "t1") -> None:
        await self.chat.record(UserRef("console", name, name), Where("console", "wg", "wg", thread_id=thread), text)


@pytest.fixture
async def env(db: Database, clock: VirtualClock) -> AsyncIterator[Env]:
    server = FakeOpenAI()
    await server.start()
    settings = Settings(
        WGBOT_DATABASE_URL=str(db.url),
        OPENAI_API_KEY="sk-test-not-a-secret",
        OPENAI_BASE_URL=server.base_url,
        WGBOT_LLM_MODEL="test-model",
        WGBOT_LLM_MAX_RETRIES=0,
    )
    llm = OpenAICompatibleLLM.from_settings(settings)
    recorders = {p: Recorder(p) for p in (*PLATFORMS, "email")}
    app = await build(
        settings, clock=clock, db=db, rng=random.Random(0), senders=list(recorders.values()), worker_id="test",
        upgrade=False, llm=llm,
    )  # fmt: skip
    await ensure_sim_group(app)
    chat = ChatLog(clock)
    app.extras["thread_sources"]["console"] = chat.source("console")  # type: ignore[index]
    e = Env(app, clock, recorders)
    e.chat = chat
    e.server = server  # type: ignore[attr-defined]
    yield e
    await llm.close()
    await server.stop()


async def week(env: Env) -> None:
    await env.say("ana", "/wg join civil-society tz:Europe/Paris")  # the convener
    await env.say("carol", "/wg join academia tz:Asia/Shanghai email:carol@example.edu")
    await env.say("zoltan_k", "/wg join government tz:America/New_York")
    await env.say("priyanka", "/wg join private-sector tz:UTC")
    await env.say("ana", "/wg digest subscribe email:carol@example.edu for:carol")
    await env.say("ana", '/wg meeting "Drafting call" at:"2026-01-08 14:00 UTC"')
    await env.advance_to(EVENING)
    await env.post("ana", "Should the taxonomy cover model theft?")
    await env.post("carol", "I'll draft the mapping table, zoltan_k please review.")
    await env.post("zoltan_k", "I will send the ministry's comments.")
    await env.post("priyanka", "I'll check our vendor list.")
    r = await env.say("ana", "/wg summarize", thread="t1")
    assert r.replies[0].kind == "summary", r.replies[0].to_text()
    await env.advance_to(datetime(2026, 1, 8, 14, 0, tzinfo=UTC))
    await env.say("ana", "/wg live start M1")
    await env.say("ana", '/wg pause "Next steps?"')
    await env.say("carol", "/wg react I will circulate the draft by friday")
    await env.say("zoltan_k", "/wg react action: update the glossary")
    await env.say("priyanka", "/wg ask I'll bring the survey results, useful? anonymous")
    r = await env.say("ana", "/wg live end")
    assert "ended" in r.replies[0].to_text(), r.replies[0].to_text()
    await env.post("carol", "I will circulate the draft by friday", thread="t2")  # said twice: one item
    await env.say("ana", "/wg summarize", thread="t2")


def digest_to(env: Env, label: str, platform: str = "console") -> str:
    [text] = [m.reply.to_text() for m in env.sent(platform) if m.kind == "digest" and m.destination.label == label]
    return text


async def items(env: Env) -> list[ActionItem]:
    async with env.app.db.session() as s:
        return list((await s.exec(select(ActionItem).order_by(col(ActionItem.number)))).all())


async def member_id(env: Env, handle: str) -> int:
    async with env.app.db.session() as s:
        m = (await s.exec(select(Member).where(Member.display_name == handle))).one()
        assert m.id is not None
        return m.id


async def test_a_week_with_owners_reaches_the_digest_todo_and_white_paper(env: Env) -> None:
    await week(env)
    stored = await items(env)
    carol, zoltan, priyanka = [await member_id(env, h) for h in ("carol", "zoltan_k", "priyanka")]
    by_number = {it.number: it for it in stored}
    assert [(it.source, it.owners) for it in stored] == [
        ("thread", [carol]), ("thread", [zoltan]), ("thread", [priyanka]),
        ("meeting", []), ("meeting", [carol]), ("meeting", []), ("thread", [carol]),
    ]  # fmt: skip
    # stored pseudonymous: the names live in the members table, reached through the ids
    assert by_number[1].text == "I'll draft the mapping table, Person-3 please review."
    assert all("carol" not in it.text and "zoltan" not in it.text for it in stored if it.source == "thread")
    assert set(by_number[1].people.values()) == {carol, zoltan}
    sent = env.server.sent_text()  # type: ignore[attr-defined]
    assert "carol" not in sent and "zoltan" not in sent

    todo = (await env.say("carol", "/wg todo")).replies[0].to_text()
    assert "A1 I'll draft the mapping table, zoltan_k please review. — carol" in todo
    assert "A5 I will circulate the draft by friday — carol (M1 “Drafting call” live session" in todo
    assert "/wg todo done A1" in todo and "A2" not in todo

    env.clear()
    await env.advance_to(MONDAY)
    channel = digest_to(env, "channel:wg")
    assert "Open action items" in channel
    first = "A1 I'll draft the mapping table, zoltan_k please review. — carol (a console thread, since {} Jan 2026, "
    first += "4 days open)"
    assert first.format(7) in channel
    assert "A2 I will send the ministry's comments. — zoltan_k (a console thread" in channel
    assert (
        "A5 I will circulate the draft by friday — carol (M1 “Drafting call” live session, since 8 Jan 2026, "
        "3 days open; also in 1 other source)"
    ) in channel
    assert "A7" not in channel
    assert "A6 update the glossary (M1" in channel  # nobody committed themselves: no owner
    assert "A4 I'll bring the survey results, useful? (M1" in channel  # an anonymous question names nobody
    # carol reads in Shanghai: the Wednesday-evening thread is Thursday there
    mail = digest_to(env, "email:carol@example.edu", "email")
    assert first.format(8) in mail

    paper = to_markdown(await _paper(env))
    assert "## Action items" in paper and "A1 I'll draft the mapping table, zoltan_k please review. — carol" in paper
    assert "Parts generated by an AI model: the action items taken from thread summaries (by test-model)" in paper


async def _paper(env: Env):  # type: ignore[no-untyped-def]
    async with env.app.db.session() as s:
        return await build_paper(s, await find_group(s, None))


async def test_done_erase_and_opt_out_change_what_is_shown(env: Env) -> None:
    await week(env)
    refused = (await env.say("priyanka", "/wg todo done A1")).replies[0]
    assert refused.kind == "error" and "Only an owner of A1 or a convener" in refused.to_text()
    assert "A1 I'll draft" in (await env.say("carol", "/wg todo done A1")).replies[0].to_text()
    again = (await env.say("carol", "/wg todo done A1")).replies[0]
    assert again.kind == "error" and "already done" in again.to_text()
    assert "A9" in (await env.say("ana", "/wg todo done A9")).replies[0].to_text()  # no such item
    bad = (await env.say("ana", "/wg todo finish A2")).replies[0]
    assert bad.kind == "error" and "done A<n> or reopen A<n>" in bad.to_text()
    assert "open again" in (await env.say("ana", "/wg todo reopen A1")).replies[0].to_text()
    assert "done" in (await env.say("ana", "/wg todo done A1")).replies[0].to_text()  # a convener may

    await env.say("priyanka", "/wg privacy opt-out")
    done = (await env.say("zoltan_k", "/wg privacy erase confirm")).replies[0]
    assert done.kind != "error", done.to_text()

    env.clear()
    await env.advance_to(MONDAY)
    channel = digest_to(env, "channel:wg")
    assert "A1 " not in channel  # done
    assert "A2 I will send the ministry's comments. — a former member (a console thread" in channel
    assert "A3 I'll check our vendor list. (a console thread" in channel  # opted out: not named
    assert "zoltan" not in channel and "priyanka" not in channel

    paper = to_markdown(await _paper(env))
    assert "### Done" in paper and "zoltan" not in paper
    export = (await env.say("carol", "/wg privacy export")).replies[0]
    data = json.loads(next(b.content for b in export.blocks if b.type == "attachment"))  # type: ignore[union-attr]
    assert [i["id"] for i in data["action_items"]] == ["A1", "A5", "A7"]


async def test_a_re_summarized_thread_keeps_its_items_once_and_closes_what_is_gone(env: Env) -> None:
    await week(env)
    await env.post("ana", "Thanks all, noted.")
    await env.say("ana", "/wg summarize", thread="t1")  # the update repeats the items: no duplicates
    assert [it.number for it in await items(env) if it.source_ref.endswith(":t1") and it.closed is None] == [1, 2, 3]

    await env.post("carol", "Mapping table is done.")
    only_one = {
        "tldr": "Comments pending.",
        "action_items": [{"text": "I will send the ministry's comments.", "owner": "Person-3", "sources": ["m3"]}],
    }
    env.server.script.append(Scripted(content=json.dumps(only_one)))  # type: ignore[attr-defined]
    await env.say("ana", "/wg summarize", thread="t1")
    state = {it.number: it.closed for it in await items(env) if it.source_ref.endswith(":t1")}
    assert state == {1: "superseded", 2: None, 3: "superseded"}
    todo = (await env.say("carol", "/wg todo")).replies[0].to_text()
    assert "A1" not in todo and "A5" in todo


async def add_item(db: Database, owner: str, text: str, at: datetime) -> int:
    """An open action item from a (Slack) thread, owned by the member whose display name is `owner`
    (written directly: the adapters' tests are about the command, not where items come from)."""
    from bot.services.action_items import item_key, next_number

    async with db.transaction() as s:
        m = (await s.exec(select(Member).where(Member.display_name == owner))).one()
        assert m.id is not None
        number = await next_number(s, m.wg_id)
        s.add(
            ActionItem(
                wg_id=m.wg_id, number=number, source="thread", source_ref="thread:slack:C1:1.2", platform="slack",
                text=text, owner="Person-1", owners=[m.id], people={"Person-1": m.id},
                key=item_key(text, [m.id], {}), created_at=at,
            )
        )  # fmt: skip
    return number


async def test_thread_items_go_with_cached_summaries_in_the_retention_purge(env: Env) -> None:
    from datetime import timedelta

    from bot import purge

    await week(env)
    await purge.ensure_planned(env.app.db, env.clock.now(), 30)
    await env.advance_to(env.clock.now() + timedelta(days=29))
    assert {it.source for it in await items(env)} == {"thread", "meeting"}
    await env.advance_to(env.clock.now() + timedelta(days=2))
    assert [it.number for it in await items(env)] == [4, 5, 6]  # the live session's stay with its minutes


async def test_a_preview_counts_an_items_age_to_now_not_to_the_coming_digest(harness: Harness) -> None:
    await harness.say("alice", "/wg join civil-society")
    await harness.say("dave", "/wg join academia")
    await harness.say("alice", '/wg meeting "M" at:"in 1h"')
    await harness.say("alice", "/wg live start M1")
    await harness.say("dave", "/wg ask I'll draft the report")
    await harness.say("alice", "/wg live end")
    preview = (await harness.say("dave", "/wg digest preview")).replies[0].to_text()
    assert "I'll draft the report — dave" in preview and "new)" in preview and "days open" not in preview
