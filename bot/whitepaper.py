"""`wgbot export whitepaper`: the working group's synthesis, the outcome the founding roundtable
promised. Built from the database alone, so the same data gives the same bytes (no "generated at"
wall-clock time; the paper is dated by the latest activity it covers).

The paper is a small document model (headings, paragraphs, lists, tables) rendered to Markdown or
HTML (`bot/whitepaper_render.py`). Capabilities add to it through hooks, without touching this
module's structure: `PROPOSAL_DETAILS` (votes: results and the stakeholder breakdown under each
decided proposal), `THEME_POINTS` (summaries: key points and dissent per theme), `EXTRA_SECTIONS`
(action items) and `AI_PARTS` (which parts an LLM wrote, with the model's name, for the methods note).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.digest.participation import Tally, participation
from bot.timefmt import fmt_date
from storage.models import Checkin, CheckinAnswer, Meeting, Member, Proposal, ProposalRevision, WorkingGroup

END_OF_TIME = datetime(2100, 1, 1, tzinfo=UTC)


@dataclass
class Block:
    kind: Literal["h1", "h2", "h3", "p", "ul", "table"]
    text: str = ""
    items: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Paper:
    title: str
    blocks: list[Block]


ProposalDetail = Callable[[AsyncSession, Proposal], Awaitable[list[str]]]
ThemePoints = Callable[[AsyncSession, WorkingGroup, str | None], Awaitable[list[Block]]]
ExtraSection = Callable[[AsyncSession, WorkingGroup], Awaitable[list[Block]]]
AiParts = Callable[[AsyncSession, WorkingGroup], Awaitable[list[str]]]
PROPOSAL_DETAILS: list[ProposalDetail] = []
THEME_POINTS: list[ThemePoints] = []
EXTRA_SECTIONS: list[ExtraSection] = []
AI_PARTS: list[AiParts] = []


class UnknownGroup(LookupError):
    pass


async def find_group(session: AsyncSession, name: str | None) -> WorkingGroup:
    groups = list((await session.exec(select(WorkingGroup).order_by(col(WorkingGroup.id)))).all())
    if name is not None:
        for g in groups:
            if g.name.lower() == name.strip().lower():
                return g
        known = ", ".join(g.name for g in groups) or "none yet"
        raise UnknownGroup(f"no working group named “{name}” (groups: {known})")
    if len(groups) == 1:
        return groups[0]
    if not groups:
        raise UnknownGroup("there is no working group in this database yet")
    raise UnknownGroup(f"several working groups: name one with --wg ({', '.join(g.name for g in groups)})")


async def _names(session: AsyncSession, wg_id: int) -> dict[int, str]:
    rows = (await session.exec(select(Member).where(Member.wg_id == wg_id))).all()
    return {
        m.id: ("a former member" if m.erased_at else f"{m.display_name} ({m.stakeholder_group})")
        for m in rows
        if m.id is not None
    }


async def _latest(session: AsyncSession, wg: WorkingGroup) -> datetime:
    times = [wg.created_at]
    answered = (
        select(func.max(CheckinAnswer.answered_at))
        .join(Checkin, col(Checkin.id) == col(CheckinAnswer.checkin_id))
        .where(col(Checkin.wg_id) == wg.id)
    )
    for q in (
        select(func.max(Proposal.updated_at)).where(col(Proposal.wg_id) == wg.id),
        select(func.max(Meeting.updated_at)).where(col(Meeting.wg_id) == wg.id),
        answered,
    ):
        value = (await session.exec(q)).one()
        if value is not None:
            times.append(value)
    return max(times)


def _proposal_line(p: Proposal, names: dict[int, str], revisions: int) -> str:
    amended = f", amended {revisions - 1}×" if revisions > 1 else ""
    return (
        f"**P{p.number} {p.title}** — proposed by {names.get(p.author_id or 0, 'a former member')}{amended}. {p.body}"
    )


async def build(session: AsyncSession, wg: WorkingGroup, step: Callable[[str], None] = lambda _s: None) -> Paper:
    assert wg.id is not None
    names = await _names(session, wg.id)
    latest = await _latest(session, wg)
    proposals = list(
        (await session.exec(select(Proposal).where(Proposal.wg_id == wg.id).order_by(col(Proposal.number)))).all()
    )
    revisions = dict(
        (
            await session.exec(
                select(ProposalRevision.proposal_id, func.count())
                .join(Proposal, col(Proposal.id) == col(ProposalRevision.proposal_id))
                .where(Proposal.wg_id == wg.id)
                .group_by(col(ProposalRevision.proposal_id))
            )
        ).all()
    )
    blocks: list[Block] = [
        Block("p", f"A synthesis of the work of the working group “{wg.name}”, as of {fmt_date(latest, 'UTC')}."),
        Block("h2", "The policy questions"),
        Block("ul", items=[*wg.themes] or ["(no themes set)"]),
    ]
    step("policy questions")
    themes: list[str | None] = [*wg.themes, None]
    for theme in themes:
        mine = [p for p in proposals if (p.theme if p.theme in wg.themes else None) == theme]
        points: list[Block] = []
        for hook in THEME_POINTS:
            points += await hook(session, wg, theme)
        step(theme or "other proposals")
        if not mine and not points:
            continue
        blocks.append(Block("h2", f"Theme: {theme}" if theme else "Proposals without a theme"))
        for title, statuses in (
            ("Accepted", ("accepted",)),
            ("Still open", ("open", "voting")),
            ("Rejected", ("rejected",)),
            ("Withdrawn", ("withdrawn",)),
        ):
            chosen = [p for p in mine if p.status in statuses]
            if not chosen:
                continue
            blocks.append(Block("h3", title))
            items: list[str] = []
            for p in chosen:
                line = _proposal_line(p, names, int(revisions.get(p.id or 0, 1)))
                if p.status == "voting":
                    line += " (under vote)"
                for detail in PROPOSAL_DETAILS:
                    extra = await detail(session, p)
                    if extra:
                        line += " " + " ".join(extra)
                items.append(line)
            blocks.append(Block("ul", items=items))
        blocks += points
    for extra_section in EXTRA_SECTIONS:
        blocks += await extra_section(session, wg)
    blocks += await _meetings_and_checkins(session, wg)
    step("meetings and check-ins")
    blocks += await _participation(session, wg)
    step("participation")
    blocks += await _methods(session, wg)
    step("methods")
    return Paper(title=f"{wg.name}: white paper", blocks=blocks)


async def _meetings_and_checkins(session: AsyncSession, wg: WorkingGroup) -> list[Block]:
    meetings = (await session.exec(select(Meeting).where(Meeting.wg_id == wg.id).order_by(col(Meeting.number)))).all()
    checkins = (await session.exec(select(Checkin).where(Checkin.wg_id == wg.id).order_by(col(Checkin.number)))).all()
    answers = dict(
        (
            await session.exec(
                select(CheckinAnswer.checkin_id, func.count())
                .join(Checkin, col(Checkin.id) == col(CheckinAnswer.checkin_id))
                .where(Checkin.wg_id == wg.id)
                .group_by(col(CheckinAnswer.checkin_id))
            )
        ).all()
    )
    out: list[Block] = []
    if meetings:
        out += [
            Block("h2", "Meetings"),
            Block(
                "ul",
                items=[
                    f"M{m.number} {m.title}: {fmt_date(m.start_at, 'UTC')}"
                    + (" (cancelled)" if m.status == "cancelled" else "")
                    + (" (recurring)" if m.rrule else "")
                    for m in meetings
                ],
            ),
        ]
    if checkins:
        out += [
            Block("h2", "Check-ins"),
            Block("ul", items=[f"C{c.number} {c.question} — {answers.get(c.id or 0, 0)} answer(s)" for c in checkins]),
        ]
    return out


async def _participation(session: AsyncSession, wg: WorkingGroup) -> list[Block]:
    assert wg.id is not None
    p = await participation(session, wg.id, wg.created_at, END_OF_TIME)

    def table(tallies: list[Tally]) -> Block:
        kinds = sorted({k for t in tallies for k in t.by_kind})
        rows = [["", "members", "active", *kinds]]
        rows += [[t.name, str(t.members), str(t.active), *(str(t.by_kind.get(k, 0)) for k in kinds)] for t in tallies]
        return Block("table", rows=rows)

    out = [
        Block("h2", "Participation"),
        Block("h3", "By stakeholder group"),
        table(p.groups),
        Block("h3", "By region"),
        table(p.regions),
    ]
    silent = p.silent_groups()
    if silent:
        out.append(Block("p", f"Stakeholder groups not heard from: {', '.join(silent)}."))
    return out


async def _methods(session: AsyncSession, wg: WorkingGroup) -> list[Block]:
    ai: list[str] = []
    for hook in AI_PARTS:
        ai += await hook(session, wg)
    text = (
        "This paper was compiled by wgbot from the group's records: proposals with their amendment "
        "history, meetings, check-in answers and participation counts. "
    )
    text += (
        "Parts generated by an AI model: " + "; ".join(ai) + "."
        if ai
        else "No part of it was generated by an AI model."
    )
    return [Block("h2", "Methods"), Block("p", text)]
