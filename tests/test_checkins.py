"""Check-ins: asked by DM at the local time in each member's zone, one nudge, answers kept, /wg todo."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.services.checkins import nudge_time
from storage.models import CheckinAnswer, ScheduledJob
from tests.conftest import Harness, table_snapshot
from tests.test_meetings import run_script


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def test_checkin_is_asked_at_each_members_local_time_and_nudges_only_who_did_not_answer(db_url: str) -> None:
    events = await run_script("checkin.script", db_url)
    sent = [(e.at, e.to, "nudge" if "still waiting" in e.text else "ask") for e in events if e.kind == "reminder"]
    assert sent == [
        (at("2026-01-07T00:00"), "dm:kenji", "ask"),  # 09:00 in Tokyo
        (at("2026-01-07T09:00"), "dm:ana", "ask"),  # 09:00 in Lisbon
        (at("2026-01-07T11:00"), "dm:kenji", "nudge"),  # 20:00 in Tokyo; ana answered, so no nudge for her
        (at("2026-01-07T14:00"), "dm:nora", "ask"),  # 09:00 in New York
        (at("2026-01-08T01:00"), "dm:nora", "nudge"),  # 20:00 in New York
    ]
    shown = [e.text for e in events if e.to == "channel:wg" and e.text.startswith("C1:")]
    assert "ana: Drafted the taxonomy section." in shown[0]


async def test_given_zone_overrides_members_zones(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society region:weog tz:Europe/Lisbon")
    await harness.say("kenji", "/wg join technical-community tz:Asia/Tokyo", platform="discord")
    await harness.say("ana", '/wg checkin "Status?" every:weekday at:10:00 tz:Europe/Paris')
    harness.clear()
    await harness.advance_to(at("2026-01-06T12:00"))
    asks = sorted(
        (m.created_at, m.destination.label) for m in harness.sent() if "still waiting" not in m.reply.to_text()
    )
    # created on Monday at 09:00 UTC, exactly 10:00 in Paris: too late for Monday, so both start on Tuesday,
    # at 10:00 Paris (09:00 UTC) whatever their own zone
    assert asks == [(at("2026-01-06T09:00"), "dm:ana"), (at("2026-01-06T09:00"), "dm:kenji")]


async def test_answers_are_kept_and_todo_lists_what_waits(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society region:weog tz:Europe/Lisbon")
    await harness.say("bo", "/wg join academia tz:UTC")
    await harness.say("ana", '/wg meeting "Call" at:2026-01-09T14:00Z')
    await harness.say("ana", '/wg checkin "Blockers?" every:day at:12:00')
    before = await table_snapshot(harness.app.db)
    early = await harness.say("bo", "/wg answer C1 none")
    assert early.replies[0].kind == "error" and "not been asked yet" in early.replies[0].to_text()
    assert await table_snapshot(harness.app.db) == before
    await harness.advance_to(at("2026-01-05T12:30"))
    todo = (await harness.say("bo", "/wg todo")).replies[0].to_text()
    assert "RSVP to M1" in todo and "Answer C1" in todo
    await harness.say("bo", "/wg rsvp M1 yes")
    await harness.say("bo", "/wg answer C1 none so far")
    await harness.say("bo", "/wg answer C1 none at all")  # a second answer replaces the first
    assert "Nothing is waiting" in (await harness.say("bo", "/wg todo")).replies[0].to_text()
    async with harness.app.db.session() as s:
        answers = (await s.exec(select(CheckinAnswer))).all()
    assert [(a.occurrence, a.text) for a in answers] == [("2026-01-05", "none at all")]


@pytest.mark.parametrize(
    ("asked", "nudged"),
    [
        ("09:00", "20:00"),  # the end of the day
        ("06:00", "18:00"),  # at most 12 h after the question
        ("19:00", "21:00"),  # at least 2 h after the question
        ("21:30", "23:30"),  # still before local midnight
        ("22:00", None),  # no time left that day: no nudge
        ("23:45", None),
    ],
)
def test_nudge_comes_at_least_two_hours_after_the_question_the_same_day_or_not_at_all(
    asked: str, nudged: str | None
) -> None:
    ask_at = datetime.fromisoformat(f"2026-01-07T{asked}").replace(tzinfo=ZoneInfo("Asia/Tokyo"))
    got = nudge_time(ask_at, "Asia/Tokyo")
    assert (None if got is None else f"{got.astimezone(ZoneInfo('Asia/Tokyo')):%H:%M}") == nudged


async def test_a_late_evening_checkin_is_never_nudged_before_it_is_asked(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society region:weog tz:Europe/Lisbon")
    await harness.say("kenji", "/wg join technical-community tz:Asia/Tokyo", platform="discord")
    await harness.say("ana", '/wg checkin "Anything to flag?" every:day at:23:45')
    harness.clear()
    await harness.advance_to(at("2026-01-08T12:00"))
    sent = sorted(
        (m.created_at, m.destination.label, "nudge" if "still waiting" in m.reply.to_text() else "ask")
        for m in harness.sent()
        if m.kind == "reminder"
    )
    assert sent == [
        (at("2026-01-05T14:45"), "dm:kenji", "ask"),  # 23:45 in Tokyo
        (at("2026-01-05T23:45"), "dm:ana", "ask"),  # 23:45 in Lisbon
        (at("2026-01-06T14:45"), "dm:kenji", "ask"),
        (at("2026-01-06T23:45"), "dm:ana", "ask"),
        (at("2026-01-07T14:45"), "dm:kenji", "ask"),
        (at("2026-01-07T23:45"), "dm:ana", "ask"),
    ]
    async with harness.app.db.session() as s:
        assert (await s.exec(select(ScheduledJob).where(ScheduledJob.kind == "checkin.nudge"))).all() == []


async def test_convener_stops_a_checkin_its_jobs_are_dropped_and_answers_refused(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society region:weog tz:Europe/Lisbon")
    await harness.say("bo", "/wg join academia tz:UTC")
    await harness.say("ana", '/wg checkin "Blockers?" every:day at:12:00')
    await harness.advance_to(at("2026-01-05T12:30"))
    await harness.say("bo", "/wg answer C1 none")
    refused = await harness.say("bo", "/wg checkin stop C1")
    assert refused.replies[0].kind == "error" and "convener" in refused.replies[0].to_text()
    harness.clear()
    r = await harness.say("ana", "/wg checkin stop C1")
    assert "C1 stopped" in r.replies[0].to_text()
    stopped = [m for m in harness.sent() if m.kind == "announcement"]
    assert sorted(m.destination.platform for m in stopped) == ["console", "discord", "slack"]
    assert all("Stopped: check-in C1" in m.reply.to_text() for m in stopped)
    async with harness.app.db.session() as s:
        pending = (await s.exec(select(ScheduledJob).where(ScheduledJob.status == "pending"))).all()
    assert [j.key for j in pending if j.ref == "checkin:1"] == []
    assert "Status: stopped" in (await harness.say("bo", "/wg show C1")).replies[0].to_text()
    harness.clear()
    await harness.advance_to(at("2026-01-08T12:30"))
    assert [m for m in harness.sent() if m.kind == "reminder"] == []
    assert "Nothing is waiting" in (await harness.say("bo", "/wg todo")).replies[0].to_text()
    before = await table_snapshot(harness.app.db)
    late = await harness.say("bo", "/wg answer C1 something")
    assert late.replies[0].kind == "error" and "C1 was stopped" in late.replies[0].to_text()
    again = await harness.say("ana", "/wg checkin stop C1")
    assert again.replies[0].kind == "error" and "already stopped" in again.replies[0].to_text()
    unknown = await harness.say("ana", "/wg checkin stop C7")
    assert unknown.replies[0].kind == "error" and "no check-in C7" in unknown.replies[0].to_text()
    assert await table_snapshot(harness.app.db) == before


async def test_observers_are_not_asked_and_their_reminders_carry_no_rsvp_buttons(harness: Harness) -> None:
    from bot.reply import Actions

    await harness.say("ana", "/wg join civil-society region:weog tz:Europe/Lisbon")
    await harness.say("olga", "/wg join academia tz:Europe/Lisbon")
    await harness.say("ana", "/wg role olga observer")
    await harness.say("ana", '/wg checkin "Status?" every:weekday at:10:00 tz:Europe/Lisbon')
    r = await harness.say("ana", "/wg meeting Sync at:2026-01-06T15:00")
    assert "scheduled" in r.replies[0].to_text(), r.replies[0].to_text()
    harness.clear()
    await harness.advance_to(at("2026-01-06T16:00"))
    sent = harness.sent()
    asks = {m.destination.label for m in sent if m.reply.to_text().startswith("Check-in C1")}
    assert asks == {"dm:ana"}
    reminders = {m.destination.label: m.reply for m in sent if m.reply.to_text().startswith("Reminder: M1")}
    assert "dm:olga" in reminders and "dm:ana" in reminders
    assert not any(isinstance(b, Actions) for b in reminders["dm:olga"].blocks)
    assert any(isinstance(b, Actions) for b in reminders["dm:ana"].blocks)
