"""Participation week by week, by stakeholder group (or region): the numbers behind the chart of
the web record (adapters/web/chart.py draws them as SVG), of `wgbot export chart`, and of the
weekly e-mail digest (a `Chart` block that the e-mail adapter draws as an inline PNG).

Counted per week (Monday 00:00 in the group's zone): proposals made, check-in answers given and
ballots cast (a voter's current ballot on each vote, when it was last cast). Erased members are
left out entirely.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, func, union_all
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import vocab
from bot.reply import Chart
from storage.models import Ballot, Checkin, CheckinAnswer, Member, Proposal, Vote

WEEKS = 8
UNKNOWN = "unknown"


@dataclass
class Participation:
    by: str  # "group" | "region"
    weeks: list[date]
    keys: list[str]
    #: counts[week index][key]
    counts: list[dict[str, int]]

    def total(self, i: int) -> int:
        return sum(self.counts[i].values())

    @property
    def empty(self) -> bool:
        return not any(self.total(i) for i in range(len(self.weeks)))


def week_start(at: datetime, tz: str) -> date:
    d = at.astimezone(ZoneInfo(tz)).date()
    return d - timedelta(days=d.weekday())


def _week(at: Any, weeks: int) -> Any:
    """The week an instant falls in: bounds b0 <= at < b<weeks> hold (the WHERE), so the first bound
    it is under names its week."""
    return case(*[(at < bindparam(f"b{i + 1}", type_=at.type), i) for i in range(weeks - 1)], else_=weeks - 1)


@lru_cache(maxsize=4)
def _activity_query(weeks: int) -> Any:
    """(week index, member id, acts) of proposals made, check-in answers given and ballots cast in the
    weeks: one statement, grouped by the database, built once (its bounds and group are parameters,
    so SQLAlchemy's compiled cache serves every request: building it cost more than running it)."""

    def counted(at: Any, member: Any, group: Any, join: tuple[Any, Any] | None = None) -> Any:
        week = _week(at, weeks)
        q = sa_select(week.label("week"), member.label("member"), func.count().label("n"))
        if join is not None:
            q = q.join(*join)
        since, until = bindparam("b0", type_=at.type), bindparam(f"b{weeks}", type_=at.type)
        return q.where(group == bindparam("wg"), at >= since, at < until).group_by(week, member)

    return union_all(
        counted(col(Proposal.created_at), col(Proposal.author_id), col(Proposal.wg_id)),
        counted(
            col(CheckinAnswer.answered_at),
            col(CheckinAnswer.member_id),
            col(Checkin.wg_id),
            join=(Checkin, col(Checkin.id) == col(CheckinAnswer.checkin_id)),
        ),
        counted(
            col(Ballot.cast_at),
            col(Ballot.member_id),
            col(Vote.wg_id),
            join=(Vote, col(Vote.id) == col(Ballot.vote_id)),
        ),
    )


async def _activity(session: AsyncSession, wg_id: int, bounds: list[datetime]) -> list[tuple[int, int | None, int]]:
    """(week index, member id, acts), counted by the database in one round trip, not row by row here."""
    params = {"wg": wg_id} | {f"b{i}": at for i, at in enumerate(bounds)}
    rows = await session.exec(_activity_query(len(bounds) - 1), params=params)
    return [(int(week), member, int(n)) for week, member, n in rows.all()]


async def participation(
    session: AsyncSession, wg_id: int, tz: str, now: datetime, *, by: str = "group", weeks: int = WEEKS
) -> Participation:
    last = week_start(now, tz)
    starts = [last - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    zone = ZoneInfo(tz)
    # each week's first instant in the group's zone (Monday 00:00), and the end of the last week
    bounds = [datetime.combine(d, datetime.min.time(), zone) for d in (*starts, last + timedelta(weeks=1))]
    rows = await session.exec(
        select(Member.id, Member.stakeholder_group, Member.region).where(
            Member.wg_id == wg_id, col(Member.erased_at).is_(None)
        )
    )
    key_of = {mid: (group if by == "group" else (region or UNKNOWN)) for mid, group, region in rows.all()}
    counts: list[Counter[str]] = [Counter() for _ in starts]
    for week, member_id, n in await _activity(session, wg_id, bounds):
        key = key_of.get(member_id) if member_id is not None else None
        if key is not None and 0 <= week < len(starts):
            counts[week][key] += n
    order = vocab.STAKEHOLDER_GROUPS if by == "group" else (*vocab.REGIONS, UNKNOWN)
    seen = {k for c in counts for k in c}
    keys = [k for k in order if k in seen] + sorted(seen - set(order))
    return Participation(by=by, weeks=starts, keys=keys, counts=[{k: c.get(k, 0) for k in keys} for c in counts])


def to_block(data: Participation, title: str) -> Chart:
    """The numbers as a reply block, with a text alternative that says them all."""
    label = "stakeholder group" if data.by == "group" else "region"
    weeks = [f"week of {w.day} {w:%b}: " + (", ".join(f"{k} {n}" for k, n in c.items() if n) or "none")
             for w, c in zip(data.weeks, data.counts, strict=True)]  # fmt: skip
    alt = f"{title}. Bar chart of contributions by {label}, one bar per week. " + "; ".join(weeks) + "."
    return Chart(
        title=title,
        alt=alt,
        by=data.by,
        weeks=[w.isoformat() for w in data.weeks],
        keys=list(data.keys),
        counts=[[c.get(k, 0) for k in data.keys] for c in data.counts],
    )


def from_block(block: Chart) -> Participation:
    return Participation(
        by=block.by,
        weeks=[date.fromisoformat(w) for w in block.weeks],
        keys=list(block.keys),
        counts=[dict(zip(block.keys, row, strict=True)) for row in block.counts],
    )


def table_lines(block: Chart) -> list[str]:
    """The chart's numbers as text: one line per week (the e-mail's text part, and the image's alt)."""
    out = [f"{block.title} (contributions per week):"]
    for week, row in zip(block.weeks, block.counts, strict=True):
        d = date.fromisoformat(week)
        parts = ", ".join(f"{k} {n}" for k, n in zip(block.keys, row, strict=True) if n) or "none"
        out.append(f"  week of {d.day} {d:%b %Y}: {parts} (total {sum(row)})")
    return out
