"""Untrusted text in, safe text out: the boundary around thread content, and the output filter.

Spotlighting (Hines et al., 2024): the thread goes to the model only between marker lines carrying a
boundary drawn from `secrets` for each request, in the user message, never in the system prompt, and
the system prompt says what the markers mean. A message cannot close the block early because it
cannot know the boundary (and any marker-looking line is defused anyway).

Whatever comes back is filtered before anyone sees it (OWASP LLM05, improper output handling; the
LLM01 exfiltration scenario is a link in a summary): links and bare domains not present verbatim in
the thread are removed (with the point or sentence that carried them), mentions and broadcasts
are neutralised, points must cite messages that exist, and every field and list has a length
bound. Pseudonyms stay until rendering (`Transcript.unname`), so the stored summary names nobody.
"""

from __future__ import annotations

import re
import secrets

from bot.mentions import neutralize
from bot.summary_schema import ActionItem, Point, Position, SummaryDoc
from bot.transcript import Transcript

_MARKER = re.compile(r"<<\s*(END\s+)?[A-Za-z0-9_-]{6,}\s*>>")
_LINKISH = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'`)\]]+|\b(?:[a-z0-9-]+\.)+[a-z]{2,24}(?::\d+)?/[^\s<>\"'`)\]]*",
    re.IGNORECASE,
)
_BARE_HOST = re.compile(r"\b(?:[a-z0-9-]+\.)+(?:com|org|net|io|ai|example|xyz|ru|cn|info|biz|co|app|dev)\b", re.I)
_MD_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
_SENTENCES = re.compile(r"(?<=[.!?])\s+")
_ANGLE = re.compile(r"<[@#!][^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

LIMITS = {"tldr": 600, "text": 300, "owner": 80, "due": 60, "group": 40}
COUNTS = {"key_points": 8, "decisions": 8, "action_items": 10, "open_questions": 8, "positions": 6}
MAX_SOURCES = 4


def new_boundary() -> str:
    return f"THREAD-{secrets.token_hex(12)}"


def defuse(text: str) -> str:
    """Thread text with anything that looks like a block marker broken up."""
    return _MARKER.sub(lambda m: m.group(0).replace("<<", "‹‹").replace(">>", "››"), text)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class OutputFilter:
    def __init__(self, transcript: Transcript, thread_text: str) -> None:
        self.transcript = transcript
        self.thread_text = thread_text
        self.removed_links = 0

    def _links(self, text: str) -> str:
        text = _MD_LINK.sub(lambda m: m.group(1) if m.group(2) not in self.thread_text else m.group(0), text)

        def keep(m: re.Match[str]) -> str:
            link = m.group(0).rstrip(".,;:!?")
            tail = m.group(0)[len(link) :]
            if link in self.thread_text:
                return m.group(0)
            self.removed_links += 1
            return "[link removed]" + tail

        text = _LINKISH.sub(keep, text)

        def host(m: re.Match[str]) -> str:
            if m.group(0).lower() in self.thread_text.lower():
                return m.group(0)
            self.removed_links += 1
            return "[link removed]"

        return _BARE_HOST.sub(host, text)

    def text(self, text: str | None, limit: int, *, drop_on_link: bool = False) -> str:
        """Filtered text; with `drop_on_link`, nothing when a link had to be removed (a point that
        carried a made-up link carries a made-up claim too)."""
        if not text:
            return ""
        text = _CONTROL.sub("", text)
        before = self.removed_links
        text = self._links(text)
        if drop_on_link and self.removed_links != before:
            return ""
        text = _ANGLE.sub("", text)
        return neutralize(_shorten(text, limit))

    def _tldr(self, text: str) -> str:
        """The TL;DR cites nothing, so a sentence that needed a link removed is dropped whole."""
        kept = [t for part in _SENTENCES.split(text or "") if (t := self.text(part, LIMITS["tldr"], drop_on_link=True))]
        return _shorten(" ".join(kept), LIMITS["tldr"]) or "(no summary)"

    def _sources(self, sources: list[str]) -> list[str]:
        known = {line.ref for line in self.transcript.lines}
        out: list[str] = []
        for s in sources:
            ref = s.strip().lower().strip("[]")
            if ref in known and ref not in out:
                out.append(ref)
        return out[:MAX_SOURCES]

    def _point(self, p: Point) -> Point | None:
        sources = self._sources(p.sources)
        text = self.text(p.text, LIMITS["text"], drop_on_link=True)
        if not sources or not text:
            return None  # a claim that cites nothing in the thread is not reported
        return Point(text=text, sources=sources)

    def apply(self, doc: SummaryDoc) -> SummaryDoc:
        def points(items: list[Point], count: int) -> list[Point]:
            return [q for p in items if (q := self._point(p)) is not None][:count]

        actions: list[ActionItem] = []
        for a in doc.action_items:
            base = self._point(a)
            if base is None:
                continue
            actions.append(
                ActionItem(
                    text=base.text,
                    sources=base.sources,
                    owner=self.text(a.owner, LIMITS["owner"]) or None,
                    due=self.text(a.due, LIMITS["due"]) or None,
                )
            )
        positions: list[Position] = []
        for pos in doc.positions:
            sources = self._sources(pos.sources)
            text = self.text(pos.position, LIMITS["text"], drop_on_link=True)
            if sources and text:
                positions.append(Position(group=self.text(pos.group, LIMITS["group"]), position=text, sources=sources))
        return SummaryDoc(
            tldr=self._tldr(doc.tldr),
            key_points=points(doc.key_points, COUNTS["key_points"]),
            decisions=points(doc.decisions, COUNTS["decisions"]),
            action_items=actions[: COUNTS["action_items"]],
            open_questions=points(doc.open_questions, COUNTS["open_questions"]),
            positions=positions[: COUNTS["positions"]],
        )
