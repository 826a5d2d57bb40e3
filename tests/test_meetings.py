"""Meetings: the acceptance scenarios of issue 3 (through `wgbot simulate` scripts), RSVP, show, move, cancel."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from adapters.console.simulate import Event, simulate
from bot.command import UserRef, Where
from bot.reply import Actions, Button
from storage.db import Database
from storage.models import Meeting, ScheduledJob
from tests.conftest import Harness, table_snapshot

SCRIPTS = Path(__file__).parent / "scripts"


async def run_script(name: str, db_url: str) -> list[Event]:
    events: list[Event] = []
    lines = (SCRIPTS / name).read_text(encoding="utf-8").splitlines()
    await simulate(lines, db_url, events.append)
    return events


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def test_thursday_meeting_reminders_fire_exactly_once_per_channel_and_dm(db_url: str) -> None:
    events = await run_script("meeting_reminders.script", db_url)
    reminders = [e for e in events if e.kind == "reminder"]
    assert sorted({e.at for e in reminders}) == [at("2026-01-07T14:00"), at("2026-01-08T13:00")]
    for when in (at("2026-01-07T14:00"), at("2026-01-08T13:00")):
        batch = [(e.platform, e.to) for e in reminders if e.at == when]
        # three bound channels, and DMs to ana (no answer), kenji (yes) and nora (no answer); omar said no
        assert sorted(batch) == sorted(
            [
                ("console", "channel:wg"),
                ("slack", "channel:wg"),
                ("discord", "channel:wg"),
                ("console", "dm:ana"),
                ("discord", "dm:kenji"),
                ("slack", "dm:nora"),
            ]
        )
    kenji = [e.text for e in reminders if e.to == "dm:kenji"]
    nora = [e.text for e in reminders if e.to == "dm:nora"]
    assert all("Thu 8 Jan 2026 23:00 JST" in t for t in kenji) and len(kenji) == 2
    assert all("Thu 8 Jan 2026 09:00 EST" in t for t in nora) and len(nora) == 2
    assert all("14:00 UTC" in e.text for e in reminders if e.to == "channel:wg")
    assert "starts in 1 day" in kenji[0] and "starts in 1 hour" in kenji[1]


async def test_weekly_paris_meeting_follows_daylight_saving(db_url: str) -> None:
    events = await run_script("paris_dst.script", db_url)
    times = sorted({e.at for e in events if e.kind == "reminder"})
    # Thu 19 and 26 March are CET (14:00 Paris = 13:00 UTC); 2 April is CEST (12:00 UTC)
    assert times == [at("2026-03-19T12:00"), at("2026-03-26T12:00"), at("2026-04-02T11:00")]
    dm = [e.text for e in events if e.kind == "reminder" and e.to == "dm:ana"]
    assert len(dm) == 3 and all("14:00 CE" in t for t in dm)


def _wgbot() -> list[str]:
    exe = Path(sys.executable).with_name("wgbot")
    return [str(exe)] if exe.exists() else [sys.executable, "-c", "from adapters.cli import main; main()"]


async def test_simulation_continued_from_database_sends_missed_reminder_once_marked_late(
    db_url: str, tmp_path: Path
) -> None:
    import json

    def run(script: str) -> list[dict[str, str]]:
        env = {k: v for k, v in os.environ.items() if k != "WGBOT_DATABASE_URL"}
        p = subprocess.run(
            [*_wgbot(), "simulate", str(SCRIPTS / script), "--json", "--db", db_url],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env=env,
        )
        assert p.returncode == 0, p.stderr[-2000:]
        return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]

    first = run("persistence_1.script")
    assert not [m for m in first if m["kind"] == "reminder"]
    second = run("persistence_2.script")
    reminders = [m for m in second if m["kind"] == "reminder"]
    # the 1h reminder (due 13:00), once per channel and once to ana, at restart, marked late
    assert sorted((m["platform"], m["to"]) for m in reminders) == sorted(
        [("console", "channel:wg"), ("slack", "channel:wg"), ("discord", "channel:wg"), ("console", "dm:ana")]
    )
    assert all(m["at"].startswith("2026-01-08T13:30") for m in reminders)
    assert all("(late: due 2026-01-08 13:00 UTC" in m["text"] and "starts in 30 min" in m["text"] for m in reminders)
    third = run("persistence_3.script")
    assert third == []
    db = Database(db_url)
    try:
        async with db.session() as s:
            jobs = {
                j.key.rsplit(":", 1)[-1]: j
                for j in (await s.exec(select(ScheduledJob).where(ScheduledJob.kind != "digest.send"))).all()
            }
    finally:
        await db.dispose()
    assert jobs["-1440m"].status == "skipped" and "grace" in (jobs["-1440m"].note or "")
    assert jobs["-60m"].status == "done" and jobs["-60m"].late


async def _setup(h: Harness) -> None:
    await h.say("ana", "/wg join civil-society region:weog tz:Europe/Lisbon")
    await h.say("kenji", "/wg join technical-community region:asia-pacific tz:Asia/Tokyo", platform="discord")
    await h.say("nora", "/wg join government region:weog tz:America/New_York", platform="slack")


async def test_rsvp_button_updates_the_card_and_confirms_privately(harness: Harness) -> None:
    await _setup(harness)
    await harness.say("ana", '/wg meeting "Call" at:2026-01-08T14:00Z')
    r = await harness.app.core.handle_text(
        "rsvp M1 maybe", UserRef("discord", "kenji", "kenji"), Where("discord", "wg", "wg"), from_action=True
    )
    assert r.update is not None and "0 yes · 1 maybe · 0 no" in r.update.to_text()
    assert r.replies[0].private and "maybe" in r.replies[0].to_text()
    buttons = [el for b in r.update.blocks if isinstance(b, Actions) for el in b.elements]
    assert [b.action for b in buttons if isinstance(b, Button)] == ["rsvp M1 yes", "rsvp M1 no", "rsvp M1 maybe"]
    typed = await harness.say("nora", "/wg rsvp M1 yes", platform="slack")
    assert typed.update is None and "yes" in typed.replies[0].to_text()


async def test_show_lists_local_times_and_flags_night(harness: Harness) -> None:
    await _setup(harness)
    await harness.say("ana", '/wg meeting "Call" at:2026-01-08T14:00Z duration:90m')
    text = (await harness.say("nora", "/wg show M1", platform="slack")).replies[0].to_text()
    assert "When: Thu 8 Jan 2026 09:00 EST" in text  # the reader's zone
    assert "kenji: Thu 8 Jan 23:00 JST (Asia/Tokyo) · no answer ⚠ outside 07:00–22:00" in text
    assert "nora: Thu 8 Jan 09:00 EST (America/New_York) · no answer" in text
    assert "nora: Thu 8 Jan 09:00 EST (America/New_York) · no answer ⚠" not in text
    assert "1 of 3 member(s) outside 07:00–22:00" in text


async def test_move_voids_old_reminders_and_cancel_announces(harness: Harness) -> None:
    await _setup(harness)
    await harness.say("ana", '/wg meeting "Call" at:2026-01-08T14:00Z remind:1h')
    harness.clear()
    await harness.say("ana", "/wg meeting move M1 at:2026-01-09T15:00Z")
    moved = [m for m in harness.sent() if m.kind == "announcement"]
    assert len(moved) == 3 and "It was Thu 8 Jan 2026 14:00 UTC" in moved[0].reply.to_text()
    harness.clear()
    await harness.advance_to(at("2026-01-09T14:30"))
    times = sorted({m.created_at for m in harness.sent() if m.kind == "reminder"})
    assert times == [at("2026-01-09T14:00")]
    await harness.say("ana", "/wg meeting cancel M1")
    assert sum("Cancelled: M1" in m.reply.to_text() for m in harness.sent()) == 3
    before = await table_snapshot(harness.app.db)
    r = await harness.say("kenji", "/wg rsvp M1 yes", platform="discord")
    assert r.replies[0].kind == "error" and "cancelled" in r.replies[0].to_text()
    assert await table_snapshot(harness.app.db) == before


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ('/wg meeting "Call" at:2026-01-01T10:00Z', "in the past"),
        ('/wg meeting "Call" at:"blursday 25:00"', "Cannot read"),
        ('/wg meeting "Call" at:"friday 14:00 Mars/Olympus"', "Unknown time zone"),
        ('/wg meeting "Call" at:"friday 14:00" every:"every blue moon"', "Cannot read the recurrence"),
        ('/wg meeting "Call" at:"friday 14:00" every:FREQ=HOURLY', "more often than daily"),
        ('/wg meeting "Call" at:"friday 14:00" duration:0m', "more than zero"),
        ('/wg meeting "Call" at:"friday 14:00" duration:25h', "over 24 hours"),
        ('/wg meeting "Call" at:"friday 14:00" remind:1h,2h,3h,4h,5h,6h,7h,8h,9h,10h,11h', "at most 10"),
        ('/wg meeting "Call" at:"friday 14:00" link:javascript:alert(1)', "not a web link"),
        ('/wg meeting "Call" at:"friday 14:00" link:ftp://example.org/x', "not a web link"),
        ('/wg meeting "Call"', "at:<time>"),
        ("/wg rsvp M9 yes", "no meeting M9"),
        ("/wg rsvp M1 perhaps", "yes, no or maybe"),
        ("/wg answer C4 fine", "no check-in C4"),
        ('/wg checkin "How are you?" every:"every blue moon"', "Cannot read the recurrence"),
        ('/wg checkin "How are you?" every:monday at:25:00', "not a time of day"),
        ('/wg checkin "How are you?" every:monday tz:Nowhere/Land', "Unknown time zone"),
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(harness: Harness, command: str, expected: str) -> None:
    await _setup(harness)
    await harness.say("ana", '/wg meeting "Existing" at:2026-01-08T14:00Z')
    before = await table_snapshot(harness.app.db)
    r = await harness.say("ana", command)
    assert r.replies[0].kind == "error" and r.replies[0].private
    assert expected in r.replies[0].to_text()
    assert await table_snapshot(harness.app.db) == before


async def test_only_conveners_schedule(harness: Harness) -> None:
    await _setup(harness)
    before = await table_snapshot(harness.app.db)
    r = await harness.say("nora", '/wg meeting "Call" at:"friday 14:00"', platform="slack")
    assert r.replies[0].kind == "error" and "convener" in r.replies[0].to_text()
    assert await table_snapshot(harness.app.db) == before


async def test_agenda_lists_new_proposals(harness: Harness) -> None:
    await _setup(harness)
    await harness.say("ana", '/wg propose "Shared taxonomy" One taxonomy for AI incidents.')
    await harness.say("ana", '/wg meeting "Call" at:2026-01-08T14:00Z')
    text = (await harness.say("nora", "/wg agenda M1", platform="slack")).replies[0].to_text()
    assert "Agenda for M1" in text and "P1 Shared taxonomy" in text and "Any other business" in text


async def test_jobs_of_a_meeting_are_recorded_in_the_database(harness: Harness) -> None:
    await _setup(harness)
    await harness.say("ana", '/wg meeting "Call" at:2026-01-08T14:00Z remind:24h,1h')
    async with harness.app.db.session() as s:
        jobs = (
            await s.exec(select(ScheduledJob).where(ScheduledJob.kind != "digest.send").order_by(ScheduledJob.due_at))
        ).all()  # type: ignore[arg-type]
    assert [(j.kind, j.due_at, j.status) for j in jobs] == [
        ("meeting.reminder", at("2026-01-07T14:00"), "pending"),
        ("meeting.reminder", at("2026-01-08T13:00"), "pending"),
    ]


async def test_moving_a_weekly_meeting_to_another_weekday_moves_the_series_day(harness: Harness) -> None:
    await _setup(harness)
    await harness.say("ana", '/wg meeting "Weekly" at:"2026-03-05 14:00" every:week remind:1h')  # a Thursday
    harness.clear()
    r = await harness.say("ana", '/wg meeting move M1 at:"2026-03-06 15:00"')  # a Friday
    answer = r.replies[0].to_text()
    assert "moved to Fri 6 Mar 2026 15:00" in answer and "every Friday" in answer
    announced = [m.reply.to_text() for m in harness.sent() if m.kind == "announcement"]
    assert len(announced) == 3
    assert all("Fri 6 Mar 2026 15:00" in t and "every Friday" in t and "Thursday" in t for t in announced)
    async with harness.app.db.session() as s:
        m = (await s.exec(select(Meeting))).one()
    assert m.rrule == "FREQ=WEEKLY;BYDAY=FR"
    harness.clear()
    await harness.advance_to(at("2026-03-14T00:00"))
    assert sorted({m.created_at for m in harness.sent() if m.kind == "reminder"}) == [
        at("2026-03-06T14:00"),
        at("2026-03-13T14:00"),
    ]


async def test_moving_a_first_tuesday_series_to_a_wednesday_makes_it_first_wednesday(harness: Harness) -> None:
    await _setup(harness)
    await harness.say("ana", '/wg meeting "Monthly" at:"2026-03-03 14:00" every:"first tuesday"')
    r = await harness.say("ana", '/wg meeting move M1 at:"2026-03-04 14:00"')
    assert "every first Wednesday" in r.replies[0].to_text()
    async with harness.app.db.session() as s:
        assert (await s.exec(select(Meeting))).one().rrule == "FREQ=MONTHLY;BYDAY=+1WE"


async def test_moving_a_two_day_series_off_its_days_is_refused_and_changes_nothing(harness: Harness) -> None:
    await _setup(harness)
    await harness.say("ana", '/wg meeting "Twice" at:"2026-03-02 14:00" every:"monday and thursday"')
    before = await table_snapshot(harness.app.db)
    harness.clear()
    r = await harness.say("ana", '/wg meeting move M1 at:"2026-03-06 15:00"')
    assert r.replies[0].kind == "error"
    assert "M1 repeats on Monday and Thursday; give a time on one of those days" in r.replies[0].to_text()
    assert "cancel and re-create it" in r.replies[0].to_text()
    assert await table_snapshot(harness.app.db) == before and harness.sent() == []
    # a time on one of its days keeps the rule
    ok = await harness.say("ana", '/wg meeting move M1 at:"2026-03-05 16:00"')
    assert "every Monday and Thursday" in ok.replies[0].to_text()
