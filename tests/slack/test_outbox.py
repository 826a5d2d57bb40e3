"""Delivery through the outbox to Slack: 429 handling, pacing, pages, DMs for reminders and check-ins."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from adapters.slack.client import web_client
from adapters.slack.sender import SlackSender
from bot.clock import VirtualClock
from bot.config import Settings
from bot.outbox import DeliveryError, Destination, Dispatcher, Outgoing, enqueue
from bot.reply import Reply, Text
from storage.db import Database
from storage.models import OutboxMessage
from tests.fakes.slack_api import FakeSlackAPI
from tests.slack.blockkit import check_call
from tests.slack.conftest import TOKEN, SlackEnv
from tests.slack.test_http import setup_group


async def test_429_is_retried_after_retry_after_once(slack: SlackEnv) -> None:
    await setup_group(slack)
    slack.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    await slack.slash('propose "Rate limited" Wait for it.')
    await slack.settle()
    attempts = [c for c in slack.fake.calls if c.method == "chat.postMessage"]
    assert [(c.status, c.ok) for c in attempts] == [(429, False)]
    await slack.app.run_due()  # not due yet: Retry-After is honoured, not ignored
    assert len([c for c in slack.fake.calls if c.method == "chat.postMessage"]) == 1
    slack.clock.advance(timedelta(seconds=1))
    await slack.app.run_due()
    delivered = slack.fake.of("chat.postMessage")
    assert len(delivered) == 1 and "Rate limited" in delivered[0]["text"]
    await slack.app.run_due()
    assert len(slack.fake.of("chat.postMessage")) == 1  # once


def outgoing(n: int, address: str, reply: Reply, kind: str = "announcement") -> Outgoing:
    return Outgoing(
        id=n,
        key=f"k{n}",
        destination=Destination("slack", address, address),
        kind=kind,
        reply=reply,
        attempts=1,
        created_at=datetime(2026, 1, 5, tzinfo=UTC),
    )


@pytest.fixture
def sender_parts(fake_slack: FakeSlackAPI) -> tuple[SlackSender, list[float]]:
    settings = Settings(SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=fake_slack.url)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    sender = SlackSender(web_client(settings), min_interval=1.0, monotonic=lambda: 100.0, sleep=sleep)
    return sender, slept


async def test_posts_are_paced_per_channel(
    fake_slack: FakeSlackAPI, sender_parts: tuple[SlackSender, list[float]]
) -> None:
    sender, slept = sender_parts
    for i, address in enumerate(["channel:C1", "channel:C1", "channel:C2", "thread:C1/1.5", "dm:U7"]):
        await sender.send(outgoing(i, address, Reply.text(f"message {i}")))
    # the clock stands still here, so each post after the first in one channel waits a full second
    assert slept == [1.0, 1.0]
    posts = fake_slack.of("chat.postMessage")
    assert [(p["channel"], p.get("thread_ts")) for p in posts] == [
        ("C1", None),
        ("C1", None),
        ("C2", None),
        ("C1", "1.5"),
        ("U7", None),  # a DM: posted to the user id, Slack opens the app's DM
    ]


async def test_posts_across_channels_keep_the_workspace_rate_after_a_short_burst(fake_slack: FakeSlackAPI) -> None:
    settings = Settings(SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=fake_slack.url)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))

    # the clock stands still: three posts may go at once (the burst), then each waits its slot
    sender = SlackSender(web_client(settings), per_second=10, monotonic=lambda: 100.0, sleep=sleep)
    for i in range(5):
        await sender.send(outgoing(i, f"channel:C{i}", Reply.text(f"message {i}")))
    assert slept == [0.1, 0.2]
    assert len(fake_slack.of("chat.postMessage")) == 5


async def test_long_reply_is_paged_and_a_retry_does_not_repeat_pages(
    fake_slack: FakeSlackAPI, sender_parts: tuple[SlackSender, list[float]]
) -> None:
    sender, _ = sender_parts
    reply = Reply(blocks=[Text(text=f"Line {i}") for i in range(120)], kind="digest")
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=3)
    with pytest.raises(DeliveryError) as first:
        await sender.send(outgoing(1, "channel:C1", reply))
    assert first.value.retry_after == 3.0 and not first.value.permanent
    fake_slack.calls.clear()
    await sender.send(outgoing(1, "channel:C1", reply))
    pages = fake_slack.of("chat.postMessage")
    assert len(pages) == 3
    for page in pages:
        check_call("chat.postMessage", page)
    assert "Line 0" in pages[0]["text"] and "Line 119" in pages[2]["text"]


async def test_a_restart_after_page_two_failed_resumes_at_page_two(
    fake_slack: FakeSlackAPI, db: Database, clock: VirtualClock
) -> None:
    """The pages delivered are recorded in the outbox row, not in the process: a new dispatcher and
    a new sender (a restart) send only the pages that did not go out."""
    settings = Settings(SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=fake_slack.url)
    reply = Reply(blocks=[Text(text=f"Line {i}") for i in range(120)], kind="digest")
    async with db.transaction() as s:
        await enqueue(
            s, key="long", destination=Destination("slack", "channel:C1", "channel:wg"), reply=reply, now=clock.now()
        )
    calls = 0
    original = fake_slack.m_chat_postMessage

    def second_fails(body: dict[str, object]) -> dict[str, object]:
        nonlocal calls
        calls += 1
        if calls == 2:
            return {"ok": False, "error": "internal_error"}
        return original(body)

    fake_slack.m_chat_postMessage = second_fails  # type: ignore[method-assign]

    async def no_sleep(_seconds: float) -> None:
        return None

    first = Dispatcher(db, clock, [SlackSender(web_client(settings), sleep=no_sleep)], worker_id="first")
    assert await first.run_once() == 0
    async with db.session() as s:
        row = (await s.exec(select(OutboxMessage))).one()
    assert (row.status, row.pages_sent) == ("pending", 1) and row.platform_ref
    first_ts = row.platform_ref
    clock.advance(timedelta(minutes=1))
    restarted = Dispatcher(db, clock, [SlackSender(web_client(settings), sleep=no_sleep)], worker_id="second")
    assert await restarted.run_once() == 1
    texts = [p["text"] for p in fake_slack.of("chat.postMessage")]
    assert len(texts) == 3  # page 1, then (after the failure and the restart) pages 2 and 3: nothing twice
    assert "Line 0" in texts[0] and "Line 119" in texts[2]
    async with db.session() as s:
        row = (await s.exec(select(OutboxMessage))).one()
    assert row.status == "sent" and row.platform_ref == first_ts  # the message's id is its first page's


async def test_permanent_errors_and_not_in_channel(
    fake_slack: FakeSlackAPI, sender_parts: tuple[SlackSender, list[float]]
) -> None:
    sender, _ = sender_parts
    fake_slack.fail_next("chat.postMessage", error="channel_not_found")
    with pytest.raises(DeliveryError) as gone:
        await sender.send(outgoing(1, "channel:CGONE", Reply.text("hello")))
    assert gone.value.permanent
    fake_slack.fail_next("chat.postMessage", error="not_in_channel")
    ts = await sender.send(outgoing(2, "channel:C3", Reply.text("hello")))
    assert ts is not None
    assert [c.method for c in fake_slack.calls[-3:]] == ["chat.postMessage", "conversations.join", "chat.postMessage"]
    with pytest.raises(DeliveryError) as bad:
        await sender.send(outgoing(3, "email:a@b.org", Reply.text("hello")))
    assert bad.value.permanent


async def test_meeting_reminder_and_checkin_arrive_by_dm(slack: SlackEnv) -> None:
    await setup_group(slack)
    await slack.slash('meeting "Kickoff" at:2026-01-06T15:00Z remind:1h')
    await slack.settle()
    slack.fake.clear()
    await slack.advance_to(datetime(2026, 1, 6, 14, 1, tzinfo=UTC))
    reminders = [p for p in slack.fake.of("chat.postMessage") if "Reminder" in p["text"]]
    assert sorted(p["channel"] for p in reminders) == ["C1", "U1", "U2"]  # the channel, and each member by DM
    dm = next(p for p in reminders if p["channel"] == "U2")
    assert "JST" in dm["text"] or "Tokyo" in dm["text"] or "+09" in dm["text"]  # in Bo's own zone
    assert any(b["type"] == "actions" for b in dm["blocks"])  # RSVP buttons in the DM

    slack.fake.clear()
    await slack.slash('checkin "What did you move forward this week?" every:friday')
    await slack.settle()
    await slack.advance_to(datetime(2026, 1, 10, 12, 0, tzinfo=UTC))
    asked = [p for p in slack.fake.of("chat.postMessage") if "What did you move forward" in p["text"]]
    assert {p["channel"] for p in asked} >= {"U1", "U2"}
    assert all("Check-in C1" in p["text"] for p in asked if p["channel"].startswith("U"))


async def test_a_long_digest_is_split_within_block_kit_limits_never_mid_word(slack: SlackEnv) -> None:
    from tests.digest_fixture import add_many_proposals, long_titles

    await setup_group(slack)
    titles = long_titles()
    await add_many_proposals(slack.app.db, slack.clock, titles)
    assert (await slack.slash("digest send"))[0] == 200
    await slack.settle()
    await slack.app.run_due()
    posts = slack.fake.of("chat.postMessage")
    assert posts
    texts: list[str] = []
    for post in posts:
        check_call("chat.postMessage", post)
        blocks = post["blocks"] if isinstance(post["blocks"], list) else json.loads(post["blocks"])
        assert len(blocks) <= 50
        for block in blocks:
            text = (block.get("text") or {}).get("text", "")
            assert len(text) <= 3000
            texts.append(text)
    assert sum("“Proposal " in t for t in texts) >= 3, "12,000 characters need several 3,000-character sections"
    for title in titles:  # every line whole in one block: nothing cut mid-word
        assert sum(f"“{title}”" in t for t in texts) == 1, title
