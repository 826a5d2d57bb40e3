"""The reader's time zone on the web: a `tz` query parameter, validated against the IANA database."""

from __future__ import annotations

from functools import cache, lru_cache
from zoneinfo import available_timezones

from markupsafe import Markup

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


@lru_cache(maxsize=64)
def options_html(selected: str) -> Markup:
    """The `<option>`s of the zone selector, built once per selected zone (560 zones, every page)."""
    return Markup("").join(
        Markup("<option selected>{}</option>").format(z) if z == selected else Markup("<option>{}</option>").format(z)
        for z in all_zones()
    )
