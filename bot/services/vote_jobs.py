"""The engine's vote jobs (automatic close, the 24 h nudge) and merging ballots when `/wg link` joins
two members.

`vote.close` is a planning-grade job (`grace=False`): however long the bot was down, the vote still
closes — once, with the results announced in every channel and marked late. `vote.nudge` is a
message to people: found later than the grace period, or after the vote closed, it is skipped.

`vote.refresh` keeps the announcement current everywhere: a ballot (typed, clicked, on any
platform) schedules one refresh per vote per `REFRESH` window, which edits the card in every bound
channel in place with the participation (and the counts unless hidden) through the outbox; closing
edits it once more, without the buttons. The card clicked on is also updated at once by the adapter.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import ballots
from bot.engine import JobContext, Skip, job_handler, schedule
from bot.outbox import enqueue
from bot.reply import Context, Reply, Text
from bot.services import vote_store as store
from bot.services.context import channel_destinations, dm_destination
from bot.services.vote_render import HOW, results_reply, vote_card
from bot.timefmt import fmt
from storage.db import Known
from storage.models import Ballot, LivePoll, Member, ScheduledJob, Vote, VoteVoter, WorkingGroup

#: the announcement is edited at most once per vote in this window, however many ballots come in
REFRESH = timedelta(minutes=1)


def _refresh_window(vote: Vote, now: datetime) -> tuple[str, int]:
    step = int(REFRESH.total_seconds())
    window = int(now.timestamp()) // step + 1
    return f"vote:{vote.id}:refresh:{window}", window * step


_JOB_BY_KEY = select(ScheduledJob.id).where(ScheduledJob.key == bindparam("key"))  # built once, run per ballot


async def refresh_needed(session: AsyncSession, vote: Vote, now: datetime) -> bool:
    """Whether this window's card refresh is not yet recorded (a plain read, done before the vote's lock:
    only the first ballot of a window then writes the job, instead of every ballot under the lock)."""
    key, _ = _refresh_window(vote, now)
    if Known.has(session, key):  # read as recorded by an earlier ballot of this window (committed)
        return False
    if (await session.exec(_JOB_BY_KEY, params={"key": key})).first() is None:
        return True
    Known.add(session, key)
    return False


async def schedule_refresh(session: AsyncSession, vote: Vote, now: datetime) -> None:
    """After a ballot: one refresh of the vote's cards at the end of the current window (idempotent)."""
    key, due = _refresh_window(vote, now)
    await schedule(
        session,
        kind="vote.refresh",
        key=key,
        due_at=datetime.fromtimestamp(due, UTC),
        now=now,
        wg_id=vote.wg_id,
        ref=f"vote:{vote.id}",
        useful_until=vote.closes_at,
        payload={"vote_id": vote.id},
    )


async def edit_cards(session: AsyncSession, vote: Vote, now: datetime, key: str) -> int:
    """Edit the vote's announcement in every bound channel to its current state; returns how many."""
    assert vote.id is not None
    wg = await session.get(WorkingGroup, vote.wg_id)
    assert wg is not None and wg.id is not None
    result = await store.count(session, vote)
    live = None if vote.hidden or vote.anonymous or vote.status != "open" else result
    poll = (await session.exec(select(LivePoll.id).where(LivePoll.vote_id == vote.id))).first()
    if poll is not None:  # a live session's quick poll keeps its own look
        from bot.services.live_poll import poll_card

        card = poll_card(vote, result, wg.timezone)
    else:
        card = vote_card(
            vote,
            wg.timezone,
            cast=result.cast,
            roll=result.roll,
            live=live,
            heading=f"New vote V{vote.number}: {vote.question}",
        )
    card = card.model_copy(update={"kind": "announcement"})
    made = 0
    for ch, dest in await channel_destinations(session, wg.id):
        made += await enqueue(
            session,
            key=f"{key}:ch{ch.id}",
            destination=dest,
            reply=card,
            now=now,
            wg_id=wg.id,
            edit_of=f"vote:{vote.id}:opened:ch{ch.id}",
        )
    return made


@job_handler("vote.refresh")
async def refresh_job(ctx: JobContext) -> None:
    vote = await _open_vote(ctx)
    ctx.enqueued += await edit_cards(ctx.session, vote, ctx.now, key=f"job:{ctx.job.key}")


async def _open_vote(ctx: JobContext) -> Vote:
    vote = await store.lock_vote(ctx.session, ctx.payload["vote_id"])
    if vote is None:
        raise Skip("the vote no longer exists", status="cancelled")
    if vote.status != "open":
        raise Skip("the vote was already closed", status="cancelled")
    return vote


