"""Showing times to people: always in the reader's own zone, with the zone's abbreviation."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

#: a time stored inside archived text (live minutes), rendered in the reader's zone at read time
_STAMP = re.compile(r"⟦t:(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})Z⟧")


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


def stamp(dt: datetime) -> str:
    """A UTC instant for text archived now and read later by people in different zones: `localize`
    turns it into `fmt(dt, reader's zone)` at read time."""
    return f"⟦t:{dt.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z⟧"


def localize(text: str, tz: str) -> str:
    """Archived text with its `stamp`s rendered for a reader in `tz` (text without stamps is unchanged)."""
    return _STAMP.sub(lambda m: fmt(datetime.fromisoformat(m.group(1)).replace(tzinfo=UTC), tz), text)
