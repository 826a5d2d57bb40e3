"""Reading the times people type: `at:` values, durations and reminder offsets. Pure functions.

A time is ISO 8601 (`2026-01-08T14:00Z`, `2026-01-08 14:00`), a relative span (`in 2h`, `in 1d 3h`),
or words (`tomorrow 15:00`, `friday 14:00`, `next monday 9am`, `8 jan 14:00`), optionally followed by
an IANA zone (`friday 14:00 Europe/Paris`). Without a zone the speaker's own applies. Common forms
are read by hand so the result is exact and deterministic; the rest goes to dateparser, always
relative to the injected `now` (never the system clock).

The zone the time was given in is returned too: a recurring meeting repeats in that zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.errors import UserError
from bot.vocab import WEEKDAYS, is_abbreviation, timezone

MAX_DURATION = timedelta(hours=24)
MAX_REMINDERS = 10
MAX_REMINDER_OFFSET = timedelta(days=30)
MAX_AHEAD = timedelta(days=5 * 366)

_SPAN = re.compile(r"([0-9]+)\s*(weeks?|w|days?|d|hours?|hrs?|h|minutes?|mins?|m)\b")
#: no span anyone types is longer; bigger numbers are refused as user errors, never overflow
MAX_SPAN = timedelta(days=3660)
_MAX_DIGITS = 7
_UNIT = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
_CLOCK = re.compile(r"^([0-9]{1,2})(?::([0-9]{2}))?\s*(am|pm)?$")
_WORDS = re.compile(r"^(?:(today|tonight|tomorrow)|(?:(next|this)\s+)?([a-z]+))(?:\s+at)?\s+(.+)$")


@dataclass(frozen=True)
class When:
    at: datetime
    """the instant, aware, in UTC"""
    tz: str
    """the IANA zone the time was given in (or the speaker's)"""
    note: str | None = None
    """set when the wall-clock time given does not exist in `tz` (skipped by a DST change): what was used"""


def localize(naive: datetime, tz: str) -> datetime:
    """A wall-clock time in `tz` → the UTC instant (a time skipped by DST moves forward)."""
    return naive.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC).astimezone(ZoneInfo(tz)).astimezone(UTC)


def gap_note(naive: datetime, tz: str) -> str | None:
    """Say so when `naive` falls in a DST gap of `tz` (the clocks jump over it): the time moved forward."""
    used = localize(naive, tz).astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    if used == naive.replace(tzinfo=None, second=0, microsecond=0) or used == naive.replace(tzinfo=None):
        return None
    return (
        f"{naive:%H:%M} does not exist in {tz} on {naive:%Y-%m-%d} (the clocks go forward); "
        f"the time used is {used:%H:%M}."
    )


def parse_span(text: str) -> timedelta:
    """`90m`, `1h30m`, `2 hours`, `1d 12h`, bare `45` (minutes) → a timedelta; anything else is an error."""
    t = text.strip().lower()
    if any(len(run) > _MAX_DIGITS for run in re.findall(r"[0-9]+", t)):
        raise UserError(f"`{text[:40]}` is far too long a duration; the longest is about ten years.")
    if t.isascii() and t.isdigit():
        total = timedelta(minutes=int(t))
    else:
        matches = list(_SPAN.finditer(t))
        if not matches or _SPAN.sub("", t).strip(" ,") != "":
            raise UserError(f"Cannot read `{text[:40]}` as a duration; write e.g. 90m, 1h30m or 2h.")
        total = timedelta()
        for m in matches:
            total += timedelta(**{_UNIT[m.group(2)[0]]: int(m.group(1))})
    if total > MAX_SPAN:
        raise UserError(f"`{text[:40]}` is far too long a duration; the longest is about ten years.")
    return total


def parse_duration(text: str) -> timedelta:
    d = parse_span(text)
    if d <= timedelta(0):
        raise UserError("The duration must be more than zero; write e.g. duration:90m.")
    if d > MAX_DURATION:
        raise UserError("The duration is over 24 hours; a meeting lasts at most duration:24h.")
    return d


