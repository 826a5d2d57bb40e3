"""Votes V<n>: open (convener), ballots (members on the frozen roll), close, results.

The counting rules are in bot/tally.py, the ballot log in bot/ballots.py, the look in
vote_render.py, closing and nudging through the engine in vote_jobs.py. A ballot is one row per voter
(the last one counts) plus one entry in the hash-chained log; the voter gets the entry's receipt.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, insert
from sqlmodel import col, select

from bot import ballots
from bot.choices import describe, option_list, read_ballot
from bot.engine import cancel_jobs, schedule
from bot.errors import NotFound, UserError
from bot.reply import Form, FormField, Option, Reply, Response, Text
from bot.sanitize import clean, clean_line
from bot.services import vote_store as store
from bot.services.context import Ctx, command, parse_ref, shows
from bot.services.proposals import get_proposal
from bot.services.vote_jobs import edit_cards, refresh_needed, schedule_refresh
from bot.services.vote_render import receipt_reply, results_reply, shown_options, vote_card
from bot.tally import ANSWERS, MAX_SCORE, METHODS, OPTION_METHODS, Result, letter
from bot.timefmt import fmt
from bot.timeparse import parse_when
from storage.db import insert_for, per_dialect, touched
from storage.models import Ballot, BallotLogEntry, Member, Proposal, Vote, VoteVoter

MAX_QUESTION = 500
MAX_REASON = 1000
NUDGE_BEFORE = timedelta(hours=24)
OPEN_USAGE = (
    '/wg vote open P<n>|"<question>" [method:<m>] [options:"a, b, c"] [closes:<time>] '
    "[quorum:<n>|<n>%] [anonymous] [hidden] [balanced]"
)
BALLOT_USAGE = '/wg vote V<n> <choice> [reason:"..."]'
#: other looks for a vote's card, tried in order (a live session's quick poll: buttons and text bars);
#: a hook returns None for votes that are not its own
CARD_HOOKS: list[Callable[[Ctx, Vote, Result, str], Awaitable[Reply | None]]] = []
#: called after a ballot is recorded (a live session counts a quick poll's voters as attending)
BALLOT_HOOKS: list[Callable[[Ctx, Vote, Member], Awaitable[None]]] = []
_ALIASES = {"yesno": "yes-no", "yes/no": "yes-no", "plurality": "choice", "irv": "ranked", "rcv": "ranked"}


def _method(raw: str | None, has_options: bool, on_proposal: bool) -> str:
    if raw is None:
        return "consent" if on_proposal and not has_options else ("choice" if has_options else "yes-no")
    m = _ALIASES.get(raw.strip().lower(), raw.strip().lower())
    if m not in METHODS:
        raise UserError(f"Unknown method `{raw[:20]}`. Methods: {', '.join(METHODS)}.", OPEN_USAGE)
    return m


def _quorum(raw: str) -> tuple[int | None, int | None]:
    t = raw.strip()
    pct = t.endswith("%")
    digits = t[:-1].strip() if pct else t
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 6:
        raise UserError(f"Write the quorum as a count or a percentage, e.g. quorum:5 or quorum:50% (not `{t[:20]}`).")
    n = int(digits)
    if n < 1:
        raise UserError("The quorum must be at least 1 (or leave it out).", OPEN_USAGE)
    if pct and n > 100:
        raise UserError("A quorum over 100% can never be met.", OPEN_USAGE)
    return (None, n) if pct else (n, None)


async def roll_members(ctx: Ctx) -> list[Member]:
    wg = ctx.require_wg()
    q = select(Member).where(Member.wg_id == wg.id, Member.erased_at == None)  # noqa: E711
    return [m for m in (await ctx.session.exec(q)).all() if m.role in ("convener", "member")]


@command("vote.open")
async def open_vote(ctx: Ctx) -> Reply:
    member = ctx.require_convener("open votes")
    wg = ctx.require_wg()
    opts = ctx.cmd.options
    subject = ctx.cmd.positionals[0]
    proposal: Proposal | None = None
    if re.fullmatch(r"#?[Pp]\d{1,9}", subject.strip()):
        proposal = await get_proposal(ctx, subject)
        if proposal.status == "voting":
            raise UserError(f"P{proposal.number} is already being voted on; close that vote first.")
        if proposal.status != "open":
            raise UserError(f"P{proposal.number} is {proposal.status}; only open proposals can be voted on.")
        question = proposal.title
    else:
        question = clean_line(subject)
        if not question:
            raise UserError('Give a proposal (P3) or a question in quotes, e.g. "Which venue?".', OPEN_USAGE)
        if len(question) > MAX_QUESTION:
            raise UserError(f"The question is too long ({len(question)} characters; the limit is {MAX_QUESTION}).")
    method = _method(opts.get("method"), "options" in opts, proposal is not None)
    options: list[str] = []
    if method in OPTION_METHODS:
        if not opts.get("options"):
            raise UserError(f'A {method} vote needs options, e.g. options:"first, second, third".', OPEN_USAGE)
        options = option_list(method, opts["options"], ctx.now, ctx.tz)
    elif "options" in opts:
        raise UserError(f"A {method} vote has fixed answers ({', '.join(ANSWERS[method])}); leave out options:.")
    closes = None
    if opts.get("closes"):
        closes = parse_when(opts["closes"], ctx.now, ctx.tz, future=False).at
        if closes <= ctx.now:
            raise UserError(f"closes: is in the past ({fmt(closes, ctx.tz)}); give a time to come.", OPEN_USAGE)
    q_count, q_pct = _quorum(opts["quorum"]) if opts.get("quorum") else (None, None)
    voters = await roll_members(ctx)
    if q_count is not None and q_count > len(voters):
        raise UserError(f"A quorum of {q_count} can never be met: the roll has {len(voters)} voter(s).", OPEN_USAGE)
    vote = await create_vote(
        ctx,
        member,
        proposal=proposal,
        question=question,
        method=method,
        options=options,
        closes=closes,
        quorum=(q_count, q_pct),
        flags=ctx.cmd.flags,
        voters=voters,
    )
    subject_text = f"On proposal P{proposal.number}: {proposal.body[:600]}" if proposal else None
    card = vote_card(
        vote,
        wg.timezone,
        cast=0,
        roll=len(voters),
        live=None,
        heading=f"New vote V{vote.number}: {question}",
        subject=subject_text,
    )
    await ctx.announce(card, key=f"vote:{vote.id}:opened")
    until = f", closing {fmt(closes, ctx.tz)}" if closes else ""
    return Reply.text(f"Vote V{vote.number} opened for {len(voters)} voter(s){until}, and announced.", private=True)


async def create_vote(
    ctx: Ctx,
    member: Member,
    *,
    proposal: Proposal | None,
    question: str,
    method: str,
    options: list[str],
    closes: datetime | None,
    quorum: tuple[int | None, int | None],
    flags: set[str],
    voters: list[Member],
) -> Vote:
    """Record a validated vote: the frozen roll, the log's open entry, the engine's close and nudge.
    Shared by `/wg vote open` and live sessions' quick polls."""
    wg = ctx.require_wg()
    q_count, q_pct = quorum
    vote = Vote(
        wg_id=wg.id,  # type: ignore[arg-type]
        number=await ctx.next_number("V"),
        proposal_id=proposal.id if proposal else None,
        question=question,
        method=method,
        options=options,
        closes_at=closes,
        quorum_count=q_count,
        quorum_percent=q_pct,
        anonymous="anonymous" in flags,
        hidden="hidden" in flags,
        balanced="balanced" in flags,
        salt=f"{ctx.rng.getrandbits(128):032x}",
        opened_by=member.id,
        opened_at=ctx.now,
    )
    ctx.session.add(vote)
    await ctx.session.flush()
    assert vote.id is not None
    for m in voters:
        ctx.session.add(
            VoteVoter(vote_id=vote.id, member_id=m.id, stakeholder_group=m.stakeholder_group, region=m.region)  # type: ignore[arg-type]
        )
    if proposal is not None:
        proposal.status, proposal.updated_at = "voting", ctx.now
        ctx.session.add(proposal)
    await ballots.append(
        ctx.session,
        vote,
        "open",
        ctx.now,
        data={
            "question": question,
            "method": method,
            "options": options,
            "roll": sorted(ballots.pseudonym(vote.salt, m.id) for m in voters if m.id is not None),
            "closes": closes.isoformat() if closes else None,
            "quorum": _quorum_text(quorum),
            "flags": sorted(flags),
        },
    )
    await _schedule_jobs(ctx, vote)
    return vote


