"""live: anonymous questions keep no platform and no stakeholder group; archived minutes stop tying them
to one (data only)

Before this revision an anonymous question stored its asker's platform and stakeholder group, the
minutes tagged it "(anonymous, <platform>)" and counted it in the balance line by group and platform —
which named the asker where they were the only one of their group or on their platform. This revision:
- blanks `platform` and `stakeholder_group` of anonymous questions (as `/wg ask … anonymous` now stores
  them) and the platform of the action items their text became;
- in the archived minutes of each session (what `/wg show M<n>`, digests and the white paper show):
  "(anonymous, <platform>)" becomes "(anonymous)", and the balance line ("Questions and reactions by
  stakeholder group: … · by platform: …") no longer counts them — counted apart instead, a group left
  at zero joining "not heard from";
- in archived digests (text and blocks) the same, for the minutes they carry.
What it cannot undo: the attendance counts of minutes already written (an attendance row does not say
whether it came from the anonymous question or from other participation on that platform), and
messages already delivered.

Revision ID: 0015_anonymous_questions
Revises: 0014_feed_token
Create Date: 2026-11-30 01:20:00
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0015_anonymous_questions"
down_revision: str | None = "0014_feed_token"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TAG = re.compile(r"\(anonymous, [a-z]{1,10}\)")
_BALANCE = re.compile(
    r"^(?P<lead>\s*)Questions and reactions by stakeholder group: (?P<groups>.*?) · by platform: (?P<platforms>.*?)"
    r"(?: · ⚠ not heard from: (?P<silent>.*))?$"
)
_MARKER = re.compile(r"^\s*(action( item)?|todo|to-do)\s*[:\-]\s*", re.I)


def _parse(counts: str) -> Counter[str]:
    out: Counter[str] = Counter()
    if counts.strip() == "none":
        return out
    for part in counts.split(", "):
        name, _, n = part.rpartition(" ")
        if not name or not n.isdigit():
            raise ValueError(part)
        out[name] += int(n)
    return out


def _render(c: Counter[str]) -> str:
    return ", ".join(f"{k} {n}" for k, n in sorted(c.items()) if n > 0) or "none"


def fix_balance(line: str, anonymous: list[tuple[str, str]]) -> str:
    """A minutes balance line without the anonymous questions' (stakeholder group, platform) pairs,
    counted apart; a group left at zero joins "not heard from". Any other line is returned as is."""
    m = _BALANCE.match(line)
    if m is None or not anonymous:
        return line
    try:
        groups, platforms = _parse(m.group("groups")), _parse(m.group("platforms"))
    except ValueError:
        return line
    silent = [g for g in (m.group("silent") or "").split(", ") if g]
    for group, platform in anonymous:
        groups[group] -= 1
        platforms[platform] -= 1
        if groups[group] <= 0 and group and group not in silent:
            silent.append(group)
    text = f"{m.group('lead')}Questions and reactions by stakeholder group: {_render(groups)}"
    text += f" · by platform: {_render(platforms)}"
    text += f" · anonymous questions: {len(anonymous)} (counted by neither)"
    if silent:
        text += " · ⚠ not heard from: " + ", ".join(sorted(silent))
    return text


def fix_text(text: str, sessions: list[list[tuple[str, str]]]) -> str:
    """Minutes (one session) or a digest (its sessions' minutes, in the order it lists them): the
    "(anonymous, <platform>)" tags dropped, and the n-th balance line fixed with the n-th session's
    anonymous pairs. `sessions` is consumed as balance lines are met."""
    lines = _TAG.sub("(anonymous)", text).split("\n")
    for i, line in enumerate(lines):
        if _BALANCE.match(line) and sessions:
            lines[i] = fix_balance(line, sessions.pop(0))
    return "\n".join(lines)


def fix_minutes(minutes: str, anonymous: list[tuple[str, str]]) -> str:
    return fix_text(minutes, [anonymous])


def _fix_json(value: Any, sessions: list[list[tuple[str, str]]]) -> Any:
    if isinstance(value, str):
        return fix_text(value, sessions)
    if isinstance(value, list):
        return [_fix_json(v, sessions) for v in value]
    if isinstance(value, dict):
        return {k: _fix_json(v, sessions) for k, v in value.items()}
    return value


def upgrade() -> None:
    conn = op.get_bind()
    questions = sa.table(
        "live_questions",
        sa.column("id", sa.Integer()),
        sa.column("session_id", sa.Integer()),
        sa.column("anonymous", sa.Boolean()),
        sa.column("text", sa.String()),
        sa.column("platform", sa.String()),
        sa.column("stakeholder_group", sa.String()),
    )
    sessions = sa.table(
        "live_sessions",
        sa.column("id", sa.Integer()),
        sa.column("wg_id", sa.Integer()),
        sa.column("ended_at", sa.DateTime()),
        sa.column("minutes", sa.String()),
    )
    items = sa.table(
        "action_items",
        sa.column("id", sa.Integer()),
        sa.column("source_ref", sa.String()),
        sa.column("text", sa.String()),
        sa.column("platform", sa.String()),
    )
    digests = sa.table(
        "digests",
        sa.column("id", sa.Integer()),
        sa.column("wg_id", sa.Integer()),
        sa.column("period_start", sa.DateTime()),
        sa.column("period_end", sa.DateTime()),
        sa.column("text", sa.Text()),
        sa.column("payload", sa.JSON()),
    )
    rows = conn.execute(
        sa.select(questions.c.session_id, questions.c.text, questions.c.stakeholder_group, questions.c.platform).where(
            questions.c.anonymous.is_(True)
        )
    ).all()
    by_session: dict[int, list[tuple[str, str]]] = {}
    texts: dict[int, set[str]] = {}
    for session_id, text, group, platform in rows:
        if group or platform:
            by_session.setdefault(session_id, []).append((group or "", platform or ""))
        texts.setdefault(session_id, set()).add(" ".join(_MARKER.sub("", text).split())[:500])
    ended = conn.execute(
        sa.select(sessions.c.id, sessions.c.wg_id, sessions.c.ended_at, sessions.c.minutes)
        .where(sessions.c.minutes.is_not(None))
        .order_by(sessions.c.ended_at)
    ).all()
    for session_id, _wg, _end, minutes in ended:
        fixed = fix_minutes(minutes, by_session.get(session_id, []))[:20000]
        if fixed != minutes:
            conn.execute(sessions.update().where(sessions.c.id == session_id).values(minutes=fixed))
    for session_id, said in texts.items():
        conn.execute(
            items.update()
            .where(items.c.source_ref == f"live:{session_id}", items.c.text.in_(sorted(said)))
            .values(platform=None)
        )
    conn.execute(questions.update().where(questions.c.anonymous.is_(True)).values(platform="", stakeholder_group=""))
    # a digest lists the minutes of its group's sessions that ended in its period, oldest first
    for digest_id, wg_id, start, end, text, payload in conn.execute(
        sa.select(
            digests.c.id,
            digests.c.wg_id,
            digests.c.period_start,
            digests.c.period_end,
            digests.c.text,
            digests.c.payload,
        )
    ).all():
        if text is None or not _TAG.search(text):
            continue
        listed = [
            by_session.get(sid, [])
            for sid, wg, stop, _m in ended
            if wg == wg_id and stop is not None and _naive(start) <= _naive(stop) < _naive(end)
        ]
        if sum(bool(_BALANCE.match(line)) for line in text.split("\n")) != len(listed):
            listed = []  # not as expected: drop the tags only
        raw = json.loads(payload) if isinstance(payload, str) else payload
        conn.execute(
            digests.update()
            .where(digests.c.id == digest_id)
            .values(text=fix_text(text, list(listed)), payload=_fix_json(raw, list(listed)))
        )


def _naive(t: Any) -> Any:
    """Stored times compare alike whether the driver gave them with a zone or without (UTC)."""
    if isinstance(t, str):
        from datetime import datetime

        t = datetime.fromisoformat(t)
    return t.replace(tzinfo=None) if t is not None and t.tzinfo is not None else t


def downgrade() -> None:
    """Nothing to restore: what was removed tied anonymous questions to their askers."""
