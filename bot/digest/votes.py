"""Digest, white paper and data-export contributions of votes: opened and closed votes with outcome,
turnout and the stakeholder breakdown (rendered by the votes capability itself, so anonymity rules —
small cells folded, hidden results — are the same everywhere), and ballots in participation."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import privacy, whitepaper
from bot.digest.participation import source
from bot.digest.sections import Period, Section, quote, section
from bot.reply import Context, Divider, Fields, Heading, Reply, Text
from bot.services.vote_render import results_reply
from bot.services.vote_store import stored_result
from bot.timefmt import fmt_short
from storage.models import Ballot, Proposal, Vote, WorkingGroup


def _flatten(reply: Reply) -> list[str]:
    """A results Reply as indented lines (the digest shows many votes in one section)."""
    lines: list[str] = []
    for block in reply.blocks[1:]:  # the heading is replaced by the digest's own line
        if isinstance(block, Fields):
            lines += [f"{label}: {value}" for label, value in block.items]
        elif isinstance(block, Text):
            lines += block.text.splitlines()
        elif isinstance(block, (Divider, Context, Heading)):
            continue
    return [f"    {line}" for line in lines]


@source("ballots")
async def _ballots(session: AsyncSession, wg_id: int, start: datetime, end: datetime) -> Counter[int]:
    rows = (
        await session.exec(
            select(Ballot.member_id, func.count())
            .join(Vote, col(Vote.id) == col(Ballot.vote_id))
            .where(Vote.wg_id == wg_id, col(Ballot.cast_at) >= start, col(Ballot.cast_at) < end)
            .group_by(col(Ballot.member_id))
        )
    ).all()
    return Counter({int(m): int(n) for m, n in rows})


@section(20, "votes")
async def votes_section(session: AsyncSession, wg: WorkingGroup, period: Period) -> Section | None:
    opened = (
        await session.exec(
            select(Vote)
            .where(Vote.wg_id == wg.id, col(Vote.opened_at) >= period.start, col(Vote.opened_at) < period.end)
            .order_by(col(Vote.number))
        )
    ).all()
    closed = (
        await session.exec(
            select(Vote)
            .where(
                Vote.wg_id == wg.id,
                Vote.status == "closed",
                col(Vote.closed_at) >= period.start,
                col(Vote.closed_at) < period.end,
            )
            .order_by(col(Vote.number))
        )
    ).all()
    if not opened and not closed:
        return None

    def lines(tz: str) -> list[str]:
        out: list[str] = []
        for v in opened:
            if v.status == "closed" and v in closed:
                continue
            closes = f", closes {fmt_short(v.closes_at, tz)}" if v.closes_at else ""
            out.append(f"Opened: V{v.number} “{quote(v.question)}” ({v.method}{closes})")
        for v in closed:
            if v.result is None:
                continue
            result = stored_result(v)
            out.append(f"Closed: V{v.number} “{quote(v.question)}”: {result.outcome or 'closed'}")
            out += _flatten(results_reply(v, result, tz, final=True))
        return out

    return Section("Votes", lines)


async def _proposal_votes(session: AsyncSession, p: Proposal) -> list[str]:
    votes = (
        await session.exec(
            select(Vote).where(Vote.proposal_id == p.id, Vote.status == "closed").order_by(col(Vote.number))
        )
    ).all()
    out: list[str] = []
    for v in votes:
        if v.result is None:
            continue
        result = stored_result(v)
        body = "; ".join(line.strip() for line in _flatten(results_reply(v, result, "UTC", final=True)))
        out.append(f"Vote V{v.number} ({v.method}): {body}.")
    return out


whitepaper.PROPOSAL_DETAILS.append(_proposal_votes)


async def _export_ballots(session: AsyncSession, member: Any) -> list[dict[str, Any]]:
    rows = (
        await session.exec(
            select(Vote, Ballot)
            .join(Vote, col(Vote.id) == col(Ballot.vote_id))
            .where(Ballot.member_id == member.id)
            .order_by(col(Vote.number))
        )
    ).all()
    return [
        {
            "vote": f"V{v.number}",
            "question": v.question,
            "choice": b.choice,
            "reason": b.reason,
            "cast_at": b.cast_at.isoformat(),
        }
        if not v.anonymous
        else {"vote": f"V{v.number}", "question": v.question, "note": "anonymous vote: your choice is not exported"}
        for v, b in rows
    ]


privacy.EXPORTERS["ballots"] = _export_ballots