def _quorum_text(quorum: tuple[int | None, int | None]) -> str | None:
    count, pct = quorum
    return str(count) if count is not None else (f"{pct}%" if pct is not None else None)


async def _schedule_jobs(ctx: Ctx, vote: Vote) -> None:
    if vote.closes_at is None:
        return
    ref = f"vote:{vote.id}"
    await schedule(
        ctx.session,
        kind="vote.close",
        key=f"{ref}:close",
        due_at=vote.closes_at,
        now=ctx.now,
        wg_id=vote.wg_id,
        ref=ref,
        payload={"vote_id": vote.id},
    )
    nudge_at = vote.closes_at - NUDGE_BEFORE
    if nudge_at > ctx.now:
        await schedule(
            ctx.session,
            kind="vote.nudge",
            key=f"{ref}:nudge",
            due_at=nudge_at,
            now=ctx.now,
            wg_id=vote.wg_id,
            ref=ref,
            useful_until=vote.closes_at,
            payload={"vote_id": vote.id},
        )


async def get_vote(ctx: Ctx, ref: str, *, lock: bool = False) -> Vote:
    wg = ctx.require_wg()
    return await store.find_vote(ctx.session, wg.id, parse_ref(ref, "V", "vote"), lock=lock)  # type: ignore[arg-type]


