"""Votes in the database: finding and locking them, the frozen roll, counting, and closing exactly once.

Shared by the commands (bot/services/votes.py), the engine's jobs and `/wg link`'s merge. Everything
that changes a vote's ballots or status first takes the vote's row lock (`FOR UPDATE` on PostgreSQL;
SQLite serialises writers with BEGIN IMMEDIATE), so ballot log appends never fork the chain and a
vote closes once even when the convener and the engine close it at the same moment.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import ballots
from bot.errors import NotFound
from bot.tally import Cast, Result, tally
from storage.models import Ballot, Member, Proposal, Vote, VoteVoter

# built once: every ballot runs them (see storage.db.per_dialect)
_FIND_VOTE = select(Vote).where(Vote.wg_id == bindparam("wg_id"), Vote.number == bindparam("number"))
_FIND_VOTE_LOCKED = _FIND_VOTE.with_for_update()
_LOCK_VOTE = (
    select(Vote).where(Vote.id == bindparam("vote_id")).with_for_update().execution_options(populate_existing=True)
)


async def find_vote(session: AsyncSession, wg_id: int, number: int, *, lock: bool = False) -> Vote:
    q = _FIND_VOTE_LOCKED if lock else _FIND_VOTE
    vote = (await session.exec(q, params={"wg_id": wg_id, "number": number})).first()
    if vote is None:
        raise NotFound(f"There is no vote V{number} in this working group.")
    return vote


async def lock_vote(session: AsyncSession, vote_id: int) -> Vote | None:
    return (await session.exec(_LOCK_VOTE, params={"vote_id": vote_id})).first()


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


# A vote's ballots with their voters' roll entries, in one query, and the roll's size: what /wg results,
# the cards and the close need. Built once (see storage.db.per_dialect) and read as plain rows on the
# connection: a large group's vote has hundreds of ballots, and per-row ORM work was most of the time.
_BALLOT_ROWS = (
    select(Ballot.member_id, Ballot.choice, Ballot.reason, VoteVoter.id, VoteVoter.stakeholder_group, VoteVoter.region)  # type: ignore[call-overload]
    .outerjoin(
        VoteVoter,
        and_(col(VoteVoter.vote_id) == col(Ballot.vote_id), col(VoteVoter.member_id) == col(Ballot.member_id)),
    )
    .where(Ballot.vote_id == bindparam("vote_id"))
    .order_by(col(Ballot.id))
)
_ROLL_SIZE = select(func.count()).select_from(VoteVoter).where(VoteVoter.vote_id == bindparam("vote_id"))


class Ballots:
    """A vote's current ballots, read once: `(member_id, choice, reason, on_roll, group, region)` rows
    and the size of its roll."""

    def __init__(self, rows: list[Any], roll: int) -> None:
        self.rows = rows
        self.roll = roll


async def read_ballots(session: AsyncSession, vote: Vote) -> Ballots:
    assert vote.id is not None
    await session.flush()  # the rows are read on the connection, past the session's autoflush
    conn = await session.connection()
    params = {"vote_id": vote.id}
    rows = list((await conn.execute(_BALLOT_ROWS, params)).all())
    roll = int((await conn.execute(_ROLL_SIZE, params)).scalar_one())
    return Ballots(rows, roll)


async def count(session: AsyncSession, vote: Vote, read: Ballots | None = None) -> Result:
    """The vote's result from its roll and current ballots (`read`: already read by `read_ballots`).
    A ballot counts only while its voter is on the roll."""
    read = read or await read_ballots(session, vote)
    casts = [
        Cast(choice=dict(choice), group=group, region=region)
        for _, choice, _, on_roll, group, region in read.rows
        if on_roll is not None
    ]
    return tally(
        vote.method,
        vote.options,
        casts,
        roll=read.roll,
        quorum=quorum_needed(vote, read.roll),
        balanced=vote.balanced,
    )


async def named_ballots(
    session: AsyncSession, vote: Vote, read: Ballots | None = None
) -> list[tuple[str, str, str | None]]:
    """(voter name, ballot, reason) for the results of a named vote; for an anonymous one, the names are
    never read and the list is shuffled into a fixed order that says nothing about who voted when."""
    from bot.choices import describe

    read = read or await read_ballots(session, vote)
    if vote.anonymous:
        return sorted(("", "", reason) for _, _, reason, *_ in read.rows if reason)
    ids = {row[0] for row in read.rows}
    names: dict[int | None, str] = {}
    if ids:  # names in one query, not one per ballot (a vote of a large group has hundreds)
        q_names = select(Member.id, Member.display_name, Member.erased_at).where(col(Member.id).in_(ids))
        names = {m: name for m, name, erased in (await session.exec(q_names)).all() if erased is None}
    out = [
        (names.get(member_id, "a former member"), describe(vote.method, vote.options, dict(choice)), reason)
        for member_id, choice, reason, *_ in read.rows
    ]
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
