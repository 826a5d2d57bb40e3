"""Votes in the database: finding and locking them, the frozen roll, counting, and closing exactly once.

Shared by the commands (bot/services/votes.py), the engine's jobs and `/wg link`'s merge. Everything
that changes a vote's ballots or status first takes the vote's row lock (`FOR UPDATE` on PostgreSQL;
SQLite serialises writers with BEGIN IMMEDIATE), so ballot log appends never fork the chain and a
vote closes once even when the convener and the engine close it at the same moment.
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import ballots
from bot.errors import NotFound
from bot.tally import Cast, Result, tally
from storage.models import Ballot, Member, Proposal, Vote, VoteVoter


async def find_vote(session: AsyncSession, wg_id: int, number: int, *, lock: bool = False) -> Vote:
    q = select(Vote).where(Vote.wg_id == wg_id, Vote.number == number)
    if lock:
        q = q.with_for_update()
    vote = (await session.exec(q)).first()
    if vote is None:
        raise NotFound(f"There is no vote V{number} in this working group.")
    return vote


async def lock_vote(session: AsyncSession, vote_id: int) -> Vote | None:
    q = select(Vote).where(Vote.id == vote_id).with_for_update().execution_options(populate_existing=True)
    return (await session.exec(q)).first()


async def roll(session: AsyncSession, vote_id: int) -> list[VoteVoter]:
    q = select(VoteVoter).where(VoteVoter.vote_id == vote_id).order_by(col(VoteVoter.id))
    return list((await session.exec(q)).all())


async def current_ballots(session: AsyncSession, vote_id: int) -> list[Ballot]:
    q = select(Ballot).where(Ballot.vote_id == vote_id).order_by(col(Ballot.id))
    return list((await session.exec(q)).all())


def quorum_needed(vote: Vote, roll_size: int) -> int | None:
    if vote.quorum_count is not None:
        return vote.quorum_count
    if vote.quorum_percent is not None:
        return max(1, math.ceil(vote.quorum_percent * roll_size / 100))
    return None


async def count(session: AsyncSession, vote: Vote) -> Result:
    assert vote.id is not None
    voters = {v.member_id: v for v in await roll(session, vote.id)}
    casts = []
    for b in await current_ballots(session, vote.id):
        v = voters.get(b.member_id)
        if v is not None:
            casts.append(Cast(choice=b.choice, group=v.stakeholder_group, region=v.region))
    return tally(
        vote.method,
        vote.options,
        casts,
        roll=len(voters),
        quorum=quorum_needed(vote, len(voters)),
        balanced=vote.balanced,
    )


async def named_ballots(session: AsyncSession, vote: Vote) -> list[tuple[str, str, str | None]]:
    """(voter name, ballot, reason) for the results of a named vote; for an anonymous one, the names are
    never read and the list is shuffled into a fixed order that says nothing about who voted when."""
    from bot.choices import describe

    assert vote.id is not None
    rows = await current_ballots(session, vote.id)
    if vote.anonymous:
        return sorted(("", "", b.reason) for b in rows if b.reason)
    ids = {b.member_id for b in rows}
    members = (
        {m.id: m for m in (await session.exec(select(Member).where(col(Member.id).in_(ids)))).all()} if ids else {}
    )
    out = []
    for b in rows:  # names in one query, not one per ballot (a vote of a large group has hundreds)
        m = members.get(b.member_id)
        name = m.display_name if m is not None and m.erased_at is None else "a former member"
        out.append((name, describe(vote.method, vote.options, b.choice), b.reason))
    return sorted(out)


async def close(session: AsyncSession, vote: Vote, now: datetime) -> Result:
    """Close an open vote whose row the caller has locked: freeze the result, log it, settle the proposal."""
    assert vote.status == "open"
    result = await count(session, vote)
    vote.status = "closed"
    vote.closed_at = now
    vote.outcome = result.outcome[:300]
    vote.result = result.model_dump(mode="json")
    session.add(vote)
    if vote.proposal_id is not None:
        p = await session.get(Proposal, vote.proposal_id)
        if p is not None and p.status == "voting":
            if result.adopted is not None and result.quorum_met:
                p.status = "accepted" if result.adopted else "rejected"
            else:
                p.status = "open"
            p.updated_at = now
            session.add(p)
    await ballots.append(
        session,
        vote,
        "close",
        now,
        data={"outcome": result.outcome, "cast": result.cast, "totals": [round(t, 6) for t in result.totals]},
    )
    return result


def stored_result(vote: Vote) -> Result:
    assert vote.result is not None
    return Result.model_validate(vote.result)