def ballot_form(vote: Vote, tz: str) -> Form:
    """The form a "Vote" button opens for methods that need more than one click."""
    ref = f"V{vote.number}"
    shown = shown_options(vote, tz)
    fields: list[FormField] = []
    scores = [Option(label=str(s), value=str(s)) for s in range(MAX_SCORE + 1)]
    picks = [Option(label=f"{letter(i)}: {o}"[:75], value=letter(i)) for i, o in enumerate(shown)]
    if vote.method in ("choice", "approval", "time"):
        label = {"choice": "Your choice", "approval": "Every option you approve"}.get(
            vote.method, "Every slot that works"
        )
        fields = [FormField(name="choice", label=label, choices=picks, multi=vote.method != "choice")]
    elif vote.method == "score" and len(vote.options) <= 10:
        fields = [
            FormField(name=f"score-{letter(i).lower()}", label=f"{letter(i)}: {o}"[:45], choices=scores, required=False)
            for i, o in enumerate(shown)
        ]
    elif vote.method == "ranked" and len(vote.options) <= 10:
        fields = [
            FormField(name=f"rank-{k + 1}", label=f"Choice {k + 1}", choices=picks, required=k == 0)
            for k in range(len(vote.options))
        ]
    else:
        hint = {"score": "A=5, B=2", "ranked": "B > A > C"}.get(vote.method, "A, C")
        fields = [FormField(name="choice", label="Your ballot", placeholder=hint, max_length=1000)]
    reason = FormField(name="reason", label="Reason (optional)", required=False, multiline=True, max_length=1000)
    hint = {"score": "A=5, B=2", "ranked": "B > A > C"}.get(vote.method, "A, C")
    compact = [FormField(name="choice", label="Your ballot", placeholder=hint, max_length=1000), reason]
    return Form(
        title=f"Vote on {ref}", action=f"vote {ref}", submit_label="Vote", fields=[*fields, reason], compact=compact
    )


def _ballot_text(ctx: Ctx, vote: Vote) -> str:
    """The ballot from typed text, a select, or a form's fields (`choice:`, `score-a:`, `rank-1:`)."""
    opts = ctx.cmd.options
    if ctx.cmd.rest.strip():
        return ctx.cmd.rest
    if opts.get("choice", "").strip():
        return opts["choice"]
    scores = [(k[6:].upper(), v.strip()) for k, v in opts.items() if k.startswith("score-") and v.strip()]
    if scores:
        return ", ".join(f"{k}={v}" for k, v in scores)
    ranks = sorted(
        ((k[5:], v.strip()) for k, v in opts.items() if k.startswith("rank-") and v.strip()),
        key=lambda kv: int(kv[0]) if kv[0].isdigit() else 10**6,
    )
    return " > ".join(v for _, v in ranks)


