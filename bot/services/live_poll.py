"""Quick polls: `/wg poll "<question>" options:"a, b, c" [for:<d>]` (convener, during a live session).

A quick poll is a `V<n>` vote like any other (votes.create_vote: frozen roll, ballot log, receipts,
`/wg vote V<n> <choice>`), of method `choice`, that the engine closes at its minute (`vote.close`)
with the results announced in every channel. Only its card differs: one button per option (up to
five; a menu beyond) and the counts as live text bars, refreshed in place when someone votes.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam
from sqlmodel import col, select

from bot.choices import option_list
from bot.reply import Actions, Block, Button, Context, Fields, Heading, Reply, Text
from bot.sanitize import clean_line
from bot.services import votes
from bot.services.context import Ctx, command
from bot.services.live import attend, require_live, span, span_words
from bot.services.vote_render import ballot_ui, participation
from bot.tally import Result, letter
from bot.timefmt import fmt
from storage.db import Known
from storage.models import LivePoll, LiveSession, Member, Vote

DEFAULT_SPAN = timedelta(minutes=2)
BUTTONS_MAX = 5
BAR_WIDTH = 10


def bars(labels: list[str], totals: list[float], cast: int) -> str:
    """`A ███████░░░ 7 (70%) Geneva` — one line per option, the share of ballots cast."""
    lines = []
    for i, (label, n) in enumerate(zip(labels, totals, strict=True)):
        share = n / cast if cast else 0.0
        filled = round(share * BAR_WIDTH)
        bar = "█" * filled + "░" * (BAR_WIDTH - filled)
        lines.append(f"{letter(i)} {bar} {round(n)} ({round(100 * share)}%) {label}")
    return "\n".join(lines)


def poll_card(vote: Vote, result: Result, tz: str, heading: str | None = None) -> Reply:
    ref = f"V{vote.number}"
    blocks: list[Block] = [Heading(text=heading or f"Quick poll {ref}: {vote.question}")]
    blocks.append(
        Fields(
            items=[
                ("Closes" if vote.status == "open" else "Closed", fmt(vote.closes_at or vote.opened_at, tz)),
                ("Participation", participation(vote, result.cast, result.roll)),
            ]
        )
    )
    blocks.append(Text(text=bars(list(vote.options), list(result.totals), result.cast)))
    if vote.status == "open":
        if len(vote.options) <= BUTTONS_MAX:
            blocks.append(
                Actions(
                    elements=[
                        Button(label=f"{letter(i)}: {o}"[:75], action=f"vote {ref} {letter(i)}")
                        for i, o in enumerate(vote.options)
                    ]
                )
            )
        else:
            blocks += ballot_ui(vote, tz)
        blocks.append(Context(text=f"Vote: the buttons or /wg vote {ref} <letter> · you can change your vote"))
    return Reply(blocks=blocks)


async def _poll_card_hook(ctx: Ctx, vote: Vote, result: Result, tz: str) -> Reply | None:
    q = select(LivePoll.id).where(LivePoll.vote_id == vote.id)
    if (await ctx.session.exec(q)).first() is None:
        return None
    return poll_card(vote, result, tz)


# a quick poll's live session; built once (every ballot runs it: see storage.db.per_dialect)
_LIVE_OF_VOTE = (
    select(LiveSession)
    .join(LivePoll, col(LivePoll.session_id) == col(LiveSession.id))
    .where(LivePoll.vote_id == bindparam("vote_id"))
)


async def _voter_attends(ctx: Ctx, vote: Vote, member: Member) -> None:
    """A quick poll's voter took part in the live session: they count as attending."""
    not_a_poll = ("not a live poll", vote.id)
    if Known.has(ctx.session, not_a_poll):  # a poll's LivePoll row is written with its vote
        return
    live = (await ctx.session.exec(_LIVE_OF_VOTE, params={"vote_id": vote.id})).first()
    if live is None:
        Known.add(ctx.session, not_a_poll)
    if live is not None and live.active_wg_id is not None:
        await attend(ctx, live, member)


votes.CARD_HOOKS.append(_poll_card_hook)
votes.BALLOT_HOOKS.append(_voter_attends)


@command("poll")
async def poll(ctx: Ctx) -> Reply:
    member = ctx.require_convener("run quick polls")
    wg = ctx.require_wg()
    live = await require_live(ctx)
    question = clean_line(ctx.cmd.positionals[0])
    if not question:
        raise ctx.fail('Give the question in quotes, e.g. /wg poll "Which first?" options:"a, b".')
    if len(question) > votes.MAX_QUESTION:
        raise ctx.fail(f"The question is too long ({len(question)} characters; the limit is {votes.MAX_QUESTION}).")
    if not ctx.cmd.options.get("options", "").strip():
        raise ctx.fail('A poll needs options, e.g. options:"yes, later, no".')
    options = option_list("choice", ctx.cmd.options["options"], ctx.now, ctx.tz)
    length = span(ctx.cmd.options.get("for"), DEFAULT_SPAN, "poll", ctx.spec_usage)
    voters = await votes.roll_members(ctx)
    vote = await votes.create_vote(
        ctx,
        member,
        proposal=None,
        question=question,
        method="choice",
        options=options,
        closes=ctx.now + length,
        quorum=(None, None),
        flags=set(),
        voters=voters,
    )
    ctx.session.add(LivePoll(session_id=live.id, vote_id=vote.id))  # type: ignore[arg-type]
    await ctx.session.flush()
    await attend(ctx, live, member)
    empty = Result(method="choice", labels=options, roll=len(voters), cast=0, totals=[0.0] * len(options))
    await ctx.announce(poll_card(vote, empty, wg.timezone), key=f"vote:{vote.id}:opened")
    return Reply.text(
        f"Quick poll V{vote.number} open for {span_words(length)} and announced; it closes by itself.", private=True
    )
