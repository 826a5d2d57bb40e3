"""Showing times to people: always in the reader's own zone, with the zone's abbreviation."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def local(dt: datetime, tz: str) -> datetime:
    return dt.astimezone(ZoneInfo(tz))


def fmt(dt: datetime, tz: str) -> str:
    """`Thu 8 Jan 2026 15:00 CET`: unambiguous for readers in any locale."""
    d = local(dt, tz)
    return f"{d:%a} {d.day} {d:%b %Y %H:%M} {d.tzname() or tz}"


def fmt_short(dt: datetime, tz: str) -> str:
    d = local(dt, tz)
    return f"{d:%a} {d.day} {d:%b %H:%M} {d.tzname() or tz}"


def fmt_date(dt: datetime, tz: str) -> str:
    d = local(dt, tz)
    return f"{d.day} {d:%b %Y}"
