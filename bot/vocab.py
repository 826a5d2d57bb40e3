"""The closed vocabularies of the domain, with the error text that lists the valid values."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import UserError

STAKEHOLDER_GROUPS = (
    "civil-society",
    "government",
    "private-sector",
    "technical-community",
    "academia",
    "intergovernmental",
)
REGIONS = ("african", "asia-pacific", "eastern-european", "latin-american-caribbean", "weog")
ROLES = ("convener", "member", "observer")
PROPOSAL_STATUSES = ("open", "voting", "accepted", "rejected", "withdrawn")
DEFAULT_THEMES = (
    "cybersecurity through AI",
    "cybersecurity against AI",
    "cybersecurity of AI",
    "responsible AI and human rights",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def one_of(value: str, valid: tuple[str, ...], what: str) -> str:
    v = value.strip().lower()
    if v in valid:
        return v
    raise UserError(f"Unknown {what} `{value}`. Valid: {', '.join(valid)}.")


def timezone(value: str) -> str:
    """Validate an IANA zone name; accept any case (`europe/paris`) and return the canonical name."""
    v = value.strip()
    if not v or v.startswith(("/", ".")) or ".." in v:
        raise UserError(f"Unknown time zone `{value}`. Use an IANA name such as Europe/Paris or UTC.")
    try:
        ZoneInfo(v)
        return v
    except (ZoneInfoNotFoundError, ValueError):
        pass
    lowered = {z.lower(): z for z in available_timezones()}
    if v.lower() in lowered:
        return lowered[v.lower()]
    raise UserError(f"Unknown time zone `{value}`. Use an IANA name such as Europe/Paris or UTC.")


def theme(value: str, themes: list[str]) -> str:
    v = " ".join(value.split()).lower()
    for t in themes:
        if t.lower() == v or t.lower().replace(" ", "-") == v:
            return t
    matches = [t for t in themes if v and v in t.lower()]
    if len(matches) == 1:
        return matches[0]
    raise UserError(f"Unknown theme `{value}`. Themes: {'; '.join(themes)}.")
