"""Digest sections: one small function each, reading its own tables for the period.

A section returns None when it has nothing to say (a quiet week then reads as one line), or a
`Section` whose `lines(tz)` renders it in a reader's zone. Capabilities register theirs with
`@section(order, name)`: votes (opened/closed with outcome and breakdown), thread summaries and
action items plug in here without touching the composer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.digest.participation import participation, tally_line
from bot.services.meetings import next_start, rsvp_map
from bot.timefmt import fmt_short
from storage.models import Checkin, CheckinAnswer, Meeting, Member, Proposal, ProposalRevision, WorkingGroup

MAX_QUOTE = 280


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    #: when the digest is read, if before `end` (a preview of the week being built): ages and
    #: "days open" count to this, not to the digest's future time
    as_of: datetime | None = None

    @property
    def now(self) -> datetime:
        return min(self.as_of, self.end) if self.as_of is not None else self.end

    @property
    def week(self) -> str:
        """The ISO week the period covers (of its midpoint): a Monday-to-Monday digest is that week's."""
        year, week, _ = (self.start + (self.end - self.start) / 2).isocalendar()
        return f"{year}-W{week:02d}"


@dataclass
class Section:
    title: str
    lines: Callable[[str], list[str]]
    #: True when it reports something that happened in the period (not only what is coming)
    activity: bool = True


SectionFn = Callable[[AsyncSession, WorkingGroup, Period], Awaitable[Section | None]]
SECTIONS: list[tuple[int, str, SectionFn]] = []


def section(order: int, name: str) -> Callable[[SectionFn], SectionFn]:
    def register(fn: SectionFn) -> SectionFn:
        SECTIONS[:] = sorted([*(s for s in SECTIONS if s[1] != name), (order, name, fn)], key=lambda s: s[0])
        return fn

    return register


def quote(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_QUOTE else flat[: MAX_QUOTE - 1].rsplit(" ", 1)[0] + "…"


async def names(session: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = (await session.exec(select(Member).where(col(Member.id).in_(wanted)))).all()
    return {m.id: ("a former member" if m.erased_at else m.display_name) for m in rows if m.id is not None}


def _who(names: dict[int, str], member_id: int | None) -> str:
    return names.get(member_id or 0, "a former member")


@section(10, "proposals")
async def proposals_section(session: AsyncSession, wg: WorkingGroup, period: Period) -> Section | None:
    new = (
        await session.exec(
            select(Proposal)
            .where(
                Proposal.wg_id == wg.id, col(Proposal.created_at) >= period.start, col(Proposal.created_at) < period.end
            )
            .order_by(col(Proposal.number))
        )
    ).all()
    amended = (
        await session.exec(
            select(Proposal, ProposalRevision)
            .join(ProposalRevision, col(ProposalRevision.proposal_id) == col(Proposal.id))
            .where(
                Proposal.wg_id == wg.id,
                col(ProposalRevision.revision) > 1,
                col(ProposalRevision.created_at) >= period.start,
                col(ProposalRevision.created_at) < period.end,
            )
            .order_by(col(Proposal.number), col(ProposalRevision.revision))
        )
    ).all()
    withdrawn = (
        await session.exec(
            select(Proposal)
            .where(
                Proposal.wg_id == wg.id,
                Proposal.status == "withdrawn",
                col(Proposal.updated_at) >= period.start,
                col(Proposal.updated_at) < period.end,
            )
            .order_by(col(Proposal.number))
        )
    ).all()
    if not new and not amended and not withdrawn:
        return None
    who = await names(session, {p.author_id for p in new} | {r.editor_id for _, r in amended})
    lines = [
        f"New: P{p.number} “{p.title}”{f' [{p.theme}]' if p.theme else ''} by {_who(who, p.author_id)}" for p in new
    ]
    latest: dict[int, tuple[Proposal, ProposalRevision]] = {}
    for p, r in amended:
        latest[p.number] = (p, r)  # ordered by revision: the last one wins
    new_numbers = {p.number for p in new}
    lines = [f"{line}, amended since" if p.number in latest else line for p, line in zip(new, lines, strict=True)]
    for number, (p, r) in sorted(latest.items()):
        if number not in new_numbers:
            lines.append(f"Amended: P{p.number} “{p.title}” (now revision {r.revision}, by {_who(who, r.editor_id)})")
    lines += [f"Withdrawn: P{p.number} “{p.title}”" for p in withdrawn]
    return Section("Proposals", lambda _tz: lines)


@section(40, "meetings")
async def meetings_section(session: AsyncSession, wg: WorkingGroup, period: Period) -> Section | None:
    rows = (
        await session.exec(
            select(Meeting).where(Meeting.wg_id == wg.id, Meeting.status == "scheduled").order_by(col(Meeting.number))
        )
    ).all()
    horizon = period.end + timedelta(days=14)
    coming: list[tuple[datetime, Meeting, str]] = []
    for m in rows:
        start = next_start(m, period.end)
        if start is None or start >= horizon:
            continue
        answers = await rsvp_map(session, m.id)  # type: ignore[arg-type]
        counts = {a: sum(1 for v in answers.values() if v == a) for a in ("yes", "maybe", "no")}
        coming.append((start, m, f"{counts['yes']} yes · {counts['maybe']} maybe · {counts['no']} no"))
    if not coming:
        return None
    coming.sort(key=lambda item: (item[0], item[1].number))

    def lines(tz: str) -> list[str]:
        return [f"M{m.number} “{m.title}”: {fmt_short(start, tz)} (RSVP {rsvp})" for start, m, rsvp in coming]

    return Section("Upcoming meetings (next two weeks)", lines, activity=False)


@section(50, "checkins")
async def checkins_section(session: AsyncSession, wg: WorkingGroup, period: Period) -> Section | None:
    rows = (
        await session.exec(
            select(Checkin, CheckinAnswer)
            .join(CheckinAnswer, col(CheckinAnswer.checkin_id) == col(Checkin.id))
            .where(
                Checkin.wg_id == wg.id,
                col(CheckinAnswer.answered_at) >= period.start,
                col(CheckinAnswer.answered_at) < period.end,
            )
            .order_by(col(Checkin.number), col(CheckinAnswer.occurrence), col(CheckinAnswer.id))
        )
    ).all()
    if not rows:
        return None
    members = {
        m.id: m
        for m in (await session.exec(select(Member).where(col(Member.id).in_({a.member_id for _, a in rows})))).all()
    }
    lines: list[str] = []
    current: int | None = None
    for c, a in rows:
        if c.number != current:
            current = c.number
            lines.append(f"C{c.number} “{quote(c.question)}”")
        m = members.get(a.member_id)
        who = "a former member" if m is None or m.erased_at else f"{m.display_name} ({m.stakeholder_group})"
        lines.append(f"  · {who}, {a.occurrence}: {quote(a.text)}")
    return Section("Check-in answers", lambda _tz: lines)


@section(90, "participation")
async def participation_section(session: AsyncSession, wg: WorkingGroup, period: Period) -> Section | None:
    assert wg.id is not None
    p = await participation(session, wg.id, period.start, period.end)
    if not p.any:
        return None
    lines = ["By stakeholder group:", *(f"  {tally_line(t)}" for t in p.groups), "By region:"]
    lines += [f"  {tally_line(t)}" for t in p.regions]
    if p.silent_groups():
        lines.append(f"Not heard from this week: {', '.join(p.silent_groups())}.")
    return Section("Participation", lambda _tz: lines)
