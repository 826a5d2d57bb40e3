"""Votes on the web record: the register's vote list and one page per vote.

A vote's page is the chat's own results (bot/services/vote_render.results_reply) rendered as HTML,
so the web shows exactly what members see with `/wg results`: totals, outcome, turnout, the
breakdown by stakeholder group and region (small groups folded in an anonymous vote), and the
ballots with names only for a named vote. An anonymous vote's names are never read. A hidden vote
shows participation only until it closes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.web.pages import render
from bot.reply import Reply
from bot.services import vote_store as store
from bot.services.vote_render import results_reply
from bot.timefmt import fmt
from storage.models import Ballot, Proposal, Vote, VoteVoter

if TYPE_CHECKING:
    from adapters.web.server import WebRecord


@dataclass
class VoteRow:
    number: int
    question: str
    status: str
    outcome: str | None
    turnout: str


async def _counts(session: AsyncSession, model: type[Ballot] | type[VoteVoter], vote_ids: list[int]) -> dict[int, int]:
    """Rows per vote (ballots cast, or voters on the roll) in one grouped query."""
    if not vote_ids:
        return {}
    column = col(model.vote_id)
    q = select(column, func.count()).where(column.in_(vote_ids)).group_by(column)
    return {vid: int(n) for vid, n in (await session.exec(q)).all()}


async def rows(session: AsyncSession, wg_id: int, tz: str) -> list[VoteRow]:
    votes = (await session.exec(select(Vote).where(Vote.wg_id == wg_id).order_by(col(Vote.number).desc()))).all()
    ids = [v.id for v in votes if v.id is not None]
    cast, roll = await _counts(session, Ballot, ids), await _counts(session, VoteVoter, ids)
    out = []
    for v in votes:
        assert v.id is not None
        if v.status == "closed" and v.result:
            n, of = int(v.result.get("cast", 0)), int(v.result.get("roll", 0))
            outcome = v.outcome
        else:
            n, of = cast.get(v.id, 0), roll.get(v.id, 0)
            outcome = "open" + (f" until {fmt(v.closes_at, tz)}" if v.closes_at else "")
        out.append(VoteRow(v.number, v.question, v.status, outcome, f"{n} of {of}"))
    return out


async def vote_reply(session: AsyncSession, vote: Vote, tz: str) -> Reply:
    """What `/wg results V<n>` answers, for a reader in `tz`."""
    if vote.status == "closed":
        ballots = await store.named_ballots(session, vote)
        return results_reply(vote, store.stored_result(vote), tz, final=True, ballots=ballots)
    read = await store.read_ballots(session, vote)
    result = await store.count(session, vote, read)
    if vote.hidden or vote.anonymous:  # as /wg results: an anonymous vote's running totals would tell choices
        until = f" (closes {fmt(vote.closes_at, tz)})" if vote.closes_at else ""
        why = "hidden" if vote.hidden else "anonymous"
        return Reply.text(
            f"V{vote.number} is {why}: no counts until it closes{until}. "
            f"Participation so far: {result.cast} of {result.roll} voted."
        )
    return results_reply(vote, result, tz, final=False, ballots=await store.named_ballots(session, vote, read))


async def page(rec: WebRecord, request: web.Request) -> web.StreamResponse:
    from adapters.web.server import NotFoundError, _q
    from adapters.web.zones import reader_zone

    found = await rec.find(request)
    tz = reader_zone(request.query.get("tz"), found.wg.timezone)
    async with rec.db.session() as s:
        vote = (
            await s.exec(select(Vote).where(Vote.wg_id == found.wg_id, Vote.number == int(request.match_info["n"])))
        ).first()
        if vote is None:
            raise NotFoundError
        reply = await vote_reply(s, vote, tz)
        proposal = await s.get(Proposal, vote.proposal_id) if vote.proposal_id else None
    return render(
        "vote.html.j2",
        wg=found.wg,
        vote=vote,
        blocks=[(type(b).__name__, b) for b in reply.blocks],
        proposal=proposal,
        anonymous=vote.anonymous,
        base=found.base,
        tz=tz,
        q=_q(tz),
    )
