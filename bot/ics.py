"""Meetings as iCalendar (RFC 5545) with `icalendar`: a VTIMEZONE for the meeting's zone, and the
RRULE of a recurring series, so calendars repeat it on local time exactly as the bot does."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.errors import UserError
from storage.db import Database
from storage.models import Meeting, WorkingGroup

if TYPE_CHECKING:
    from icalendar import Event

# `icalendar` is imported where a calendar is built, not here: this module is on every start's import
# path (bot.services.meetings) and icalendar costs ~60-350 ms to import (bench/README.md figure 7).

PRODID = "-//wgbot//meetings//EN"


def is_clean_link(link: str) -> bool:
    """No whitespace, control or format character (a line break would end the ICS property and start
    another; bidi and zero-width characters disguise an address)."""
    return bool(link) and not any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in link)


def uid(meeting: Meeting) -> str:
    return f"wgbot-wg{meeting.wg_id}-m{meeting.number}@wgbot"


def meeting_event(meeting: Meeting, wg: WorkingGroup, now: datetime) -> Event:
    from icalendar import Event, vRecur

    zone = ZoneInfo(meeting.timezone)
    start = meeting.start_at.astimezone(zone)
    ev = Event()
    ev.add("uid", uid(meeting))
    ev.add("dtstamp", now)
    ev.add("summary", f"{meeting.title} (M{meeting.number}, {wg.name})")
    ev.add("dtstart", start)
    ev.add("dtend", start + timedelta(minutes=meeting.duration_minutes))
    ev.add("sequence", meeting.revision - 1)
    if meeting.rrule:
        ev.add("rrule", vRecur.from_ical(meeting.rrule))
    if meeting.link and is_clean_link(meeting.link):  # (a link stored before links were checked is left out)
        ev.add("url", meeting.link)
        ev.add("location", meeting.link)
    ev.add("status", "CANCELLED" if meeting.status == "cancelled" else "CONFIRMED")
    return ev


def calendar(meetings: Iterable[tuple[Meeting, WorkingGroup]], now: datetime, name: str = "wgbot") -> bytes:
    from icalendar import Calendar

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    for meeting, wg in meetings:
        cal.add_component(meeting_event(meeting, wg, now))
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


def filename(meeting: Meeting) -> str:
    return f"M{meeting.number}.ics"


async def export_all(db: Database, now: datetime, wg_name: str | None = None) -> tuple[bytes, int]:
    """Every meeting (of one group, or of all) as one calendar; returns the file and how many events."""
    async with db.session() as s:
        if wg_name is not None:
            names = list((await s.exec(select(WorkingGroup.name).order_by(col(WorkingGroup.id)))).all())
            if wg_name not in names:
                known = ", ".join(f"“{n}”" for n in names) or "none yet"
                raise UserError(f"No working group named “{wg_name}” (groups: {known}).")
        q = select(Meeting, WorkingGroup).join(WorkingGroup, col(WorkingGroup.id) == col(Meeting.wg_id))
        if wg_name is not None:
            q = q.where(WorkingGroup.name == wg_name)
        rows = [(m, wg) for m, wg in (await s.exec(q.order_by(col(Meeting.wg_id), col(Meeting.number)))).all()]
    return calendar(rows, now, name=wg_name or "wgbot"), len(rows)


def invitation(meeting: Meeting, wg: WorkingGroup, now: datetime, *, method: str, attendee: str) -> str:
    """An iTIP message (RFC 5546) for one e-mail attendee: METHOD:REQUEST for an invitation or an
    update (SEQUENCE grows with every move, so calendars replace the event), METHOD:CANCEL to remove
    it. The e-mail sender adds the ORGANIZER (its own address), which the core does not know."""
    from icalendar import Calendar, vCalAddress

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    ev = meeting_event(meeting, wg, now)
    if method == "CANCEL":
        ev["sequence"] = meeting.revision
        ev["status"] = "CANCELLED"
    who = vCalAddress(f"mailto:{attendee}")
    who.params["partstat"] = "NEEDS-ACTION"
    who.params["rsvp"] = "FALSE"  # wgbot cannot read calendar replies: the e-mail says how to answer
    ev.add("attendee", who)
    cal.add_component(ev)
    cal.add_missing_timezones()
    return bytes(cal.to_ical()).decode("utf-8")
