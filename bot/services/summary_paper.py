"""The white paper's key points and dissent from thread summaries (issue 11: "key points and dissent
from summaries" under each theme).

From the summary cache (bot/services/summaries.py): the latest summary of each thread. A thread goes
under a theme when its summary cites a proposal of that theme (`P3`) or names the theme itself;
threads that match no theme go in one section of their own after the themes. For each thread: its
key points, and the positions of the stakeholder groups — where the dissent is. The cache is
pseudonymous by design (no names are stored; opted-out members' messages were never in it), so
speakers read as "a participant". The methods note names the model that wrote them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import whitepaper
from bot.summarizer import latest_per_thread
from bot.summary_schema import SummaryDoc
from bot.timefmt import fmt_date
from bot.transcript import PSEUDONYM
from bot.whitepaper import Block
from storage.models import Proposal, ThreadSummary, WorkingGroup

#: per thread, so one long discussion cannot crowd out the rest of the paper
MAX_POINTS = 5
MAX_POSITIONS = 6
_PROPOSAL_REF = re.compile(r"\bP([0-9]{1,6})\b")
PLATFORMS = {"slack": "Slack", "discord": "Discord", "console": "console"}


@dataclass(frozen=True)
class _Thread:
    label: str
    doc: SummaryDoc
    engine: str
    model: str | None


def _plain(text: str) -> str:
    out = PSEUDONYM.sub("a participant", text)
    return out[:1].upper() + out[1:]


async def _latest(session: AsyncSession, wg_id: int) -> list[_Thread]:
    """The latest summary of each thread, oldest thread first (a stable order for a deterministic paper)."""
    rows = (
        await session.exec(
            select(ThreadSummary)
            .where(ThreadSummary.wg_id == wg_id)
            .order_by(col(ThreadSummary.created_at).desc(), col(ThreadSummary.id).desc())
        )
    ).all()
    out: list[_Thread] = []
    for row, doc in latest_per_thread(rows):
        where = PLATFORMS.get(row.platform, row.platform)
        label = f"A {where} thread summarized on {fmt_date(row.created_at, 'UTC')}"
        out.append(_Thread(label, doc, row.engine, row.model))
    return list(reversed(out))


def _text(doc: SummaryDoc) -> str:
    parts = [doc.tldr, *(p.text for p in doc.key_points), *(p.text for p in doc.decisions)]
    return "\n".join(parts)


async def _themes_of(session: AsyncSession, wg: WorkingGroup, thread: _Thread) -> set[str]:
    text = _text(thread.doc)
    numbers = {int(n) for n in _PROPOSAL_REF.findall(text)}
    themes: set[str] = set()
    if numbers:
        cited = (
            await session.exec(
                select(Proposal.theme).where(Proposal.wg_id == wg.id, col(Proposal.number).in_(sorted(numbers)))
            )
        ).all()
        themes |= {t for t in cited if t in wg.themes}
    lower = text.lower()
    themes |= {t for t in wg.themes if re.search(rf"(?<!\w){re.escape(t.lower())}(?!\w)", lower)}
    return themes


def _blocks(thread: _Thread) -> list[Block]:
    doc = thread.doc
    items = [_plain(p.text) for p in doc.key_points[:MAX_POINTS]] or [_plain(doc.tldr)]
    out = [Block("h3", f"Key points from discussion — {thread.label}"), Block("ul", items=items)]
    if doc.positions:
        positions = [f"{p.group}: {_plain(p.position)}" for p in doc.positions[:MAX_POSITIONS]]
        out += [Block("p", "Positions by stakeholder group (where views differ):"), Block("ul", items=positions)]
    return out


async def theme_points(session: AsyncSession, wg: WorkingGroup, theme: str | None) -> list[Block]:
    if theme is None or wg.id is None:
        return []  # threads of no theme have their own section (below), not "Proposals without a theme"
    out: list[Block] = []
    for thread in await _latest(session, wg.id):
        if theme in await _themes_of(session, wg, thread):
            out += _blocks(thread)
    return out


async def other_discussions(session: AsyncSession, wg: WorkingGroup) -> list[Block]:
    assert wg.id is not None
    rest = [t for t in await _latest(session, wg.id) if not await _themes_of(session, wg, t)]
    if not rest:
        return []
    out = [Block("h2", "Other discussions")]
    for thread in rest:
        out += _blocks(thread)
    return out


async def ai_parts(session: AsyncSession, wg: WorkingGroup) -> list[str]:
    assert wg.id is not None
    models = sorted({t.model or "an AI model" for t in await _latest(session, wg.id) if t.engine == "llm"})
    if not models:
        return []
    return [f"the key points and positions from discussion threads (by {', '.join(models)})"]


if theme_points not in whitepaper.THEME_POINTS:
    whitepaper.THEME_POINTS.append(theme_points)
if other_discussions not in whitepaper.EXTRA_SECTIONS:
    whitepaper.EXTRA_SECTIONS.insert(0, other_discussions)
if ai_parts not in whitepaper.AI_PARTS:
    whitepaper.AI_PARTS.append(ai_parts)
