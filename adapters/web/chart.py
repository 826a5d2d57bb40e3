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
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

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


async def _activity(session: AsyncSession, wg_id: int, since: datetime) -> list[tuple[datetime, int | None]]:
    """(when, member id) of every counted act since `since`."""
    acts: list[tuple[datetime, int | None]] = []
    rows = await session.exec(
        select(Proposal.created_at, Proposal.author_id).where(
            Proposal.wg_id == wg_id, col(Proposal.created_at) >= since
        )
    )
    acts += list(rows.all())
    rows2 = await session.exec(
        select(CheckinAnswer.answered_at, CheckinAnswer.member_id)
        .join(Checkin, col(Checkin.id) == col(CheckinAnswer.checkin_id))
        .where(Checkin.wg_id == wg_id, col(CheckinAnswer.answered_at) >= since)
    )
    acts += [(a, m) for a, m in rows2.all()]
    rows3 = await session.exec(
        select(Ballot.cast_at, Ballot.member_id)
        .join(Vote, col(Vote.id) == col(Ballot.vote_id))
        .where(Vote.wg_id == wg_id, col(Ballot.cast_at) >= since)
    )
    acts += [(a, m) for a, m in rows3.all()]
    return acts


async def participation(
    session: AsyncSession, wg_id: int, tz: str, now: datetime, *, by: str = "group", weeks: int = WEEKS
) -> Participation:
    last = week_start(now, tz)
    starts = [last - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    since_local = datetime.combine(starts[0], datetime.min.time(), ZoneInfo(tz))
    members = {
        m.id: m for m in (await session.exec(select(Member).where(Member.wg_id == wg_id))).all() if m.erased_at is None
    }
    index = {d: i for i, d in enumerate(starts)}
    counts: list[Counter[str]] = [Counter() for _ in starts]
    for at, member_id in await _activity(session, wg_id, since_local):
        member = members.get(member_id) if member_id is not None else None
        if member is None:
            continue
        i = index.get(week_start(at, tz))
        if i is None:
            continue
        key = member.stakeholder_group if by == "group" else (member.region or UNKNOWN)
        counts[i][key] += 1
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
