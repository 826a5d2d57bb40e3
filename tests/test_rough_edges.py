"""The rough edges a new user hits in chat and in the console (issue 12): a time inside a recurrence
rule, time-zone abbreviations and typos, the title limit on a very long command, /wg todo listing only
questions actually asked, "in 2 minutes", and the console's quit words and prompt redraw."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import select

from adapters.console import repl
from bot.grammar import MAX_TITLE
from bot.outbox import Destination, Outgoing
from bot.reply import Reply
from bot.services import meetings, proposals
from storage.models import Checkin, Meeting
from tests.conftest import Harness
from tests.test_members import refused

ROOT = Path(__file__).resolve().parent.parent


async def meeting(h: Harness, number: int) -> Meeting:
    async with h.app.db.session() as s:
        return (await s.exec(select(Meeting).where(Meeting.number == number))).one()


async def checkin(h: Harness, number: int) -> Checkin:
    async with h.app.db.session() as s:
        return (await s.exec(select(Checkin).where(Checkin.number == number))).one()


@pytest.mark.parametrize(
    ("every", "rule", "start"),
    [
        # Monday 2026-01-05 09:00 UTC now; the group's zone is UTC
        ('"friday 10:00"', "FREQ=WEEKLY;BYDAY=FR", datetime(2026, 1, 9, 10, 0, tzinfo=UTC)),
        ('"every friday 10:00"', "FREQ=WEEKLY;BYDAY=FR", datetime(2026, 1, 9, 10, 0, tzinfo=UTC)),
        ('"every weekday 9am"', "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", datetime(2026, 1, 6, 9, 0, tzinfo=UTC)),
        ('"mondays at 14:30 Europe/Paris"', "FREQ=WEEKLY;BYDAY=MO", datetime(2026, 1, 5, 13, 30, tzinfo=UTC)),
    ],
)
async def test_a_meeting_takes_its_time_from_the_rule(harness: Harness, every: str, rule: str, start: datetime) -> None:
    await harness.say("ana", "/wg join civil-society")
    r = await harness.say("ana", f'/wg meeting "Sync" every:{every}')
    assert r.replies[0].kind != "error", r.replies[0].to_text()
    m = await meeting(harness, 1)
    assert m.rrule == rule
    assert m.start_at.replace(tzinfo=UTC) == start


async def test_a_checkin_takes_its_time_and_zone_from_the_rule(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society")
    r = await harness.say("ana", '/wg checkin "Status?" every:"every weekday 9am"')
    assert r.replies[0].kind != "error", r.replies[0].to_text()
    c = await checkin(harness, 1)
    assert (c.rrule, c.time_of_day, c.timezone) == ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "09:00", None)
    await harness.say("ana", '/wg checkin "Plans?" every:"mondays at 14:30 Europe/Paris"')
    c = await checkin(harness, 2)
    assert (c.rrule, c.time_of_day, c.timezone) == ("FREQ=WEEKLY;BYDAY=MO", "14:30", "Europe/Paris")


async def test_the_time_is_given_once(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society")
    text = await refused(harness, "ana", '/wg meeting "Sync" every:"friday 10:00" at:"friday 11:00"')
    assert "Give the time once" in text
    text = await refused(harness, "ana", '/wg checkin "Q?" every:"friday 10:00" at:11:00')
    assert "Give the time once" in text


@pytest.mark.parametrize(
    ("zone", "likely"),
    [("EST", "America/New_York"), ("CET", "Europe/Paris"), ("pst", "America/Los_Angeles"), ("IST", "Asia/Kolkata")],
)
async def test_zone_abbreviations_are_refused_with_the_zones_they_mean(
    harness: Harness, zone: str, likely: str
) -> None:
    await harness.say("ana", "/wg join civil-society")
    text = await refused(harness, "ana", f"/wg join academia tz:{zone}")
    assert "abbreviation" in text and likely in text
    text = await refused(harness, "ana", f'/wg meeting "Sync" at:"friday 10:00 {zone}"')
    assert likely in text


async def test_a_misspelt_zone_gets_did_you_mean(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society")
    text = await refused(harness, "ana", "/wg join academia tz:Europe/Parsi")
    assert "Did you mean `Europe/Paris`" in text
    text = await refused(harness, "ana", "/wg join academia tz:Nairobi")
    assert "`Africa/Nairobi`" in text


async def test_an_enormous_title_gets_the_title_limit(harness: Harness) -> None:
    assert MAX_TITLE == proposals.MAX_TITLE == meetings.MAX_TITLE
    await harness.say("ana", "/wg join civil-society")
    title = "t" * 9000
    text = await refused(harness, "ana", f'/wg propose "{title}" A body.')
    assert f"The title is too long (9000 characters; the limit is {MAX_TITLE})" in text
    text = await refused(harness, "ana", f'/wg meeting "{title}" at:"friday 10:00"')
    assert f"the limit is {MAX_TITLE}" in text
    text = await refused(harness, "ana", f'/wg propose "Fine" {"b" * 9000}')
    assert "That command is too long" in text


async def test_todo_lists_only_questions_actually_sent(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society tz:UTC")
    await harness.say("ana", '/wg checkin "What did you do?" every:wednesday at:09:00')
    await harness.advance_to(datetime(2026, 1, 7, 10, 0, tzinfo=UTC))  # asked Wednesday 09:00
    await harness.say("ben", "/wg join academia tz:UTC")  # joins after the question went out
    ana = (await harness.say("ana", "/wg todo")).replies[0].to_text()
    ben = (await harness.say("ben", "/wg todo")).replies[0].to_text()
    assert "C1" in ana and "2026-01-07" in ana
    assert "C1" not in ben and "Nothing is waiting" in ben


async def test_a_reminder_a_little_late_still_says_in_2_minutes(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society tz:UTC")
    await harness.say("ana", '/wg meeting "Sync" at:"in 10m" remind:2m')
    harness.clear()
    harness.clock.set(datetime(2026, 1, 5, 9, 8, 20, tzinfo=UTC))  # due 09:08, run 20 s late
    await harness.app.run_due()
    texts = [m.reply.to_text() for m in harness.sent("console")]
    assert texts and all("starts in 2 minutes" in t for t in texts if "Reminder" in t)
    assert any("Reminder" in t for t in texts)


def test_the_console_leaves_on_quit_exit_and_slash_quit(tmp_path: Path) -> None:
    for word in ("quit", "exit", "/quit"):
        result = subprocess.run(
            [sys.executable, "-c", "from adapters.cli import main; main()", "console", "--as", "ana"],
            input=f"{word}\n/wg me\n",
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT), "WGBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"},
        )
        assert result.returncode == 0, result.stderr
        assert "Unknown command" not in result.stdout and "join" not in result.stdout.split("quit", 1)[-1], word


async def test_a_message_arriving_at_the_prompt_redraws_it() -> None:
    out = io.StringIO()
    terminal = repl.TerminalSender(Console(file=out, width=80, force_terminal=False))
    message = Outgoing(
        id=1,
        key="k",
        destination=Destination("console", "channel:console", "channel:console"),
        kind="reminder",
        reply=Reply.text("Reminder: M1"),
        attempts=0,
        created_at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    terminal.prompting = True
    await terminal.send(message)
    shown = out.getvalue()
    assert "Reminder: M1" in shown and shown.endswith(repl.PROMPT)
    out.truncate(0)
    out.seek(0)
    terminal.prompting = False
    await terminal.send(message)
    assert not out.getvalue().endswith(repl.PROMPT)
