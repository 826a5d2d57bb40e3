"""No member can stall or flood the bot: bounded searches off the event loop, bounded numbers, and
per-person limits on commands, announcements and code guessing that hold across processes."""

from __future__ import annotations

import random
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import ratelimit, slots
from bot.bootstrap import App, build
from bot.clock import VirtualClock
from bot.command import PLATFORMS, UserRef, Where
from bot.config import Settings
from storage.db import Database
from tests.conftest import Harness, Recorder, table_snapshot
from tests.test_simulate import SCRIPTS, events, wgbot

ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Adelaide", "Asia/Kathmandu"]


def test_trust_script_refuses_each_attempt_with_a_user_error() -> None:
    run = wgbot("simulate", str(SCRIPTS / "trust.script"), "--json")
    assert run.returncode == 0, run.stderr
    out = events(run.stdout)
    errors = [e["text"] for e in out if e["kind"] == "error"]
    assert not [e for e in errors if "Something went wrong" in e], errors
    assert "Traceback" not in run.stderr
    joined = "\n".join(errors)
    assert "`bob` could mean several members: bob@slack or bob@discord (“bob@discord”)." in joined
    assert "Observers can read but not make proposals" in joined
    assert "Observers can read but not answer meeting invitations" in joined
    assert "Cannot read `²` as a duration" in joined  # within:²
    assert joined.count("far too long a duration") == 2  # within:99999999999, duration:99999999999999999m
    assert "has no occurrence within five years" in joined  # FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30
    assert "more than five years ahead" in joined
    assert "`P²` is not an id" in joined
    assert any("Suggested slots (1 day, next 60 days)" in e["text"] for e in out)
    assert any(e["to"] == "user:ana" and "bob is now a convener" in e["text"] for e in out)


@given(
    st.lists(st.sampled_from(ZONES), min_size=1, max_size=6),
    st.integers(min_value=15, max_value=24 * 60),
    st.integers(min_value=1, max_value=4),
    st.integers(min_value=0, max_value=24 * 60 - 1),
)
@settings(max_examples=25, deadline=None)
def test_fast_suggest_scores_exactly_as_the_slot_by_slot_definition(
    zones: list[str], minutes: int, days: int, offset: int
) -> None:
    now = datetime(2026, 3, 27, 0, 0, tzinfo=UTC) + timedelta(minutes=offset)  # across a DST switch
    duration, within = timedelta(minutes=minutes), timedelta(days=days)
    fast = slots.suggest(now, duration, within, zones)
    for slot in fast:
        assert slot == slots.score(slot.start, duration, zones)
    # and it is the best: no candidate beats the best chosen one
    first = fast[0] if fast else None
    if first is not None:
        t = min(s.start for s in fast)
        while t + duration <= now + within:
            other = slots.score(t, duration, zones)
            assert (other.outside, other.night_minutes) >= (
                min((s.outside, s.night_minutes) for s in fast)
            ) or other.start in {s.start for s in fast}
            t += timedelta(minutes=30)


async def test_suggest_runs_off_the_event_loop(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[threading.Thread] = []
    real = slots.suggest

    def spy(*args: object, **kwargs: object) -> list[slots.Slot]:
        threads.append(threading.current_thread())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(slots, "suggest", spy)
    await harness.say("ana", "/wg join civil-society")
    r = await harness.say("ana", "/wg meeting suggest duration:24h within:60")
    assert "Suggested slots" in r.replies[0].to_text()
    assert threads and threads[0] is not threading.main_thread()


async def test_suggest_with_members_in_many_zones_answers(harness: Harness) -> None:
    from zoneinfo import available_timezones

    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))[:200]
    await harness.say("ana", "/wg join civil-society")
    for i, tz in enumerate(zones):
        await harness.say(f"m{i}", f"/wg join academia tz:{tz}", platform="slack")
    r = await harness.say("ana", "/wg meeting suggest duration:24h within:60")
    assert r.replies[0].kind == "reply" and "of 201 outside 07:00–22:00" in r.replies[0].to_text()


@pytest.fixture
async def limited(db: Database, clock: VirtualClock) -> AsyncIterator[Harness]:
    """The recording harness with small limits: 5 commands a minute, 2 announcements an hour, 3 wrong codes."""
    from adapters.console.simulate import ensure_sim_group

    recorders = {p: Recorder(p) for p in (*PLATFORMS, "email")}
    app = await _app(db, clock, list(recorders.values()))
    await ensure_sim_group(app)
    yield Harness(app, clock, recorders)


async def _app(db: Database, clock: VirtualClock, senders: list[Recorder]) -> App:
    settings = Settings(
        WGBOT_DATABASE_URL=str(db.url),
        WGBOT_RATE_COMMANDS_PER_MINUTE=5,
        WGBOT_RATE_ANNOUNCEMENTS_PER_HOUR=2,
        WGBOT_RATE_WRONG_CODES_PER_HOUR=3,
    )
    return await build(
        settings, clock=clock, db=db, rng=random.Random(0), senders=list(senders), worker_id="t", upgrade=False
    )