# A ballot's reads in one query, built once (see storage.db.per_dialect): the vote, whether the voter
# is on its roll, and their current ballot.
_VOTER: Any = bindparam("member_id")
_VOTE_FOR_BALLOT = (
    select(Vote, VoteVoter.id, Ballot.id, Ballot.choice, Ballot.reason, Ballot.log_seq)  # type: ignore[call-overload]
    .outerjoin(VoteVoter, and_(col(VoteVoter.vote_id) == col(Vote.id), col(VoteVoter.member_id) == _VOTER))
    .outerjoin(Ballot, and_(col(Ballot.vote_id) == col(Vote.id), col(Ballot.member_id) == _VOTER))
    .where(Vote.wg_id == bindparam("wg_id"), Vote.number == bindparam("number"))
)


@command("vote")
async def cast(ctx: Ctx) -> Response | Reply:
    member = ctx.require_participant("vote")
    wg = ctx.require_wg()
    # Everything that does not need the vote's row lock is done before taking it (the vote, the roll,
    # the ballot read and checked, the voter's current ballot): ballots on one vote are appended to its
    # log one after another, so the lock is held only for the append (see `_append_ballot`).
    number = parse_ref(ctx.cmd.positionals[0], "V", "vote")
    params = {"wg_id": wg.id, "number": number, "member_id": member.id}
    row = (await ctx.session.exec(_VOTE_FOR_BALLOT, params=params)).first()
    if row is None:
        raise NotFound(f"There is no vote V{number} in this working group.")
    vote, on_roll, ballot_id, *current = row
    existing = tuple(current) if ballot_id is not None else None
    ref = f"V{vote.number}"
    if vote.status != "open":
        when = fmt(vote.closed_at, ctx.tz) if vote.closed_at else "already"
        raise UserError(f"{ref} closed {when}; ballots are no longer accepted. See /wg results {ref}.")
    assert vote.id is not None and member.id is not None
    if on_roll is None:
        raise UserError(
            f"You are not on the voter roll of {ref}: it was frozen when the vote opened "
            f"({fmt(vote.opened_at, ctx.tz)}), with the members and conveners of that moment."
        )
    text = _ballot_text(ctx, vote)
    if not text.strip():
        form = ballot_form(vote, ctx.tz)
        return Response(form=form, replies=[Reply.error(f"Say how you vote on {ref}.", BALLOT_USAGE)])
    choice = read_ballot(vote.method, vote.options, text, shown_options(vote, ctx.tz))
    reason = clean(ctx.cmd.options.get("reason", "")).strip() or None
    if reason and len(reason) > MAX_REASON:
        raise UserError(f"The reason is too long ({len(reason)} characters; the limit is {MAX_REASON}).")
    if vote.method == "consent" and choice["answer"] in ("block", "disagree") and not reason:
        answer = choice["answer"]
        if ctx.cmd.from_action:
            return Response(
                form=Form(
                    title=f"{answer.capitalize()} {ref}",
                    action=f"vote {ref} {answer}",
                    submit_label=answer.capitalize(),
                    fields=[FormField(name="reason", label=f"Why do you {answer}?", multiline=True, max_length=1000)],
                ),
                replies=[Reply.error(f'A {answer} needs a reason: /wg vote {ref} {answer} reason:"…"')],
            )
        raise UserError(f'A {answer} needs a reason, so the group can address it: /wg vote {ref} {answer} reason:"…"')
    if existing is not None and existing[0] == choice and existing[1] == reason:
        # unchanged: nothing to write, so no lock (a concurrent change by the same voter orders after this)
        q = select(BallotLogEntry).where(BallotLogEntry.vote_id == vote.id, BallotLogEntry.seq == existing[2])
        entry = (await ctx.session.exec(q)).one()
        confirm = receipt_reply(
            vote, describe(vote.method, vote.options, choice), ballots.receipt(entry), changed=None, tz=ctx.tz
        )
        return await _answer(ctx, vote, wg.timezone, confirm)
    for ballot_hook in BALLOT_HOOKS:
        await ballot_hook(ctx, vote, member)
    refresh_due = await refresh_needed(ctx.session, vote, ctx.now)
    entry = await _append_ballot(ctx, vote, member.id, choice, reason)
    if refresh_due:
        await schedule_refresh(ctx.session, vote, ctx.now)
    changed = existing is not None
    confirm = receipt_reply(
        vote,
        describe(vote.method, vote.options, choice),
        ballots.receipt(entry),
        changed=changed,
        tz=ctx.tz,
    )
    return await _answer(ctx, vote, wg.timezone, confirm)


