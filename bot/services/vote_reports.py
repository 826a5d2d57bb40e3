"""Votes in the group's other reports: the weekly digest (opened and closed votes), participation by
stakeholder group and region (ballots cast), a member's data export, and the white paper (the result
under each decided proposal). Each plugs into the hook its report offers.

An anonymous vote stays anonymous here too: the export lists that the member took part, never the
choice, and no report names who chose what.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import privacy, whitepaper
from bot.choices import describe
from bot.digest.participation import source
from bot.digest.sections import Period, Section, section
from bot.services.vote_store import stored_result
from bot.timefmt import fmt_short
from storage.models import Ballot, Member, Proposal, Vote


def _turnout(vote: Vote) -> str:
    r = stored_result(vote)
    flag = f"; ⚠ opposed by a majority of {', '.join(r.opposed_by)}" if r.opposed_by and not vote.anonymous else ""
    return f"{r.outcome} ({r.cast} of {r.roll} voted{flag})"


@section(20, "votes")
async def votes_section(session: AsyncSession, wg: Any, period: Period) -> Section | None:
    rows = (await session.exec(select(Vote).where(Vote.wg_id == wg.id).order_by(col(Vote.number)))).all()
    opened = [v for v in rows if period.start <= v.opened_at < period.end]
    closed = [v for v in rows if v.closed_at is not None and period.start <= v.closed_at < period.end]
    still_open = [v for v in rows if v.status == "open" and v not in opened]
    if not opened and not closed and not still_open:
        return None

    def lines(tz: str) -> list[str]:
        out = []
        for v in opened:
            until = f", closes {fmt_short(v.closes_at, tz)}" if v.closes_at and v.status == "open" else ""
            out.append(f"Opened: V{v.number} “{v.question}” ({v.method}{until})")
        out += [f"Closed: V{v.number} “{v.question}”: {_turnout(v)}" for v in closed]
        for v in still_open:
            until = f", closes {fmt_short(v.closes_at, tz)}" if v.closes_at else ""
            out.append(f"Open: V{v.number} “{v.question}”{until}")
        return out

    return Section("Votes", lines, activity=bool(opened or closed))


@source("ballots")
async def _ballots(session: AsyncSession, wg_id: int, start: datetime, end: datetime) -> Counter[int]:
    q = (
        select(Ballot.member_id, func.count())
        .join(Vote, col(Vote.id) == col(Ballot.vote_id))
        .where(Vote.wg_id == wg_id, col(Ballot.cast_at) >= start, col(Ballot.cast_at) < end)
        .group_by(col(Ballot.member_id))
    )
    rows = (await session.exec(q)).all()
    return Counter({int(m): int(n) for m, n in rows})


async def _export(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    rows = (
        await session.exec(
            select(Ballot, Vote).join(Vote, col(Vote.id) == col(Ballot.vote_id)).where(Ballot.member_id == member.id)
        )
    ).all()
    out = []
    for b, v in sorted(rows, key=lambda bv: bv[1].number):
        entry: dict[str, Any] = {"vote": f"V{v.number}", "question": v.question, "cast_at": b.cast_at.isoformat()}
        if v.anonymous:
            entry["choice"] = "(anonymous vote: who chose what is never exported)"
        else:
            entry["choice"] = describe(v.method, v.options, b.choice)
            entry["reason"] = b.reason
        out.append(entry)
    return out


async def _erase(session: AsyncSession, member: Member, now: datetime) -> None:
    """Ballots stay counted and in the ballot log (which names nobody); the member row they point at
    becomes "a former member", so named results show that instead of the name. Nothing to delete."""


async def _proposal_detail(session: AsyncSession, p: Proposal) -> list[str]:
    votes = (
        await session.exec(
            select(Vote).where(Vote.proposal_id == p.id, Vote.status == "closed").order_by(col(Vote.number))
        )
    ).all()
    out = []
    for v in votes:
        r = stored_result(v)
        groups = "; ".join(f"{g} {p_.n}" for g, p_ in r.by_group.items() if not v.anonymous or p_.n >= 3)
        out.append(f"— V{v.number}: {_turnout(v)}" + (f"; by stakeholder group: {groups}" if groups else ""))
    return out


privacy.EXPORTERS["ballots"] = _export
if _erase not in privacy.ERASERS:
    privacy.ERASERS.append(_erase)
if _proposal_detail not in whitepaper.PROPOSAL_DETAILS:
    whitepaper.PROPOSAL_DETAILS.append(_proposal_detail)