@job_handler("vote.close", grace=False)
async def close_job(ctx: JobContext) -> None:
    vote = await _open_vote(ctx)
    wg = await ctx.session.get(WorkingGroup, vote.wg_id)
    assert wg is not None and wg.id is not None
    result = await store.close(ctx.session, vote, ctx.now)
    reply = results_reply(
        vote,
        result,
        wg.timezone,
        final=True,
        ballots=await store.named_ballots(ctx.session, vote),
        heading=f"V{vote.number} closed: {vote.question}",
    )
    reply = reply.model_copy(update={"kind": "announcement"})
    for ch, dest in await channel_destinations(ctx.session, wg.id):
        await ctx.send(dest, reply, part=f"ch{ch.id}")
    ctx.enqueued += await edit_cards(ctx.session, vote, ctx.now, key=f"vote:{vote.id}:closed-card")


@job_handler("vote.nudge")
async def nudge_job(ctx: JobContext) -> None:
    vote = await _open_vote(ctx)
    assert vote.id is not None
    voted = set((await ctx.session.exec(select(Ballot.member_id).where(Ballot.vote_id == vote.id))).all())
    for voter in await store.roll(ctx.session, vote.id):
        if voter.member_id in voted or voter.nudged:
            continue
        member = await ctx.session.get(Member, voter.member_id)
        if member is None or member.erased_at is not None:
            continue
        dest = await dm_destination(ctx.session, member)
        if dest is None:
            continue
        closes = fmt(vote.closes_at, member.timezone) if vote.closes_at else "soon"
        reply = Reply(
            blocks=[
                Text(text=f"V{vote.number} “{vote.question}” closes {closes} and you have not voted yet."),
                Context(text=f"Vote: /wg vote V{vote.number} {HOW[vote.method]} · see it: /wg show V{vote.number}"),
            ],
            kind="reminder",
        )
        await ctx.send(dest, reply, part=f"dm{member.id}")
        voter.nudged = True
        ctx.session.add(voter)


async def merge_ballots(session: AsyncSession, keep: Member, gone: Member, now: datetime) -> list[str]:
    """`gone` becomes part of `keep` (one person): on every open vote, one roll entry and one ballot —
    the later one — remain, and the log records the move. Returns the votes changed (`V2`, …)."""
    assert keep.id is not None and gone.id is not None
    rows = (
        await session.exec(select(VoteVoter).where(VoteVoter.member_id == gone.id).order_by(col(VoteVoter.vote_id)))
    ).all()
    changed: list[str] = []
    for gone_voter in rows:
        vote = await store.lock_vote(session, gone_voter.vote_id)
        if vote is None or vote.status != "open":
            continue
        keep_voter = (
            await session.exec(select(VoteVoter).where(VoteVoter.vote_id == vote.id, VoteVoter.member_id == keep.id))
        ).first()
        if keep_voter is None:
            gone_voter.member_id = keep.id
            session.add(gone_voter)
        else:
            await session.delete(gone_voter)
        b_gone = (
            await session.exec(select(Ballot).where(Ballot.vote_id == vote.id, Ballot.member_id == gone.id))
        ).first()
        if b_gone is None:
            continue
        b_keep = (
            await session.exec(select(Ballot).where(Ballot.vote_id == vote.id, Ballot.member_id == keep.id))
        ).first()
        await ballots.append(session, vote, "withdraw", now, voter=ballots.pseudonym(vote.salt, gone.id), data={})
        await session.delete(b_gone)
        await session.flush()
        latest = b_gone if b_keep is None or b_gone.cast_at > b_keep.cast_at else b_keep
        entry = await ballots.append(
            session,
            vote,
            "ballot",
            now,
            voter=ballots.pseudonym(vote.salt, keep.id),
            data={"choice": latest.choice, "reason": latest.reason, "merged": True},
        )
        if b_keep is None:
            b_keep = Ballot(vote_id=vote.id, member_id=keep.id, choice=latest.choice, log_seq=entry.seq, cast_at=now)  # type: ignore[arg-type]
        b_keep.choice, b_keep.reason, b_keep.log_seq, b_keep.cast_at = (
            latest.choice,
            latest.reason,
            entry.seq,
            latest.cast_at,
        )
        session.add(b_keep)
        await session.flush()
        changed.append(f"V{vote.number}")
    return changed
