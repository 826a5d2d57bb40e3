"""Pause-and-react rounds: `/wg pause "<prompt>" [for:<d>]` (convener), `/wg react <text>`.

One round at a time. Each person gives one line (a second replaces the first). The round closes by
itself through the engine (`live.pause.close`, a planning-grade job: after downtime it still closes,
once), brought forward by `live end`; the reactions are then posted grouped by theme with a synthesis and the
share of reactions from each stakeholder group. Reactions are posted without names.

The synthesis goes through the summarizer (bot/pause_synthesis.py): with an LLM configured, the job's
preparer asks the model before the job's transaction opens (so no lock is held during the call), and
the handler uses that answer if the reactions are still the ones it was made from; without an LLM or
on failure the offline theme grouper (bot/live_themes.py) answers, labelled as such. `live end`
brings an open round's closing job forward to now, so a round cut short is synthesized the same way.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine import Engine, JobContext, Skip, job_handler, schedule
from bot.errors import UserError
from bot.pause_synthesis import Reaction, Synthesis, basis_of, offline, synthesize
from bot.reply import Actions, Block, Button, Context, Form, FormField, Heading, Reply, Response, Text
from bot.sanitize import clean_line
from bot.services.context import Ctx, channel_destinations, command
from bot.services.live import attend, require_live, span, span_words
from bot.timefmt import fmt
from storage.models import LivePause, LiveReaction, LiveSession, Member, ScheduledJob, WorkingGroup

MAX_PROMPT = 500
MAX_REACTION = 300
DEFAULT_SPAN = timedelta(minutes=5)


async def open_pause(session: AsyncSession, live: LiveSession) -> LivePause | None:
    q = select(LivePause).where(LivePause.session_id == live.id, LivePause.status == "open")
    return (await session.exec(q)).first()


async def reactions_of(session: AsyncSession, pause: LivePause) -> list[Reaction]:
    """The round's reactions, oldest first, with whether their author opted out of AI summaries."""
    q = (
        select(LiveReaction, Member.ai_opt_out)
        .join(Member, col(Member.id) == col(LiveReaction.member_id))
        .where(LiveReaction.pause_id == pause.id)
        .order_by(col(LiveReaction.at), col(LiveReaction.id))
    )
    return [
        Reaction(id=r.id, text=r.text, group=r.stakeholder_group, opted_out=bool(out))  # type: ignore[arg-type]
        for r, out in (await session.exec(q)).all()
    ]


def shares(reactions: list[Reaction]) -> str:
    total = len(reactions)
    by_group = Counter(r.group for r in reactions)
    return ", ".join(f"{g} {round(100 * n / total)}%" for g, n in sorted(by_group.items())) if total else "—"


async def close_pause(
    session: AsyncSession, pause: LivePause, now: datetime, prepared: Synthesis | None = None, note: str | None = None
) -> Reply:
    """Close the round and return its grouped synthesis (the caller posts it). `prepared`: the
    synthesis made before the transaction (by the LLM); used only if the reactions are unchanged,
    otherwise (or without one) the offline grouper answers here."""
    reactions = await reactions_of(session, pause)
    result = prepared
    if result is None or result.basis != basis_of(reactions):
        result = offline(pause.prompt, reactions, note)
    blocks: list[Block] = [Heading(text=f"Pause round closed: {pause.prompt}"), Text(text=f"Synthesis: {result.text}")]
    for name, items in result.themes:
        blocks.append(Text(text=f"{name} ({len(items)}):\n" + "\n".join(f"• {text}" for text, _ in items)))
    blocks.append(Context(text=f"Share of reactions by stakeholder group: {shares(reactions)} · {result.label()}"))
    pause.status = "closed"
    pause.synthesis = f"{pause.prompt} — {result.text} Shares: {shares(reactions)}. ({result.label()})"[:20000]
    session.add(pause)
    await session.flush()
    return Reply(blocks=blocks, kind="summary")


async def _prepare(job: ScheduledJob, engine: Engine) -> Synthesis | None:
    """Before the closing job's transaction: read the reactions and ask the model (no lock held)."""
    deps = engine.deps
    if deps is None or deps.summarizer.llm is None:
        return None  # offline: the handler groups them in its transaction, nothing slow
    async with engine.db.session() as s:
        pause = await s.get(LivePause, job.payload["pause_id"])
        if pause is None or pause.status != "open":
            return None
        reactions = await reactions_of(s, pause)
        prompt = pause.prompt
    return await synthesize(deps.summarizer, prompt, reactions)