async def _append_ballot(
    ctx: Ctx, vote: Vote, member_id: int, choice: dict[str, Any], reason: str | None
) -> BallotLogEntry:
    """Under the vote's row lock, as briefly as possible: lock, re-check it is open, read the log's last
    entry (one row by index), insert the new entry, upsert the ballot (one per member, the last counts)."""
    assert vote.id is not None
    locked = await store.lock_vote(ctx.session, vote.id)
    if locked is None or locked.status != "open":
        when = fmt(locked.closed_at, ctx.tz) if locked is not None and locked.closed_at else "already"
        ref = f"V{vote.number}"
        raise UserError(f"{ref} closed {when}; ballots are no longer accepted. See /wg results {ref}.")
    entry = await ballots.next_entry(
        ctx.session,
        vote,
        "ballot",
        ctx.now,
        voter=ballots.pseudonym(vote.salt, member_id),
        data={"choice": choice, "reason": reason},
    )
    logged = {f"e_{k}": v for k, v in entry.model_dump(exclude={"id"}).items()}
    counted = {"vote_id": vote.id, "member_id": member_id, "choice": choice, "reason": reason, "log_seq": entry.seq}
    counted["cast_at"] = ctx.now
    # Core statements built once, on the transaction's connection: through the ORM session an upsert
    # costs twice the CPU (its bulk-DML path), and nothing here needs the identity map
    conn = await ctx.session.connection()
    if conn.dialect.name == "postgresql":  # the log entry rides in the upsert's CTE
        await conn.execute(_ballot_upsert(ctx.session), {**logged, **counted})
    else:  # SQLite has no INSERT inside WITH (and serialises writers anyway)
        await conn.execute(_LOG_ENTRY, logged)
        await conn.execute(_ballot_upsert(ctx.session), counted)
    touched(ctx.session, vote.wg_id)  # past the ORM's flush events (the web record's cache watches ballots)
    return entry


def _param(name: str, column: Any) -> Any:
    return bindparam(name, type_=col(column).type)  # type: ignore[attr-defined]


_ENTRY_COLUMNS = ("vote_id", "seq", "kind", "voter", "data", "at", "prev_hash", "hash")
_LOG_ENTRY = insert(BallotLogEntry).values({c: _param(f"e_{c}", getattr(BallotLogEntry, c)) for c in _ENTRY_COLUMNS})


@per_dialect
def _ballot_upsert(dialect: str) -> Any:
    """The ballot's upsert (one per member, the last counts); on PostgreSQL it also writes the log entry,
    in a data-modifying CTE: one round trip under the vote's lock."""
    columns = ("vote_id", "member_id", "choice", "reason", "log_seq", "cast_at")
    upsert = insert_for(dialect, Ballot).values({c: _param(c, getattr(Ballot, c)) for c in columns})
    upsert = upsert.on_conflict_do_update(
        index_elements=["vote_id", "member_id"],
        set_={c: getattr(upsert.excluded, c) for c in ("choice", "reason", "log_seq", "cast_at")},
    )
    if dialect == "postgresql":
        upsert = upsert.add_cte(_LOG_ENTRY.cte("logged"))
    return upsert


async def _answer(ctx: Ctx, vote: Vote, card_tz: str, confirm: Reply) -> Response | Reply:
    """The receipt, privately; from a button or select, also the clicked card with fresh participation."""
    if not ctx.cmd.from_action:
        return confirm
    return Response(update=await card_now(ctx, vote, card_tz), replies=[confirm])


async def card_now(ctx: Ctx, vote: Vote, tz: str, heading: str | None = None) -> Reply:
    assert vote.id is not None
    result = await store.count(ctx.session, vote)
    for hook in CARD_HOOKS:
        styled = await hook(ctx, vote, result, tz)
        if styled is not None:
            return styled
    live = None if vote.hidden or vote.anonymous else result
    return vote_card(vote, tz, cast=result.cast, roll=result.roll, live=live, heading=heading)


