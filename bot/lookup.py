"""Suggestions for typing: ids (P<n>, V<n>, M<n>, C<n>, Q<n>) of the speaker's group, and time zones.

Platform autocompletion (Discord today) asks this module; it never writes and never needs a
platform SDK. The group is found the way the core finds it: from the channel if it is bound, else
from the speaker's one membership. Tables that other features add later (votes, meetings, check-ins)
are looked up by name in `storage.models`, so suggestions appear as soon as a feature lands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import available_timezones

from sqlmodel import col, select

import storage.models as models
from storage.db import Database
from storage.models import Channel, Identity

MAX_SUGGESTIONS = 25
#: id letter → (model class names to try, attributes that hold its human label)
KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "P": (("Proposal",), ("title",)),
    "V": (("Vote",), ("question", "title", "subject")),
    "M": (("Meeting",), ("title",)),
    "C": (("CheckIn", "Checkin"), ("question", "title")),
    "Q": (("Question", "LiveQuestion"), ("text", "question")),
}
_ZONES: list[str] | None = None


@dataclass(frozen=True)
class Suggestion:
    value: str
    label: str


def _model(letter: str) -> tuple[Any, tuple[str, ...]] | None:
    names, labels = KINDS[letter]
    for name in names:
        cls = getattr(models, name, None)
        if cls is not None and hasattr(cls, "wg_id") and hasattr(cls, "number"):
            return cls, labels
    return None


async def group_for(
    db: Database, platform: str, channel_id: str, user_id: str, *, workspace: str = "", user_workspace: str = ""
) -> int | None:
    """Ids are compared within their platform and workspace (a channel bound before workspaces were
    recorded, with an empty one, still counts: the core adopts it on its next command)."""
    async with db.session() as s:
        ch = (
            await s.exec(
                select(Channel).where(
                    Channel.platform == platform,
                    col(Channel.workspace).in_({workspace, ""}),
                    Channel.channel_id == channel_id,
                )
            )
        ).first()
        if ch is not None:
            return ch.wg_id
        idents = (
            await s.exec(
                select(Identity).where(
                    Identity.platform == platform,
                    col(Identity.workspace).in_({user_workspace, ""}),
                    Identity.user_id == user_id,
                )
            )
        ).all()
        wg_ids = {i.wg_id for i in idents}
        return wg_ids.pop() if len(wg_ids) == 1 else None


async def suggest_ids(
    db: Database,
    *,
    platform: str,
    channel_id: str,
    user_id: str,
    letters: str,
    typed: str,
    workspace: str = "",
) -> list[Suggestion]:
    """Ids of the given kinds whose id or label contains what was typed; newest first."""
    wg_id = await group_for(db, platform, channel_id, user_id, workspace=workspace)
    if wg_id is None:
        return []
    needle = typed.strip().lstrip("#").lower()
    out: list[Suggestion] = []
    async with db.session() as s:
        for letter in letters:
            found = _model(letter) if letter in KINDS else None
            if found is None:
                continue
            cls, label_attrs = found
            rows = (
                await s.exec(select(cls).where(cls.wg_id == wg_id).order_by(col(cls.number).desc()).limit(200))
            ).all()
            for row in rows:
                ref = f"{letter}{row.number}"
                label = next((str(getattr(row, a)) for a in label_attrs if getattr(row, a, None)), "")
                status = getattr(row, "status", None)
                text = f"{ref}: {label}" + (f" [{status}]" if status else "")
                if not needle or needle in ref.lower() or needle in label.lower():
                    out.append(Suggestion(ref, text[:100]))
    return out[:MAX_SUGGESTIONS]


def suggest_timezones(typed: str) -> list[Suggestion]:
    """IANA zones matching what was typed (prefix matches first); UTC and a few hubs when empty."""
    global _ZONES
    if _ZONES is None:
        _ZONES = sorted(z for z in available_timezones() if "/" in z or z == "UTC")
    needle = typed.strip().lower().replace(" ", "_")
    if not needle:
        common = ["UTC", "Europe/Paris", "America/New_York", "Africa/Nairobi", "Asia/Singapore", "America/Sao_Paulo"]
        return [Suggestion(z, z) for z in common]
    prefix = [z for z in _ZONES if z.lower().startswith(needle)]
    inner = [z for z in _ZONES if needle in z.lower() and z not in prefix]
    return [Suggestion(z, z) for z in (prefix + inner)[:MAX_SUGGESTIONS]]