async def test_commands_per_minute_are_limited_per_person(limited: Harness) -> None:
    for _ in range(5):
        assert limited.say is not None
        r = await limited.say("ana", "/wg help")
        assert r.replies[0].kind == "reply"
    r = await limited.say("ana", "/wg help")
    assert r.replies[0].kind == "error" and r.replies[0].private
    assert "sending commands too fast (the limit is 5 a minute). Try again in" in r.replies[0].to_text()
    # someone else is not affected, and the limit resets with the next minute
    assert (await limited.say("ben", "/wg help")).replies[0].kind == "reply"
    limited.clock.advance(timedelta(minutes=1))
    assert (await limited.say("ana", "/wg help")).replies[0].kind == "reply"


async def test_unknown_commands_parse_errors_and_plain_words_count_against_the_limit(limited: Harness) -> None:
    # none of these is a command, yet each counts: the limit cannot be dodged by mistyping
    for text in ("/wg frobnicate", '/wg propose "unclosed', "hello there, how do I vote?", "/wg help x:1"):
        r = await limited.say("ana", text)
        assert r.replies and "too fast" not in r.replies[0].to_text(), text
    assert (await limited.say("ana", "/wg help")).replies[0].kind == "reply"  # the fifth
    for text in ("/wg help", "/wg frobnicate", "plain words again"):
        r = await limited.say("ana", text)
        assert r.replies[0].kind == "error" and "sending commands too fast (the limit is 5 a minute)" in (
            r.replies[0].to_text()
        )
    limited.clock.advance(timedelta(minutes=1))
    assert "Unknown command `frobnicate`" in (await limited.say("ana", "/wg frobnicate")).replies[0].to_text()


async def test_a_redelivered_unknown_command_is_answered_and_counted_once(limited: Harness) -> None:
    core, user, where = limited.app.core, UserRef("slack", "ana", "ana"), Where("slack", "wg", "wg")
    first = await core.handle_text("/wg frobnicate", user, where, event_id="Ev1")
    assert "Unknown command" in first.replies[0].to_text()
    assert (await core.handle_text("/wg frobnicate", user, where, event_id="Ev1")).replies == []
    async with limited.app.db.session() as s:
        now = limited.clock.now()
        assert await ratelimit.used(s, ratelimit.person_key("cmd", user), limited.app.core.limits.commands, now) == 1


async def test_the_limit_holds_across_processes(limited: Harness, db: Database, clock: VirtualClock) -> None:
    other = await _app(db, clock, [])
    user, where = UserRef("console", "ana", "ana"), Where("console", "wg", "wg")
    for i in range(5):
        core = limited.app.core if i % 2 else other.core
        assert (await core.handle_text("/wg help", user, where)).replies[0].kind == "reply"
    r = await other.core.handle_text("/wg help", user, where)
    assert "too fast" in r.replies[0].to_text()


async def test_announcements_a_member_causes_are_limited(limited: Harness) -> None:
    await limited.say("ana", "/wg join civil-society")
    await limited.say("ana", '/wg propose "One" first')
    await limited.say("ana", '/wg propose "Two" second')
    before = await table_snapshot(limited.app.db)
    sent = len(limited.sent())
    r = await limited.say("ana", '/wg propose "Three" third')
    assert r.replies[0].kind == "error"
    assert "You have caused 2 announcements this hour, the most one member may" in r.replies[0].to_text()
    assert await table_snapshot(limited.app.db) == before and len(limited.sent()) == sent
    limited.clock.advance(timedelta(hours=1))
    r = await limited.say("ana", '/wg propose "Three" third')
    assert "P3 recorded" in r.replies[0].to_text()


async def test_wrong_link_codes_are_limited_and_codes_are_unpredictable(
    limited: Harness, db: Database, clock: VirtualClock
) -> None:
    await limited.say("ana", "/wg join civil-society", platform="slack")
    text = (await limited.say("ana", "/wg link", platform="slack")).replies[0].to_text()
    code = text.split("Your link code is ")[1].split(".")[0]
    for guess in ("AAAAAAAA", "BBBBBBBB", "CCCCCCCC"):
        r = await limited.say("mallory", f"/wg link {guess}", platform="discord")
        assert "unknown, used or expired" in r.replies[0].to_text()
    limited.clock.advance(timedelta(minutes=1))  # (not the command limit)
    r = await limited.say("mallory", f"/wg link {code}", platform="discord")
    assert "Too many wrong codes (3 an hour)" in r.replies[0].to_text()
    # the real owner on their own account is not affected
    r = await limited.say("ana_d", f"/wg link {code}", platform="discord")
    assert "Linked" in r.replies[0].to_text()
    # codes come from secrets, not from the (seeded, reproducible) random source
    other = await _app(db, clock, [])
    again = await other.core.handle_text("/wg link", UserRef("slack", "ana", "ana"), Where("slack", "wg", "wg"))
    assert again.replies[0].to_text().split("Your link code is ")[1].split(".")[0] != code


def test_env_example_documents_the_limits() -> None:
    text = (Path(__file__).parent.parent / ".env.example").read_text(encoding="utf-8")
    for name in (
        "WGBOT_RATE_COMMANDS_PER_MINUTE",
        "WGBOT_RATE_ANNOUNCEMENTS_PER_HOUR",
        "WGBOT_RATE_WRONG_CODES_PER_HOUR",
    ):
        assert f"{name}=" in text
