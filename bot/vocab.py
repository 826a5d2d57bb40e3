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


#: abbreviations people type for a zone → the IANA zones they most likely mean. An abbreviation is
#: refused: `EST` is a fixed offset with no daylight saving, and `CST` or `IST` mean several places.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "EST": ("America/New_York", "America/Toronto"),
    "EDT": ("America/New_York", "America/Toronto"),
    "CST": ("America/Chicago", "America/Mexico_City", "Asia/Shanghai"),
    "CDT": ("America/Chicago", "America/Mexico_City"),
    "MST": ("America/Denver", "America/Phoenix"),
    "MDT": ("America/Denver",),
    "PST": ("America/Los_Angeles", "America/Vancouver"),
    "PDT": ("America/Los_Angeles", "America/Vancouver"),
    "AKST": ("America/Anchorage",),
    "HST": ("Pacific/Honolulu",),
    "BRT": ("America/Sao_Paulo",),
    "ART": ("America/Argentina/Buenos_Aires",),
    "WET": ("Europe/Lisbon",),
    "WEST": ("Europe/Lisbon",),
    "BST": ("Europe/London",),
    "IST": ("Asia/Kolkata", "Europe/Dublin"),
    "CET": ("Europe/Paris", "Europe/Berlin", "Europe/Brussels"),
    "CEST": ("Europe/Paris", "Europe/Berlin", "Europe/Brussels"),
    "MET": ("Europe/Paris", "Europe/Berlin"),
    "EET": ("Europe/Athens", "Europe/Helsinki", "Africa/Cairo"),
    "EEST": ("Europe/Athens", "Europe/Helsinki"),
    "MSK": ("Europe/Moscow",),
    "WAT": ("Africa/Lagos",),
    "CAT": ("Africa/Maputo", "Africa/Harare"),
    "EAT": ("Africa/Nairobi",),
    "SAST": ("Africa/Johannesburg",),
    "PKT": ("Asia/Karachi",),
    "ICT": ("Asia/Bangkok", "Asia/Ho_Chi_Minh"),
    "WIB": ("Asia/Jakarta",),
    "SGT": ("Asia/Singapore",),
    "HKT": ("Asia/Hong_Kong",),
    "JST": ("Asia/Tokyo",),
    "KST": ("Asia/Seoul",),
    "AEST": ("Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane"),
    "AEDT": ("Australia/Sydney", "Australia/Melbourne"),
    "ACST": ("Australia/Adelaide", "Australia/Darwin"),
    "AWST": ("Australia/Perth",),
    "NZST": ("Pacific/Auckland",),
    "NZDT": ("Pacific/Auckland",),
}
_ZONE_HELP = "Use an IANA name such as Europe/Paris or UTC."


def is_abbreviation(value: str) -> bool:
    return value.strip().upper() in ABBREVIATIONS


def timezone(value: str) -> str:
    """Validate an IANA zone name; accept any case (`europe/paris`) and return the canonical name.

    Abbreviations (`EST`, `CET`) are refused with the zones they likely mean; a misspelt name gets the
    closest zones (`Europe/Parsi` → Europe/Paris), and a bare city its zone (`paris`)."""
    v = value.strip()
    if v.upper() in ABBREVIATIONS:
        likely = " or ".join(ABBREVIATIONS[v.upper()])
        raise UserError(
            f"`{v}` is an abbreviation, not a time zone (it has no daylight-saving rules and can mean several "
            f"places). Use the zone of the place, e.g. {likely}."
        )
    if not v or v.startswith(("/", ".")) or ".." in v:
        raise UserError(f"Unknown time zone `{value}`. {_ZONE_HELP}")
    try:
        ZoneInfo(v)
        return v
    except (ZoneInfoNotFoundError, ValueError):
        pass
    zones = available_timezones()
    lowered = {z.lower(): z for z in zones}
    if v.lower() in lowered:
        return lowered[v.lower()]
    from bot.didyoumean import closest, phrase

    city = v.lower().replace(" ", "_")
    near = sorted(z for z in zones if "/" in z and z.lower().rsplit("/", 1)[1] == city)
    near = near or closest(v, [z for z in zones if "/" in z], limit=3, cutoff=0.75)
    hint = phrase(near) if near else _ZONE_HELP
    raise UserError(f"Unknown time zone `{value[:60]}`. {hint}")


def theme(value: str, themes: list[str]) -> str:
    v = " ".join(value.split()).lower()
    for t in themes:
        if t.lower() == v or t.lower().replace(" ", "-") == v:
            return t
    matches = [t for t in themes if v and v in t.lower()]
    if len(matches) == 1:
        return matches[0]
    raise UserError(f"Unknown theme `{value}`. Themes: {'; '.join(themes)}.")
