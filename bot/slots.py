"""Fair meeting times across time zones: how much of a slot falls in each member's night.

"Night" is outside 07:00–22:00 local time. A slot's cost is (members with any minute of night,
total night minutes), compared in that order: first put as few people as possible at an
unreasonable hour, then keep the unreasonable part short. Pure functions, so they are easy to test.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import accumulate
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


#: the search's bounds: how far ahead, how finely, how long a slot, how many members (`/wg meeting suggest`)
MAX_WITHIN = timedelta(days=60)
MAX_DURATION = timedelta(hours=24)
CANDIDATE_STEP = timedelta(minutes=30)
MAX_MEMBERS = 2000


def _offset_minutes(t: datetime, zone: ZoneInfo) -> int:
    return int((t.astimezone(zone).utcoffset() or timedelta(0)).total_seconds() // 60)


def _night_samples(first: datetime, n: int, tz: str) -> list[int]:
    """1 where the 15-minute sample `first + i*STEP` falls outside 07:00–22:00 in `tz`, else 0.

    The zone's offset is looked up once per day, and per sample only on a day it changes (a DST
    switch); the rest is integer arithmetic on minutes of the day."""
    zone = ZoneInfo(tz)
    step = int(STEP.total_seconds() // 60)
    lo, hi = DAY_START.hour * 60 + DAY_START.minute, DAY_END.hour * 60 + DAY_END.minute
    base = first.hour * 60 + first.minute
    per_day = 24 * 60 // step
    out: list[int] = []
    for day_start in range(0, n, per_day):
        end = min(n, day_start + per_day)
        off0 = _offset_minutes(first + STEP * day_start, zone)
        if off0 == _offset_minutes(first + STEP * end, zone):
            out += [0 if lo <= (base + i * step + off0) % 1440 < hi else 1 for i in range(day_start, end)]
        else:
            for i in range(day_start, end):
                local = (base + i * step + _offset_minutes(first + STEP * i, zone)) % 1440
                out.append(0 if lo <= local < hi else 1)
    return out


def suggest(now: datetime, duration: timedelta, within: timedelta, zones: list[str], count: int = 3) -> list[Slot]:
    """The `count` best non-overlapping slots starting on the half hour between now+1h and now+within.

    Bounded (horizon, duration, members) and linear in (distinct zones × 15-minute samples): members
    sharing a zone are scored once, and a slot's night minutes come from prefix sums. CPU-bound, so
    callers run it off the event loop (`asyncio.to_thread`)."""
    if within > MAX_WITHIN or duration > MAX_DURATION or len(zones) > MAX_MEMBERS:
        raise ValueError("suggest: search outside its bounds")
    first = (now.astimezone(UTC) + timedelta(hours=1)).replace(second=0, microsecond=0)
    if first.minute % 30:
        first += timedelta(minutes=30 - first.minute % 30)
    end = now + within
    if first + duration > end:
        return []
    full, rem = divmod(duration, STEP)
    rem_min = int(rem.total_seconds() // 60)
    step_min = int(STEP.total_seconds() // 60)
    per_candidate = int(CANDIDATE_STEP / STEP)
    n_candidates = int((end - duration - first) // CANDIDATE_STEP) + 1
    n_samples = (n_candidates - 1) * per_candidate + full + 1
    weights = Counter(zones)
    outside = [0] * n_candidates
    night = [0] * n_candidates
    for tz, weight in weights.items():
        samples = _night_samples(first, n_samples, tz)
        prefix = [0, *accumulate(samples)]
        starts = range(0, n_candidates * per_candidate, per_candidate)
        if rem_min:
            mins = [step_min * (prefix[i + full] - prefix[i]) + rem_min * samples[i + full] for i in starts]
        else:
            mins = [step_min * (prefix[i + full] - prefix[i]) for i in starts]
        for j, minutes in enumerate(mins):
            if minutes:
                outside[j] += weight
                night[j] += weight * minutes
    candidates = [Slot(first + CANDIDATE_STEP * j, outside[j], night[j]) for j in range(n_candidates)]
    candidates.sort(key=lambda s: (s.outside, s.night_minutes, s.start))
    chosen: list[Slot] = []
    for c in candidates:
        if all(c.start + duration <= s.start or s.start + duration <= c.start for s in chosen):
            chosen.append(c)
            if len(chosen) == count:
                break
    return sorted(chosen, key=lambda s: s.start)
