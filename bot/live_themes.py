"""Grouping one-line reactions by theme, offline and deterministic. Pure functions.

A reaction joins the first theme it shares a content word with (after stop words and a crude plural
fold); otherwise it starts a theme. A theme is named by its most frequent shared word. The synthesis
picks, per theme, the reaction that shares the most words with the others (the most representative),
so it only ever repeats what people said.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
STOPWORDS = frozenset(
    """the and for that this with have from they will what when where which there their about would
    could should been were into than then them also just like more some only over such very your
    yours ours here does done doing being well still even much many most other these those because
    while after before again each both same can't don't won't it's that's let's what's need needs
    think really make makes made good great want wants are not but our its has had was all any how
    who why you she him her his one two get got""".split()
)


def stem(word: str) -> str:
    """A crude fold of English endings (sharing, shared, shares → shar), enough to match themes."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def words(text: str, ignore: frozenset[str] = frozenset()) -> set[str]:
    out = set()
    for w in _WORD.findall(text.lower()):
        if w in STOPWORDS:
            continue
        s = stem(w)
        if s not in ignore:
            out.add(s)
    return out


@dataclass
class Theme:
    name: str
    items: list[tuple[str, str]] = field(default_factory=list)  # (text, stakeholder group)
    keys: Counter[str] = field(default_factory=Counter)

    def representative(self) -> str:
        def score(text: str) -> tuple[int, int]:
            mine = words(text) & set(self.keys)
            return (sum(self.keys[w] for w in mine if self.keys[w] > 1), -len(text))

        return max((t for t, _ in self.items), key=score)


def group(reactions: list[tuple[str, str]], prompt: str = "") -> list[Theme]:
    """`reactions` as (text, stakeholder group), in the order given; themes largest first. The
    prompt's own words are context, not themes ("data" in "what worries you about data?")."""
    ignore = frozenset(words(prompt))
    themes: list[Theme] = []
    for text, who in reactions:
        mine = words(text, ignore)
        home = next((t for t in themes if mine & set(t.keys)), None)
        if home is None:
            home = Theme(name="")
            themes.append(home)
        home.items.append((text, who))
        home.keys.update(mine)
    for t in themes:
        shared = [(n, w) for w, n in t.keys.items() if n > 1]
        t.name = max(shared)[1] if shared else "other"
    singles = [t for t in themes if len(t.items) == 1]
    merged = [t for t in themes if len(t.items) > 1]
    if len(singles) > 1:
        other = Theme(name="other")
        for t in singles:
            other.items += t.items
            other.keys.update(t.keys)
        merged.append(other)
    else:
        merged += singles
    return sorted(merged, key=lambda t: (-len(t.items), t.name == "other", t.name))


def synthesis(themes: list[Theme]) -> str:
    total = sum(len(t.items) for t in themes)
    if total == 0:
        return "No reactions were given."
    parts = [f"“{t.representative()}” ({len(t.items)} on {t.name})" for t in themes if t.name != "other"]
    head = f"{total} reaction(s) in {len(themes)} theme(s)."
    if not parts:
        return head + " No common theme: each reaction raised its own point."
    return head + " Most raised: " + "; ".join(parts) + "."
