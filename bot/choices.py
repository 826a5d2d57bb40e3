"""Reading what people type for votes: the option list of `/wg vote open` and the ballot of `/wg vote`.

Pure functions. A ballot names options by letter (`B`) or by their text (`Option two`), so buttons,
selects, forms and typed text all produce the same `choice` dict that `bot.tally` counts.
Errors never echo more of the ballot than the part that is wrong.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot.errors import UserError
from bot.sanitize import clean_line
from bot.tally import ANSWERS, MAX_SCORE, letter
from bot.timeparse import parse_when

MIN_OPTIONS = 2
MAX_OPTIONS = 100
MAX_OPTION = 200
_SPLIT = re.compile(r"[,\n;]")


def option_list(method: str, raw: str, now: datetime, tz: str) -> list[str]:
    """`"a, b, c"` → the option labels; for `time`, each is read as a time and stored as ISO UTC."""
    parts = [clean_line(p) for p in _SPLIT.split(raw)]
    parts = [p for p in parts if p]
    if len(parts) < MIN_OPTIONS:
        raise UserError(f'A {method} vote needs at least {MIN_OPTIONS} options, e.g. options:"first, second".')
    if len(parts) > MAX_OPTIONS:
        raise UserError(f"Too many options ({len(parts)}); a vote has at most {MAX_OPTIONS}.")
    out: list[str] = []
    for p in parts:
        if len(p) > MAX_OPTION:
            raise UserError(f"Option `{p[:40]}…` is too long ({len(p)} characters; the limit is {MAX_OPTION}).")
        if method == "time":
            when = parse_when(p, now, tz).at
            if when <= now:
                raise UserError(f"The slot `{p[:40]}` is in the past.")
            p = when.isoformat().replace("+00:00", "Z")
        if p.lower() in (o.lower() for o in out):
            raise UserError(f"The option `{p[:40]}` is listed twice.")
        out.append(p)
    return out


def _index(token: str, options: list[str], shown: list[str]) -> int:
    t = token.strip().strip('"').strip()
    if not t:
        raise UserError("An option is empty; name options by letter (A, B, …) or by their text.")
    for i in range(len(options)):
        if t.upper() == letter(i):
            return i
    lowered = t.lower()
    for i, (o, s) in enumerate(zip(options, shown, strict=True)):
        if lowered in (o.lower(), s.lower()):
            return i
    valid = ", ".join(letter(i) for i in range(min(len(options), 26)))
    more = " …" if len(options) > 26 else ""
    raise UserError(f"`{t[:40]}` is not an option of this vote; use a letter ({valid}{more}) or an option's text.")


def read_ballot(method: str, options: list[str], text: str, shown: list[str] | None = None) -> dict[str, Any]:
    """The ballot text of `/wg vote V<n> <choice>` → the choice dict (see `bot.tally.Cast`).

    `shown` are the option labels as the voter reads them (time slots in their zone)."""
    shown = shown or options
    t = " ".join(text.split()).strip()
    if method in ANSWERS:
        valid = ANSWERS[method]
        answer = t.lower().rstrip(".!")
        if answer not in valid:
            raise UserError(f"Answer one of: {', '.join(valid)} (not `{t[:30]}`).")
        return {"answer": answer}
    if method == "choice":
        return {"options": [_index(t, options, shown)]}
    if method in ("approval", "time"):
        if t.lower() in ("none", "-"):
            return {"options": []}
        picked: list[int] = []
        for part in _SPLIT.split(t):
            i = _index(part, options, shown)
            if i in picked:
                raise UserError(f"{letter(i)} is named twice.")
            picked.append(i)
        return {"options": sorted(picked)}
    if method == "score":
        scores: dict[str, int] = {}
        for part in _SPLIT.split(t):
            m = re.fullmatch(r"\s*(.+?)\s*[=:]\s*(\S+)\s*", part)
            if not m:
                raise UserError(f"Give scores as letter=score, e.g. A=5, B=2 (not `{part.strip()[:30]}`).")
            i = _index(m.group(1), options, shown)
            raw = m.group(2)
            if not (raw.isascii() and raw.isdigit()) or not 0 <= int(raw) <= MAX_SCORE:
                raise UserError(f"Scores go from 0 to {MAX_SCORE} (not `{raw[:10]}` for {letter(i)}).")
            if str(i) in scores:
                raise UserError(f"{letter(i)} is scored twice.")
            scores[str(i)] = int(raw)
        return {"scores": scores}
    if method == "ranked":
        sep = ">" if ">" in t else ","
        ranking: list[int] = []
        for part in t.split(sep):
            i = _index(part, options, shown)
            if i in ranking:
                raise UserError(f"{letter(i)} is ranked twice; rank each option at most once.")
            ranking.append(i)
        return {"ranking": ranking}
    raise UserError(f"Unknown method {method}.")


def describe(method: str, options: list[str], choice: dict[str, Any]) -> str:
    """A ballot as its voter reads it back (`B > A`, `A=5, B=2`, `agree`)."""
    if "answer" in choice:
        return str(choice["answer"])
    if "options" in choice:
        return ", ".join(letter(i) for i in choice["options"]) or "none"
    if "scores" in choice:
        return ", ".join(
            f"{letter(int(k))}={v}" for k, v in sorted(choice["scores"].items(), key=lambda kv: int(kv[0]))
        )
    return " > ".join(letter(i) for i in choice.get("ranking", []))