@command("vote.close")
async def close_vote(ctx: Ctx) -> Reply:
    ctx.require_convener("close votes")
    wg = ctx.require_wg()
    vote = await get_vote(ctx, ctx.cmd.positionals[0], lock=True)
    if vote.status != "open":
        raise UserError(f"V{vote.number} is already closed.")
    result = await store.close(ctx.session, vote, ctx.now)
    await cancel_jobs(ctx.session, f"vote:{vote.id}", ctx.now, "the vote was closed by a convener")
    await edit_cards(ctx.session, vote, ctx.now, key=f"vote:{vote.id}:closed-card")
    reply = results_reply(
        vote,
        result,
        wg.timezone,
        final=True,
        ballots=await store.named_ballots(ctx.session, vote),
        heading=f"V{vote.number} closed: {vote.question}",
    )
    await ctx.announce(reply, key=f"vote:{vote.id}:closed")
    return Reply.text(f"V{vote.number} closed: {result.outcome}. Results announced.", private=True)


@command("results")
async def results(ctx: Ctx) -> Reply:
    ctx.require_member()
    vote = await get_vote(ctx, ctx.cmd.positionals[0])
    return await results_for(ctx, vote)


async def results_for(ctx: Ctx, vote: Vote) -> Reply:
    if vote.status == "closed":
        return results_reply(
            vote, store.stored_result(vote), ctx.tz, final=True, ballots=await store.named_ballots(ctx.session, vote)
        )
    read = await store.read_ballots(ctx.session, vote)
    result = await store.count(ctx.session, vote, read)
    if vote.hidden or vote.anonymous:
        until = f" (closes {fmt(vote.closes_at, ctx.tz)})" if vote.closes_at else ""
        # an anonymous vote's running totals, read before and after someone says "I just voted", would
        # tell that person's choice: like its cards, it shows participation only until it closes
        why = "hidden" if vote.hidden else "anonymous"
        return Reply.text(
            f"V{vote.number} is {why}: no counts until it closes{until}. "
            f"Participation so far: {result.cast} of {result.roll} voted."
        )
    return results_reply(vote, result, ctx.tz, final=False, ballots=await store.named_ballots(ctx.session, vote, read))


@shows("V")
async def show_vote(ctx: Ctx, number: int) -> Reply:
    vote = await get_vote(ctx, f"V{number}")
    if vote.status == "closed":
        return await results_for(ctx, vote)
    card = await card_now(ctx, vote, ctx.tz)
    if vote.proposal_id is not None:
        p = await ctx.session.get(Proposal, vote.proposal_id)
        if p is not None:
            card.blocks.insert(1, Text(text=f"On proposal P{p.number} ({p.status})."))
    return card


async def open_votes(ctx: Ctx) -> list[Vote]:
    wg = ctx.require_wg()
    q = select(Vote).where(Vote.wg_id == wg.id, Vote.status == "open").order_by(Vote.number)  # type: ignore[arg-type]
    return list((await ctx.session.exec(q)).all())


async def todo_lines(ctx: Ctx, member: Member) -> list[str]:
    """`/wg todo`: open votes the member is on the roll of and has not voted in."""
    lines = []
    for vote in await open_votes(ctx):
        on_roll = (
            await ctx.session.exec(
                select(VoteVoter.id).where(VoteVoter.vote_id == vote.id, VoteVoter.member_id == member.id)
            )
        ).first()
        voted = (
            await ctx.session.exec(select(Ballot.id).where(Ballot.vote_id == vote.id, Ballot.member_id == member.id))
        ).first()
        if on_roll is not None and voted is None:
            until = f", closes {fmt(vote.closes_at, ctx.tz)}" if vote.closes_at else ""
            lines.append(f"Vote on V{vote.number} “{vote.question}”{until}: /wg vote V{vote.number} …")
    return lines


async def agenda_lines(ctx: Ctx, start: datetime) -> list[str]:
    """`/wg agenda M<n>`: votes open now, the ones closing before the meeting marked."""
    lines = []
    for vote in await open_votes(ctx):
        on = ""
        if vote.proposal_id is not None:
            p = await ctx.session.get(Proposal, vote.proposal_id)
            on = f" (P{p.number})" if p is not None else ""
        when = ""
        if vote.closes_at is not None:
            when = f" — closes {fmt(vote.closes_at, ctx.tz)}" + (
                " (before the meeting)" if vote.closes_at <= start else ""
            )
        lines.append(f"   V{vote.number}{on} {vote.question}{when}")
    return lines
