"""Recurrence rules: RRULE text or plain words, evaluated in the zone the series was given in.

Rules are stored as RFC 5545 RRULE bodies (`FREQ=WEEKLY;INTERVAL=2;BYDAY=TH`) and evaluated by
dateutil.rrule on *wall-clock* times in the series' zone, then converted to UTC one by one — so a
weekly 14:00 Europe/Paris meeting is 13:00 UTC in winter and 12:00 UTC in summer.

Plain words (with or without a leading `every`): `day`, `3 days`, `weekday`, `week`, `2 weeks on
thursday`, `other week`, `monday and thursday`, `month`, `first tuesday`, `last friday of the month`,
`year`, optionally ending with a time of day and a zone (`friday 10:00`, `every weekday 9am`,
`mondays at 14:30 Europe/Paris`: see `split_time`). Anything more frequent than daily is refused: a
group is not pinged hourly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from bot.errors import UserError
from bot.timeparse import localize, parse_clock
from bot.vocab import WEEKDAYS, is_abbreviation, timezone

CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "last": -1}
_NUMBERS = {"other": 2, "two": 2, "three": 3, "four": 4, "2": 2}
MAX_RULE = 300
#: consecutive occurrences must be at least this far apart (daily, with slack)…
MIN_GAP = timedelta(hours=23)
#: …checked over this many first occurrences
GAP_CHECKED = 100
_HELP = (
    'Write a rule like every:week, every:"2 weeks on thursday", every:"first tuesday", every:weekday, '
    "or RRULE text such as every:FREQ=WEEKLY;BYDAY=TH."
)


def _day(word: str) -> int | None:
    w = word.strip().rstrip("s") if len(word) > 4 else word.strip()
    if len(w) < 2:
        return None
    found = [i for i, d in enumerate(WEEKDAYS) if d.startswith(w) or d == word]
    return found[0] if len(found) == 1 else None


def _days(text: str) -> list[int] | None:
    words = [w for w in re.split(r"[,\s]+|\band\b", text) if w and w != "and"]
    out = [_day(w) for w in words]
    if not out or any(d is None for d in out):
        return None
    return sorted({d for d in out if d is not None})


def _byday(days: list[int]) -> str:
    return ",".join(CODES[d] for d in days)


def parse_rule(text: str, dtstart_local: datetime) -> str:
    """Plain words or RRULE text → an RRULE body, validated. `dtstart_local` fills in the weekday/day."""
    raw = " ".join(text.split())
    if not raw:
        raise UserError("The recurrence is empty. " + _HELP)
    if len(raw) > MAX_RULE:
        raise UserError(f"The recurrence is too long (limit {MAX_RULE} characters).")
    upper = raw.upper()
    if upper.startswith("RRULE:"):
        upper = upper[6:]
    body = upper if upper.startswith("FREQ=") else _from_words(raw.lower(), dtstart_local)
    validate(body, dtstart_local)
    return body


_TIME_AT_END = re.compile(r"^(?P<rule>.*?)(?:\s+at)?\s+(?P<time>\d{1,2}(?::\d{2})?\s*(?:am|pm)|\d{1,2}:\d{2})$", re.I)


@dataclass(frozen=True)
class TimedRule:
    """`every:"mondays at 14:30 Europe/Paris"` split into the rule, the time of day and the zone."""

    rule: str
    at: time | None = None
    tz: str | None = None


def split_time(text: str) -> TimedRule:
    """Take a trailing time of day (`10:00`, `9am`, `at 14:30`) and zone (`Europe/Paris`, `UTC`) off a
    rule written in words; RRULE text is left whole."""
    raw = " ".join(text.split())
    if raw.upper().startswith(("FREQ=", "RRULE:")):
        return TimedRule(raw)
    rule, tz = raw, None
    parts = raw.rsplit(" ", 1)
    if len(parts) == 2 and ("/" in parts[1] or parts[1].upper() in ("UTC", "GMT") or is_abbreviation(parts[1])):
        rule, tz = parts[0], timezone("UTC" if parts[1].upper() == "GMT" else parts[1])
    m = _TIME_AT_END.match(rule)
    if m is None:
        if tz is not None:
            raise UserError(f'A zone in every: goes with a time of day, e.g. every:"monday 14:30 {tz}".')
        return TimedRule(raw)
    return TimedRule(m.group("rule").strip(), parse_clock(m.group("time")), tz)


def _from_words(text: str, start: datetime) -> str:
    t = re.sub(r"^every\s+", "", text).strip()
    t = re.sub(r"\s+of (the|each|every) month$", "", t)
    weekday = CODES[start.weekday()]
    if t in ("day", "daily"):
        return "FREQ=DAILY"
    if t in ("weekday", "weekdays", "working day", "working days", "business day"):
        return "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    if t in ("week", "weekly"):
        return f"FREQ=WEEKLY;BYDAY={weekday}"
    if t in ("month", "monthly"):
        return f"FREQ=MONTHLY;BYMONTHDAY={start.day}"
    if t in ("year", "yearly", "annually"):
        return "FREQ=YEARLY"
    m = re.fullmatch(r"([0-9]{1,3}|other|two|three|four)\s+(days?|weeks?|months?)(?:\s+on\s+(.+))?", t)
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else _NUMBERS[m.group(1)]
        if not 1 <= n <= 52:
            raise UserError("The interval must be between 1 and 52. " + _HELP)
        unit, on = m.group(2).rstrip("s"), m.group(3)
        if unit == "day":
            if on:
                raise UserError("`every N days` takes no `on`. " + _HELP)
            return f"FREQ=DAILY;INTERVAL={n}"
        if unit == "week":
            days = _days(on) if on else [start.weekday()]
            if days is None:
                raise UserError(f"Unknown weekday in `{on}`. " + _HELP)
            return f"FREQ=WEEKLY;INTERVAL={n};BYDAY={_byday(days)}"
        if on:
            raise UserError('For a monthly rule write e.g. every:"first tuesday". ' + _HELP)
        return f"FREQ=MONTHLY;INTERVAL={n};BYMONTHDAY={start.day}"
    m = re.fullmatch(r"week\s+on\s+(.+)", t)
    if m:
        days = _days(m.group(1))
        if days is None:
            raise UserError(f"Unknown weekday in `{m.group(1)}`. " + _HELP)
        return f"FREQ=WEEKLY;BYDAY={_byday(days)}"
    m = re.fullmatch(r"(first|1st|second|2nd|third|3rd|fourth|4th|last)\s+([a-z]+)", t)
    if m:
        day = _day(m.group(2))
        if day is None:
            raise UserError(f"Unknown weekday `{m.group(2)}`. " + _HELP)
        return f"FREQ=MONTHLY;BYDAY={ORDINALS[m.group(1)]:+d}{CODES[day]}"
    days = _days(t)
    if days is not None:
        return f"FREQ=WEEKLY;BYDAY={_byday(days)}"
    raise UserError(f"Cannot read the recurrence `{text[:60]}`. " + _HELP)


def build(body: str, dtstart_local: datetime) -> rrule:
    rule = rrulestr(f"RRULE:{body}", dtstart=dtstart_local.replace(tzinfo=None))
    if not isinstance(rule, rrule):
        raise UserError("Give one RRULE. " + _HELP)
    return rule


#: RRULE parts a series may use; BYEASTER is not calendar-periodic, BYHOUR… repeat within a day
_ALLOWED = {
    "FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "BYWEEKNO", "BYYEARDAY",
    "BYHOUR", "BYMINUTE", "BYSECOND",
}  # fmt: skip
#: a new series must have an occurrence within this long of its start
FIRST_WITHIN = timedelta(days=5 * 366)


def _check_parts(body: str) -> None:
    """Refuse, before dateutil sees it, what would make a search unbounded or a number overflow."""
    if dict(_parts(body)).get("FREQ") in ("HOURLY", "MINUTELY", "SECONDLY"):
        raise UserError("Repeating more often than daily is not supported. " + _HELP)
    for key, value in _parts(body):
        if key not in _ALLOWED:
            raise UserError(f"{key} is not supported in a recurrence. " + _HELP)
        if key in ("INTERVAL", "COUNT"):
            limit = 52 if key == "INTERVAL" else 1000
            if not (value.isascii() and value.isdigit() and len(value) <= 4 and 1 <= int(value) <= limit):
                raise UserError(f"{key} must be a whole number from 1 to {limit}. " + _HELP)


def _probe_year(year: int, span: int) -> int:
    """A year near the end of the calendar whose `span` following years fall on the same weekdays
    with the same leap days as `year`'s: a search started there must end within a few years, since
    dateutil stops at year 9999 and never stops on a rule no day satisfies."""
    import calendar

    def shape(y: int) -> list[tuple[int, bool]]:
        return [(calendar.weekday(y + k, 1, 1), calendar.isleap(y + k)) for k in range(span)]

    target = shape(year)
    for candidate in range(datetime.max.year - span + 1, datetime.max.year - span - 400, -1):
        if shape(candidate) == target:
            return candidate
    return year + 400 * ((datetime.max.year - span - year) // 400)  # the Gregorian calendar repeats every 400 years


def _shift_until(body: str, years: int) -> str:
    """The rule with its UNTIL date moved by `years` (dropped when past the calendar's end)."""
    parts = []
    for key, value in _parts(body):
        if key == "UNTIL":
            m = re.fullmatch(r"([0-9]{4})([0-9]{4}.*)", value)
            if m is None:
                raise UserError(f"`UNTIL={value[:20]}` is not a date like 20261231. " + _HELP)
            shifted = int(m.group(1)) + years
            if shifted > datetime.max.year:
                continue
            value = f"{shifted:04d}{m.group(2)}"
        parts.append(f"{key}={value}")
    return ";".join(parts)


def validate(body: str, dtstart_local: datetime) -> None:
    """A rule that has an occurrence within five years of its start and repeats at most daily.

    Every search here is bounded: the rule is evaluated on a calendar-identical stretch of years
    just before year 9999, so even a rule no day satisfies (`FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30`)
    is refused after a few years of dates, not eight thousand."""
    _check_parts(body)
    start = dtstart_local.replace(tzinfo=None)
    span = 7
    probe_year = _probe_year(start.year, span)
    try:
        probe_start = start.replace(year=probe_year)
        rule = build(_shift_until(body, probe_year - start.year), probe_start)
    except UserError:
        raise
    except Exception:
        raise UserError(f"`{body[:60]}` is not a valid RRULE. " + _HELP) from None
    if rule._freq > 3:  # type: ignore[attr-defined]  # HOURLY, MINUTELY, SECONDLY
        raise UserError("Repeating more often than daily is not supported. " + _HELP)
    timed = sorted({k for k, _ in _parts(body)} & {"BYHOUR", "BYMINUTE", "BYSECOND"})
    if timed:
        raise UserError(
            f"{'/'.join(timed)} is not supported: the time of day comes from at:, and a series repeats at most "
            "once a day. " + _HELP
        )
    first = rule.after(probe_start, inc=True)
    if first is None or first - probe_start > FIRST_WITHIN:
        raise UserError(f"The rule `{body[:60]}` has no occurrence within five years of that date. " + _HELP)
    previous = first
    for nxt in rule.xafter(first, count=GAP_CHECKED):
        if nxt - previous < MIN_GAP:
            raise UserError(
                f"The rule `{body[:60]}` repeats more often than daily ({previous:%a %d %b %H:%M} then "
                f"{nxt:%a %d %b %H:%M}). " + _HELP
            )
        previous = nxt
    try:  # the real dates too (a valid rule: found within five years)
        build(body, start)
    except UserError:
        raise
    except Exception:
        raise UserError(f"`{body[:60]}` is not a valid RRULE. " + _HELP) from None


def _parts(body: str) -> list[list[str]]:
    return [p.split("=", 1) for p in body.split(";") if "=" in p]


def matches(body: str, start_local: datetime) -> bool:
    """Whether `start_local` (wall-clock) is itself an occurrence of the rule started there."""
    naive = start_local.replace(tzinfo=None)
    return build(body, naive).after(naive, inc=True) == naive


#: rule parts `rebase` may rebuild from a new start; any other BY… part makes a moved rule ambiguous
_REBASE_KEEPS = {"FREQ", "INTERVAL", "WKST", "UNTIL", "COUNT", "BYDAY", "BYMONTHDAY"}


def _ordinal(day: datetime, *, last: bool) -> int:
    """Which weekday of its month `day` is: 1…4, or -1 for the last (when `last` and it is the last)."""
    n = (day.day - 1) // 7 + 1
    next_week = day + timedelta(days=7)
    if (last and next_week.month != day.month) or n > 4:
        return -1
    return n


def rebase(body: str, start_local: datetime, name: str) -> str:
    """The rule of a series moved to a new start (wall-clock in the series' zone).

    Kept as is when the new start is one of its occurrences; otherwise its day part (a single
    weekday, an ordinal weekday such as `first tuesday`, a day of the month) is rebuilt from the new
    start, so `every Thursday` moved to a Friday becomes `every Friday`. A rule whose days cannot be
    rebuilt from one start (`monday and thursday`) is refused: `UserError`, naming `name`."""
    if matches(body, start_local):
        return body
    parts = _parts(body)
    keys = {k for k, _ in parts}
    values = dict(parts)
    byday, bymonthday, freq = values.get("BYDAY", ""), values.get("BYMONTHDAY", ""), values.get("FREQ", "")
    weekday = CODES[start_local.weekday()]
    new: dict[str, str] = {}
    if not keys - _REBASE_KEEPS and not (byday and bymonthday):
        if byday and "," not in byday:
            m = re.fullmatch(r"([+-]?\d)?([A-Z]{2})", byday)
            if m and not m.group(1) and freq == "WEEKLY":
                new["BYDAY"] = weekday
            elif m and m.group(1) and freq == "MONTHLY":
                new["BYDAY"] = f"{_ordinal(start_local, last=int(m.group(1)) < 0):+d}{weekday}"
        elif bymonthday and "," not in bymonthday and freq == "MONTHLY":
            new["BYMONTHDAY"] = str(start_local.day)
    if new:
        moved = ";".join(f"{k}={new.get(k, v)}" for k, v in parts)
        if matches(moved, start_local):
            return moved
    names = {c: WEEKDAYS[i].capitalize() for i, c in enumerate(CODES)}
    days = [names.get(d) for d in byday.split(",")] if byday else []
    if freq == "WEEKLY" and len(days) > 1 and all(days):
        repeats = "on " + " and ".join(d for d in days if d)
        hint = "give a time on one of those days"
    else:
        repeats = describe(body)
        hint = "give a time that fits that rule"
    raise UserError(
        f"{name} repeats {repeats}; {hint} ({start_local:%A %-d %b} does not fit), or cancel and re-create it."
    )


def occurrences(
    body: str, dtstart_local: datetime, tz: str, after: datetime, *, inc: bool = False
) -> Iterator[datetime]:
    """UTC instants of the series after `after` (a UTC instant), in order, evaluated on wall-clock time in `tz`."""
    rule = build(body, dtstart_local)
    zone = ZoneInfo(tz)
    # a few hours of slack for DST jumps; results are filtered on the UTC instant
    cursor = after.astimezone(zone).replace(tzinfo=None)
    for naive in rule.xafter(cursor - timedelta(hours=3), inc=True):
        at = localize(naive, tz)
        if at > after or (inc and at == after):
            yield at


def first_on_or_after(body: str, dtstart_local: datetime, tz: str) -> datetime | None:
    """The first occurrence at or after the series start (dateutil does not count a non-matching dtstart)."""
    start = localize(dtstart_local.replace(tzinfo=None), tz)
    return next(occurrences(body, dtstart_local, tz, start, inc=True), None)


def describe(body: str) -> str:
    """A short human reading of a rule, for cards."""
    parts = dict(p.split("=", 1) for p in body.split(";") if "=" in p)
    freq = parts.get("FREQ", "")
    n = int(parts.get("INTERVAL", "1"))
    names = {c: WEEKDAYS[i].capitalize() for i, c in enumerate(CODES)}
    byday = parts.get("BYDAY", "")
    if freq == "DAILY":
        return "every day" if n == 1 else f"every {n} days"
    if freq == "WEEKLY":
        days = [names.get(d, d) for d in byday.split(",") if d]
        if byday == "MO,TU,WE,TH,FR":
            return "every weekday" if n == 1 else f"every {n} weeks on weekdays"
        on = " and ".join(days)
        return f"every {on}" if n == 1 and on else (f"every {n} weeks on {on}" if on else f"every {n} weeks")
    if freq == "MONTHLY":
        m = re.fullmatch(r"([+-]?\d)([A-Z]{2})", byday)
        if m:
            ordinal = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}.get(int(m.group(1)), m.group(1))
            return f"every {ordinal} {names.get(m.group(2), m.group(2))}" + (f" every {n} months" if n > 1 else "")
        return "every month" if n == 1 else f"every {n} months"
    if freq == "YEARLY":
        return "every year"
    return f"RRULE {body}"
