"""Who took part, by stakeholder group and by region: the balance monitor of the digest and the
white paper. Each source counts one kind of contribution per member in a period; capabilities add
their own source (ballots, thread messages) with `@source`, and every report picks them up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.vocab import REGIONS, STAKEHOLDER_GROUPS
from storage.models import Checkin, CheckinAnswer, Meeting, Member, Proposal, ProposalRevision, Rsvp

#: (session, wg id, start, end) → contributions per member id
Source = Callable[[AsyncSession, int, datetime, datetime], Awaitable[Counter[int]]]
SOURCES: dict[str, Source] = {}


def source(name: str) -> Callable[[Source], Source]:
    def register(fn: Source) -> Source:
        SOURCES[name] = fn
        return fn

    return register


async def _count(session: AsyncSession, q: object) -> Counter[int]:
    rows = (await session.exec(q)).all()  # type: ignore[call-overload]
    return Counter({int(member_id): int(n) for member_id, n in rows if member_id is not None})


@source("proposals")
async def _proposals(session: AsyncSession, wg_id: int, start: datetime, end: datetime) -> Counter[int]:
    new = await _count(
        session,
        select(Proposal.author_id, func.count())
        .where(Proposal.wg_id == wg_id, col(Proposal.created_at) >= start, col(Proposal.created_at) < end)
        .group_by(col(Proposal.author_id)),
    )
    amended = await _count(
        session,
        select(ProposalRevision.editor_id, func.count())
        .join(Proposal, col(Proposal.id) == col(ProposalRevision.proposal_id))
        .where(
            Proposal.wg_id == wg_id,
            col(ProposalRevision.revision) > 1,
            col(ProposalRevision.created_at) >= start,
            col(ProposalRevision.created_at) < end,
        )
        .group_by(col(ProposalRevision.editor_id)),
    )
    return new + amended


@source("answers")
async def _answers(session: AsyncSession, wg_id: int, start: datetime, end: datetime) -> Counter[int]:
    return await _count(
        session,
        select(CheckinAnswer.member_id, func.count())
        .join(Checkin, col(Checkin.id) == col(CheckinAnswer.checkin_id))
        .where(Checkin.wg_id == wg_id, col(CheckinAnswer.answered_at) >= start, col(CheckinAnswer.answered_at) < end)
        .group_by(col(CheckinAnswer.member_id)),
    )


@source("RSVPs")
async def _rsvps(session: AsyncSession, wg_id: int, start: datetime, end: datetime) -> Counter[int]:
    return await _count(
        session,
        select(Rsvp.member_id, func.count())
        .join(Meeting, col(Meeting.id) == col(Rsvp.meeting_id))
        .where(Meeting.wg_id == wg_id, col(Rsvp.updated_at) >= start, col(Rsvp.updated_at) < end)
        .group_by(col(Rsvp.member_id)),
    )


@dataclass
class Tally:
    """Contributions of one stakeholder group or region."""

    name: str
    members: int = 0
    active: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


@dataclass
class Participation:
    groups: list[Tally]
    regions: list[Tally]

    @property
    def any(self) -> bool:
        return any(t.total for t in self.groups)

    def silent_groups(self) -> list[str]:
        return [t.name for t in self.groups if t.total == 0]

    def silent_regions(self) -> list[str]:
        return [t.name for t in self.regions if t.total == 0]


async def participation(session: AsyncSession, wg_id: int, start: datetime, end: datetime) -> Participation:
    members = (
        await session.exec(select(Member).where(Member.wg_id == wg_id).order_by(col(Member.id)))
    ).all()  # erased members' past contributions still count, under their group
    by_member = {m.id: m for m in members}
    groups = {g: Tally(g) for g in STAKEHOLDER_GROUPS}
    regions = {r: Tally(r) for r in REGIONS}
    regions["unspecified"] = Tally("unspecified")
    for m in members:
        if m.erased_at is None:
            groups.setdefault(m.stakeholder_group, Tally(m.stakeholder_group)).members += 1
            regions[m.region or "unspecified"].members += 1
    active: dict[str, set[int]] = {}
    for kind, fn in SOURCES.items():
        for member_id, n in (await fn(session, wg_id, start, end)).items():
            who = by_member.get(member_id)
            if who is None or n <= 0:
                continue
            for tally in (
                groups.setdefault(who.stakeholder_group, Tally(who.stakeholder_group)),
                regions[who.region or "unspecified"],
            ):
                tally.by_kind[kind] += n
                active.setdefault(tally.name, set()).add(member_id)
    for tally in (*groups.values(), *regions.values()):
        tally.active = len(active.get(tally.name, ()))
    region_list = [t for name, t in regions.items() if name != "unspecified" or t.members or t.total]
    return Participation(groups=list(groups.values()), regions=region_list)


def tally_line(t: Tally) -> str:
    if t.total == 0:
        who = "no members" if t.members == 0 else f"{t.members} member{'s' if t.members != 1 else ''}"
        return f"⚠ {t.name}: no participation ({who})"
    kinds = ", ".join(f"{n} {kind[:-1] if n == 1 else kind}" for kind, n in sorted(t.by_kind.items()) if n)
    return f"{t.name}: {kinds} — {t.active} of {t.members} member{'s' if t.members != 1 else ''} active"