def parse_offsets(text: str) -> list[int]:
    """`24h,1h` → [1440, 60] (minutes, largest first, without repeats)."""
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    if not parts:
        raise UserError("Give reminder offsets like remind:24h,1h (or remind:none).")
    if len(parts) == 1 and parts[0].lower() in ("none", "off", "no"):
        return []
    if len(parts) > MAX_REMINDERS:
        raise UserError(f"Too many reminders ({len(parts)}); give at most {MAX_REMINDERS}, e.g. remind:24h,1h.")
    out: set[int] = set()
    for p in parts:
        d = parse_span(p)
        if d <= timedelta(0) or d > MAX_REMINDER_OFFSET:
            raise UserError(f"A reminder offset must be between 1 minute and 30 days; `{p[:20]}` is not.")
        out.add(int(d.total_seconds() // 60))
    return sorted(out, reverse=True)


def parse_clock(text: str) -> time:
    """`14:00`, `9`, `9am`, `2:30pm` → a time of day."""
    m = _CLOCK.match(text.strip().lower())
    if not m:
        raise UserError(f"Cannot read `{text[:20]}` as a time of day; write HH:MM, e.g. 14:00.")
    hour, minute, ampm = int(m.group(1)), int(m.group(2) or 0), m.group(3)
    if ampm:
        if not 1 <= hour <= 12:
            raise UserError(f"`{text[:20]}` is not a time of day; use 1–12 with am/pm, or HH:MM.")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        raise UserError(f"`{text[:20]}` is not a time of day; use HH:MM from 00:00 to 23:59.")
    return time(hour, minute)


def _split_zone(text: str) -> tuple[str, str | None]:
    """`friday 14:00 Europe/Paris` → (`friday 14:00`, `Europe/Paris`)."""
    parts = text.rsplit(" ", 1)
    if len(parts) == 2:
        last = parts[1]
        if "/" in last or last.upper() in ("UTC", "GMT") or is_abbreviation(last):  # EST: refused, with advice
            return parts[0].strip(), timezone("UTC" if last.upper() == "GMT" else last)
    return text, None


def _weekday(word: str) -> int | None:
    if len(word) < 3:
        return None
    found = [i for i, d in enumerate(WEEKDAYS) if d.startswith(word)]
    return found[0] if len(found) == 1 else None


def _from_words(text: str, now_local: datetime) -> datetime | None:
    """`tomorrow 15:00`, `friday 14:00`, `next monday 9am` → naive local time, or None if not this form."""
    m = _WORDS.match(text)
    if not m:
        return None
    rel, which, word, clock = m.groups()
    if rel:
        day = now_local.date() + timedelta(days=1 if rel == "tomorrow" else 0)
        return datetime.combine(day, parse_clock(clock))
    wd = _weekday(word)
    if wd is None:
        return None
    t = parse_clock(clock)
    ahead = (wd - now_local.weekday()) % 7
    candidate = datetime.combine(now_local.date() + timedelta(days=ahead), t)
    if candidate <= now_local.replace(tzinfo=None) or (which == "next" and ahead == 0):
        candidate += timedelta(days=7)
    return candidate


def parse_when(text: str, now: datetime, default_tz: str, *, future: bool = True) -> When:
    """Read a time. Raises UserError with a specific message when it cannot, or when it is in the past."""
    try:
        return _parse_when(text, now, default_tz, future=future)
    except OverflowError:  # e.g. 9999-12-31 23:00 in a zone behind UTC: past the last representable day
        raise UserError("That time is more than five years ahead; give a nearer one.") from None


def _parse_when(text: str, now: datetime, default_tz: str, *, future: bool) -> When:
    raw = " ".join(text.split())
    if not raw:
        raise UserError('Give a time, e.g. at:2026-03-05T14:00Z, at:"tomorrow 15:00" or at:"in 2h".')
    body, zone = _split_zone(raw)
    tz = zone or default_tz
    now_local = now.astimezone(ZoneInfo(tz))
    lower = body.lower()
    at: datetime | None = None
    note: str | None = None
    if lower.startswith("in "):
        at = now + parse_span(lower[3:])
    if at is None:
        iso = body.replace("Z", "+00:00").replace("z", "+00:00")
        try:
            dt = datetime.fromisoformat(iso)
        except ValueError:
            dt = None
        if dt is not None:
            if dt.tzinfo is None:
                at = localize(dt, tz)
                note = gap_note(dt, tz)
            else:
                at = dt.astimezone(UTC)
                if zone is None:
                    tz = _zone_for_offset(dt, default_tz)
    if at is None:
        naive = _from_words(lower, now_local)
        if naive is None:
            naive = _dateparser(body, now_local)
        at = localize(naive, tz)
        note = gap_note(naive, tz)
    if future and at <= now:
        raise UserError(f"That time ({at:%Y-%m-%d %H:%M} UTC) is in the past; give a future time.")
    if at - now > MAX_AHEAD:
        raise UserError("That time is more than five years ahead; give a nearer one.")
    return When(at=at, tz=tz, note=note)


def _zone_for_offset(dt: datetime, speaker_tz: str) -> str:
    """An ISO time with an offset: repeat it in the speaker's zone if that is what they meant, else UTC."""
    offset = dt.utcoffset()
    if offset == timedelta(0):
        return "UTC"
    if dt.astimezone(ZoneInfo(speaker_tz)).utcoffset() == offset:
        return speaker_tz
    return "UTC"


def _dateparser(text: str, now_local: datetime) -> datetime:
    import dateparser

    try:
        parsed = dateparser.parse(
            text,
            languages=["en"],
            settings={
                "PREFER_DATES_FROM": "future",
                "RELATIVE_BASE": now_local.replace(tzinfo=None),
                "RETURN_AS_TIMEZONE_AWARE": False,
                "REQUIRE_PARTS": ["day"],
            },
        )
    except Exception:
        parsed = None
    if parsed is None:
        raise UserError(
            f'Cannot read `{text[:60]}` as a time. Write e.g. 2026-03-05T14:00Z, "tomorrow 15:00", '
            '"friday 14:00 Europe/Paris" or "in 2h".'
        )
    return parsed
