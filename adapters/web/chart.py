"""Participation at a glance: who took part, by stakeholder group (or region), week by week.

Counted per week (Monday 00:00 in the group's zone): proposals made, check-in answers given and
ballots cast (a voter's current ballot on each vote, when it was last cast). Erased members are
left out entirely. The same numbers feed the
accessible table and the SVG, which is drawn here by hand (stacked bars, no script, no external
font or asset) so that it renders the same in a browser, in an e-mail and in `wgbot export chart`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, union_all
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import vocab
from storage.models import Ballot, Checkin, CheckinAnswer, Member, Proposal, Vote

WEEKS = 8
#: Okabe–Ito: distinguishable with the common colour-vision deficiencies
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")
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


def _week(column: Any, bounds: list[datetime]) -> Any:
    """The index of the week an instant falls in (bounds[i] <= t < bounds[i+1]), -1 outside."""
    return case(
        *[((column >= bounds[i]) & (column < bounds[i + 1]), i) for i in range(len(bounds) - 1)],
        else_=-1,
    )


async def _activity(session: AsyncSession, wg_id: int, bounds: list[datetime]) -> list[tuple[int, int | None, int]]:
    """(week index, member id, acts) for every counted act in the weeks: counted by the database in
    one round trip (proposals made, check-in answers given, ballots cast), not row by row here."""
    since, until = bounds[0], bounds[-1]

    def counted(at: Any, member: Any, *where: Any, join: tuple[Any, Any] | None = None) -> Any:
        week = _week(at, bounds)
        q = sa_select(week.label("week"), member.label("member"), func.count().label("n"))
        if join is not None:
            q = q.join(*join)
        return q.where(*where, at >= since, at < until).group_by(week, member)

    proposals = counted(col(Proposal.created_at), col(Proposal.author_id), col(Proposal.wg_id) == wg_id)
    answers = counted(
        col(CheckinAnswer.answered_at),
        col(CheckinAnswer.member_id),
        col(Checkin.wg_id) == wg_id,
        join=(Checkin, col(Checkin.id) == col(CheckinAnswer.checkin_id)),
    )
    ballots = counted(
        col(Ballot.cast_at),
        col(Ballot.member_id),
        col(Vote.wg_id) == wg_id,
        join=(Vote, col(Vote.id) == col(Ballot.vote_id)),
    )
    rows = await session.exec(union_all(proposals, answers, ballots))  # type: ignore[call-overload]
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


WIDTH, LEFT, RIGHT, TOP, PLOT_H = 640, 40, 10, 30, 180


def size(data: Participation) -> tuple[int, int]:
    legend_h = 22 * ((len(data.keys) + 2) // 3) + 10
    return WIDTH, TOP + PLOT_H + 30 + legend_h


def colour(keys: list[str], key: str) -> str:
    return PALETTE[keys.index(key) % len(PALETTE)]


def svg(data: Participation, *, title: str = "Participation by week") -> str:
    """Stacked bars, one per week, one segment per stakeholder group (or region).

    `data-unit` on the plot is the height in pixels of one act, so a bar's drawn height divided by it
    gives back the table's number."""
    left, right, top, plot_h = LEFT, RIGHT, TOP, PLOT_H
    width, height = size(data)
    peak = max((data.total(i) for i in range(len(data.weeks))), default=0)
    unit = plot_h / peak if peak else 0.0
    slot = (width - left - right) / max(len(data.weeks), 1)
    bar_w = slot * 0.6
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="chart-title" font-family="sans-serif" font-size="12">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{left}" y="18" font-size="14" fill="#222">{escape(title)}</text>',
        f'<g class="plot" data-unit="{unit:.6f}">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#555"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" fill="#555">{peak}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" fill="#555">0</text>',
    ]
    for i, week in enumerate(data.weeks):
        x = left + i * slot + (slot - bar_w) / 2
        y: float = top + plot_h
        for key in data.keys:
            n = data.counts[i][key]
            if not n:
                continue
            h = n * unit
            y = y - h
            out.append(
                f'<rect x="{x:.2f}" y="{y:.4f}" width="{bar_w:.2f}" height="{h:.4f}" fill="{colour(data.keys, key)}" '
                f'data-week={quoteattr(week.isoformat())} data-key={quoteattr(key)} data-count="{n}">'
                f"<title>{escape(f'week of {week:%d %b}: {key} {n}')}</title></rect>"
            )
        out.append(
            f'<text x="{x + bar_w / 2:.2f}" y="{top + plot_h + 16}" text-anchor="middle" fill="#333">'
            f"{week.day} {week:%b}</text>"
        )
    out.append("</g>")
    ly = top + plot_h + 40
    for j, key in enumerate(data.keys):
        lx = left + (j % 3) * 200
        yy = ly + (j // 3) * 22
        out.append(f'<rect x="{lx}" y="{yy}" width="12" height="12" fill="{colour(data.keys, key)}"/>')
        out.append(f'<text x="{lx + 18}" y="{yy + 11}" fill="#222">{escape(key)}</text>')
    if not data.keys:
        out.append(f'<text x="{left}" y="{ly + 11}" fill="#555">No participation in these weeks.</text>')
    out.append("</svg>")
    return "\n".join(out)
