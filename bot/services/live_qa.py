"""The live Q&A queue: `/wg ask`, `/wg upvote`, `/wg queue`, `/wg answered`, `/wg dismiss`.

Ranking: upvotes, then age (the older question first). One upvote per person: upvotes belong to the
member, so a person linked on Slack and Discord counts once whichever button they press. An
anonymous question's asker is stored (for the rate limit) but no reply, announcement, queue or
minutes line ever names them. The queue is one message with an Upvote button per question; a button
press answers with that message updated in place (adapters bound the rate of edits).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select

from bot.errors import UserError
from bot.reply import Actions, Block, Button, Context, Heading, Reply, Response, Text
from bot.sanitize import clean_line
from bot.services.context import Ctx, command, parse_ref
from bot.services.live import attend, meeting_title, require_live
from storage.models import LiveQuestion, LiveSession, LiveUpvote, Member

MAX_QUESTION = 500
#: questions one member may ask within RATE_WINDOW
RATE_LIMIT = 3
RATE_WINDOW = timedelta(minutes=1)
#: question buttons in one queue message (Slack allows 25 elements per actions block, Discord 25 buttons)
QUEUE_BUTTONS = 20


def asker_text(q: LiveQuestion, names: dict[int, str]) -> str:
    who = "anonymous" if q.anonymous else names.get(q.member_id, "a former member")
    return f"{who}, {q.platform}"


async def _names(ctx: Ctx, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = (await ctx.session.exec(select(Member).where(col(Member.id).in_(ids)))).all()
    return {m.id: m.display_name for m in rows if m.id is not None and m.erased_at is None}


async def ranked(ctx: Ctx, live: LiveSession, status: str = "open") -> list[LiveQuestion]:
    q = (
        select(LiveQuestion)
        .where(LiveQuestion.session_id == live.id, LiveQuestion.status == status)
        .order_by(col(LiveQuestion.upvotes).desc(), col(LiveQuestion.asked_at), col(LiveQuestion.number))
    )
    return list((await ctx.session.exec(q)).all())


async def group_names(ctx: Ctx) -> list[str]:
    wg = ctx.require_wg()
    q = select(Member.stakeholder_group).where(Member.wg_id == wg.id, col(Member.erased_at).is_(None))
    return sorted({g for g in (await ctx.session.exec(q)).all()})


def spread(items: list[tuple[str, str]], groups: list[str]) -> list[str]:
    """Balance lines: counts by stakeholder group and platform, and the groups not heard from."""
    by_group = Counter(g for g, _ in items)
    by_platform = Counter(p for _, p in items)
    lines = [
        "By stakeholder group: " + (", ".join(f"{g} {n}" for g, n in sorted(by_group.items())) or "none yet"),
        "By platform: " + (", ".join(f"{p} {n}" for p, n in sorted(by_platform.items())) or "none yet"),
    ]
    silent = [g for g in groups if g not in by_group]
    if silent:
        lines.append("⚠ Not heard from yet: " + ", ".join(silent))
    return lines


async def queue_reply(ctx: Ctx, live: LiveSession) -> Reply:
    open_qs = await ranked(ctx, live)
    names = await _names(ctx, {q.member_id for q in open_qs})
    title = await meeting_title(ctx, live)
    blocks: list[Block] = [Heading(text=f"Question queue — {title}")]
    if not open_qs:
        blocks.append(Text(text="No open questions. Ask one: /wg ask <question> [anonymous]"))
    else:
        lines = [f"{i}. Q{q.number} ▲{q.upvotes} — {q.text} ({asker_text(q, names)})" for i, q in enumerate(open_qs, 1)]
        blocks.append(Text(text="\n".join(lines)))
        buttons = [Button(label=f"▲ Q{q.number}", action=f"upvote Q{q.number}") for q in open_qs[:QUEUE_BUTTONS]]
        for start in range(0, len(buttons), 5):
            blocks.append(Actions(elements=list(buttons[start : start + 5])))
    all_qs = (await ctx.session.exec(select(LiveQuestion).where(LiveQuestion.session_id == live.id))).all()
    balance = spread([(q.stakeholder_group, q.platform) for q in all_qs], await group_names(ctx))
    blocks.append(Context(text=" · ".join(balance)))
    blocks.append(Context(text="Upvote: the buttons or /wg upvote Q<n> · ranked by upvotes, then by age"))
    return Reply(blocks=blocks)


async def get_question(ctx: Ctx, live: LiveSession, ref: str) -> LiveQuestion:
    wg = ctx.require_wg()
    number = parse_ref(ref, "Q", "question")
    q = select(LiveQuestion).where(LiveQuestion.wg_id == wg.id, LiveQuestion.number == number)
    question = (await ctx.session.exec(q)).first()
    if question is None:
        raise UserError(f"There is no question Q{number}. /wg queue lists the open ones.")
    if question.session_id != live.id:
        raise UserError(f"Q{number} belongs to an earlier live session.")
    return question


@command("ask")
async def ask(ctx: Ctx) -> Reply:
    member = ctx.require_participant("ask questions")
    live = await require_live(ctx)
    text = clean_line(ctx.cmd.rest)
    if not text:
        raise ctx.fail("The question is empty.")
    if len(text) > MAX_QUESTION:
        raise ctx.fail(f"The question is too long ({len(text)} characters; the limit is {MAX_QUESTION}).")
    recent = (
        await ctx.session.exec(
            select(LiveQuestion.id).where(
                LiveQuestion.member_id == member.id, LiveQuestion.asked_at > ctx.now - RATE_WINDOW
            )
        )
    ).all()
    if len(recent) >= RATE_LIMIT:
        raise UserError(f"You asked {RATE_LIMIT} questions in the last minute; wait a moment, then ask again.")
    anonymous = "anonymous" in ctx.cmd.flags
    question = LiveQuestion(
        wg_id=live.wg_id,
        session_id=live.id,  # type: ignore[arg-type]
        number=await ctx.next_number("Q"),
        member_id=member.id,  # type: ignore[arg-type]
        anonymous=anonymous,
        text=text,
        platform=ctx.cmd.user.platform,
        stakeholder_group=member.stakeholder_group,
        asked_at=ctx.now,
    )
    ctx.session.add(question)
    await ctx.session.flush()
    await attend(ctx, live, member)
    who = "anonymously" if anonymous else f"by {member.display_name}"
    await ctx.announce(
        Reply(
            blocks=[
                Text(text=f"Q{question.number}: {text}"),
                Context(text=f"Asked {who} on {question.platform} · upvote: /wg upvote Q{question.number} · /wg queue"),
            ]
        ),
        key=f"live:q{question.id}:asked",
    )
    note = " Your name is not shown anywhere." if anonymous else ""
    return Reply.text(f"Your question is Q{question.number} in the queue.{note}", private=True)


@command("upvote")
async def upvote(ctx: Ctx) -> Response | Reply:
    member = ctx.require_participant("upvote questions")
    live = await require_live(ctx)
    question = await get_question(ctx, live, ctx.cmd.positionals[0])
    ref = f"Q{question.number}"
    if question.status != "open":
        raise UserError(f"{ref} is already {question.status}; only open questions can be upvoted.")
    if question.member_id == member.id:
        raise UserError(f"{ref} is your own question; upvotes are for other people's questions.")
    await attend(ctx, live, member)
    seen = (
        await ctx.session.exec(
            select(LiveUpvote.id).where(LiveUpvote.question_id == question.id, LiveUpvote.member_id == member.id)
        )
    ).first()
    if seen is not None:
        note = Reply.text(f"You already upvoted {ref}; an upvote counts once per person.", private=True)
    else:
        ctx.session.add(
            LiveUpvote(question_id=question.id, member_id=member.id, platform=ctx.cmd.user.platform, at=ctx.now)  # type: ignore[arg-type]
        )
        await ctx.session.exec(
            update(LiveQuestion).where(col(LiveQuestion.id) == question.id).values(upvotes=LiveQuestion.upvotes + 1)
        )
        await ctx.session.flush()
        await ctx.session.refresh(question)
        note = Reply.text(f"Upvoted {ref} (▲{question.upvotes}).", private=True)
    if ctx.cmd.from_action:
        return Response(update=await queue_reply(ctx, live), replies=[note])
    return note


@command("queue")
async def queue(ctx: Ctx) -> Reply:
    ctx.require_member()
    live = await require_live(ctx)
    return await queue_reply(ctx, live)


async def _close(ctx: Ctx, status: str) -> Reply:
    ctx.require_convener(f"mark questions {status}")
    live = await require_live(ctx)
    question = await get_question(ctx, live, ctx.cmd.positionals[0])
    ref = f"Q{question.number}"
    if question.status != "open":
        raise UserError(f"{ref} is already {question.status}.")
    question.status, question.closed_at = status, ctx.now
    ctx.session.add(question)
    await ctx.session.flush()
    await ctx.announce(
        Reply.text(f"{ref} {status} (▲{question.upvotes}): {question.text}"), key=f"live:q{question.id}:{status}"
    )
    return Reply.text(f"{ref} marked {status}.", private=True)


@command("answered")
async def answered(ctx: Ctx) -> Reply:
    return await _close(ctx, "answered")


@command("dismiss")
async def dismiss(ctx: Ctx) -> Reply:
    return await _close(ctx, "dismissed")
