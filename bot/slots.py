"""Fair meeting times across time zones: how much of a slot falls in each member's night.

"Night" is outside 07:00–22:00 local time. A slot's cost is (members with any minute of night,
total night minutes), compared in that order: first put as few people as possible at an
unreasonable hour, then keep the unreasonable part short. Pure functions, so they are easy to test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_START = time(7, 0)
DAY_END = time(22, 0)
STEP = timedelta(minutes=15)


def night_minutes(start: datetime, duration: timedelta, tz: str) -> int:
    """Minutes of [start, start+duration) outside 07:00–22:00 in `tz` (sampled every 15 minutes)."""
    zone = ZoneInfo(tz)
    minutes = 0
    t = start
    end = start + duration
    while t < end:
        step = min(STEP, end - t)
        if not is_daytime(t.astimezone(zone).time()):
            minutes += int(step.total_seconds() // 60)
        t += step
    return minutes


def is_daytime(t: time) -> bool:
    return DAY_START <= t < DAY_END


def outside_hours(start: datetime, duration: timedelta, tz: str) -> bool:
    return night_minutes(start, duration, tz) > 0


@dataclass(frozen=True)
class Slot:
    start: datetime
    outside: int
    night_minutes: int


def score(start: datetime, duration: timedelta, zones: list[str]) -> Slot:
    nights = [night_minutes(start, duration, z) for z in zones]
    return Slot(start=start, outside=sum(1 for n in nights if n), night_minutes=sum(nights))


def suggest(now: datetime, duration: timedelta, within: timedelta, zones: list[str], count: int = 3) -> list[Slot]:
    """The `count` best non-overlapping slots starting on the half hour between now+1h and now+within."""
    first = (now.astimezone(UTC) + timedelta(hours=1)).replace(second=0, microsecond=0)
    if first.minute % 30:
        first += timedelta(minutes=30 - first.minute % 30)
    candidates: list[Slot] = []
    t = first
    while t + duration <= now + within:
        candidates.append(score(t, duration, zones))
        t += timedelta(minutes=30)
    candidates.sort(key=lambda s: (s.outside, s.night_minutes, s.start))
    chosen: list[Slot] = []
    for c in candidates:
        if all(c.start + duration <= s.start or s.start + duration <= c.start for s in chosen):
            chosen.append(c)
            if len(chosen) == count:
                break
    return sorted(chosen, key=lambda s: s.start)
