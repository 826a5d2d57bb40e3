"""The reader's time zone on the web: a `tz` query parameter, validated against the IANA database."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

MAX_ZONE = 64


class BadZone(ValueError):
    pass


@cache
def all_zones() -> tuple[str, ...]:
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


@cache
def _lookup() -> dict[str, str]:
    return {z.lower(): z for z in all_zones()}


def reader_zone(raw: str | None, default: str) -> str:
    """The zone asked for (any case), or the default when none is asked; BadZone for anything else."""
    if raw is None or raw == "":
        return default
    if len(raw) > MAX_ZONE:
        raise BadZone("too long")
    zone = _lookup().get(raw.strip().lower())
    if zone is None:
        raise BadZone(raw)
    return zone