@job_handler("live.pause.close", grace=False, prepare=_prepare)
async def close_job(ctx: JobContext) -> None:
    pause = await ctx.session.get(LivePause, ctx.payload["pause_id"])
    if pause is None or pause.status != "open":
        raise Skip("the round was already closed", status="cancelled")
    reply = await close_pause(ctx.session, pause, ctx.now, prepared=ctx.prepared)
    live = await ctx.session.get(LiveSession, pause.session_id)
    wg = await ctx.session.get(WorkingGroup, live.wg_id if live else 0)
    if wg is None or wg.id is None:
        return
    for ch, dest in await channel_destinations(ctx.session, wg.id):
        await ctx.send(dest, reply, part=f"ch{ch.id}")


@command("pause")
async def pause(ctx: Ctx) -> Reply:
    member = ctx.require_convener("open a pause round")
    wg = ctx.require_wg()
    live = await require_live(ctx)
    prompt = clean_line(ctx.cmd.positionals[0])
    if not prompt:
        raise ctx.fail("The prompt is empty; say what people should react to.")
    if len(prompt) > MAX_PROMPT:
        raise ctx.fail(f"The prompt is too long ({len(prompt)} characters; the limit is {MAX_PROMPT}).")
    length = span(ctx.cmd.options.get("for"), DEFAULT_SPAN, "pause round", ctx.spec_usage)
    running = await open_pause(ctx.session, live)
    if running is not None:
        raise UserError(
            f"A pause round is already open (“{running.prompt[:60]}”, closes {fmt(running.closes_at, ctx.tz)}); "
            "one round at a time."
        )
    round_ = LivePause(session_id=live.id, prompt=prompt, opened_at=ctx.now, closes_at=ctx.now + length)  # type: ignore[arg-type]
    ctx.session.add(round_)
    await ctx.session.flush()
    await attend(ctx, live, member)
    await schedule(
        ctx.session,
        kind="live.pause.close",
        key=f"live-pause:{round_.id}:close",
        due_at=round_.closes_at,
        now=ctx.now,
        wg_id=wg.id,
        ref=f"live-pause:{round_.id}",
        payload={"pause_id": round_.id},
    )
    card = Reply(
        blocks=[
            Heading(text=f"Pause and react: {prompt}"),
            Text(text=f"One line each, for {span_words(length)} (until {fmt(round_.closes_at, wg.timezone)})."),
            Actions(elements=[Button(label="React", action="react", style="primary")]),
            Context(text="React: the button or /wg react <text> · a second reaction replaces your first"),
        ]
    )
    await ctx.announce(card, key=f"live-pause:{round_.id}:open")
    return Reply.text(f"Pause round open for {span_words(length)} and announced.", private=True)


@command("react")
async def react(ctx: Ctx) -> Response | Reply:
    member = ctx.require_participant("react")
    live = await require_live(ctx)
    round_ = await open_pause(ctx.session, live)
    if round_ is None or round_.closes_at <= ctx.now:
        raise UserError('No pause round is open. A convener opens one with /wg pause "<prompt>".')
    raw = ctx.cmd.rest or ctx.cmd.options.get("text", "")
    text = clean_line(raw)
    if not text:
        form = Form(
            title="React",
            action="react",
            submit_label="React",
            fields=[FormField(name="text", label=round_.prompt[:45] or "Your reaction", max_length=MAX_REACTION)],
        )
        return Response(form=form, replies=[Reply.error("Write one line: /wg react <text>", ctx.spec_usage)])
    if len(text) > MAX_REACTION:
        raise ctx.fail(f"A reaction is one line of at most {MAX_REACTION} characters (this one has {len(text)}).")
    await attend(ctx, live, member)
    existing = (
        await ctx.session.exec(
            select(LiveReaction).where(LiveReaction.pause_id == round_.id, LiveReaction.member_id == member.id)
        )
    ).first()
    replaced = existing is not None
    if existing is None:
        existing = LiveReaction(
            pause_id=round_.id,  # type: ignore[arg-type]
            member_id=member.id,  # type: ignore[arg-type]
            text=text,
            platform=ctx.cmd.user.platform,
            stakeholder_group=member.stakeholder_group,
            at=ctx.now,
        )
    existing.text, existing.platform, existing.at = text, ctx.cmd.user.platform, ctx.now
    ctx.session.add(existing)
    await ctx.session.flush()
    verb = "replaces your earlier one" if replaced else "is recorded"
    return Reply.text(f"Your reaction {verb}: “{text}”.", private=True)
