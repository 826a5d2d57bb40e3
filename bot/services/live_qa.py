"""The live Q&A queue: `/wg ask`, `/wg upvote`, `/wg queue`, `/wg answered`, `/wg dismiss`.

Ranking: upvotes, then age (the older question first). One upvote per person: upvotes belong to the
member, so a person linked on Slack and Discord counts once whichever button they press. An
anonymous question's asker is stored (for the rate limit, their own export and erasure) but no reply,
announcement, queue or minutes line ever names them: the question keeps no platform and no
stakeholder group, is counted apart in the balance lines, and asking it records no attendance.
An upvote counts as attending (the attendance row says nothing of which question it was for); a
refused upvote (a repeat) records nothing. The queue is one message per bound channel with an Upvote button per
question, edited in place after every change, by whatever path (live_board.py); a button press also
answers with the clicked message updated at once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select

from bot.errors import UserError
from bot.reply import Reply, Response
from bot.sanitize import clean_line
from bot.services.context import Ctx, command, parse_ref
from bot.services.live import attend, require_live
from bot.services.live_board import queue_changed, queue_reply
from storage.models import LiveQuestion, LiveSession, LiveUpvote

MAX_QUESTION = 500
#: questions one member may ask within RATE_WINDOW
RATE_LIMIT = 3
RATE_WINDOW = timedelta(minutes=1)


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
    if anonymous and ctx.cmd.where.said_in_channel:
        # the mention itself shows who asked: refused, nothing recorded, so the question never appears
        # in the queue next to it
        raise UserError(
            "This question cannot be anonymous: your message mentioning the bot is visible in the channel. "
            "Delete it if you like, then ask with the /wg ask command (only you see it) or in a direct "
            "message to the bot."
        )
    question = LiveQuestion(
        wg_id=live.wg_id,
        session_id=live.id,  # type: ignore[arg-type]
        number=await ctx.next_number("Q"),
        member_id=member.id,  # type: ignore[arg-type]
        anonymous=anonymous,
        text=text,
        # an anonymous question keeps no platform and no stakeholder group: where someone is the only
        # one of their kind, either would name them
        platform="" if anonymous else ctx.cmd.user.platform,
        stakeholder_group="" if anonymous else member.stakeholder_group,
        asked_at=ctx.now,
    )
    ctx.session.add(question)
    await ctx.session.flush()
    if not anonymous:
        # an anonymous question records no attendance: a row with its platform, group and time would
        # tie the asker to it (they attend by saying so, or by taking part otherwise)
        await attend(ctx, live, member)
    await queue_changed(ctx.session, live, ctx.now)
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
    seen = (
        await ctx.session.exec(
            select(LiveUpvote.id).where(LiveUpvote.question_id == question.id, LiveUpvote.member_id == member.id)
        )
    ).first()
    if seen is not None:  # refused: records nothing (not even attendance from this platform)
        note = Reply.text(f"You already upvoted {ref}; an upvote counts once per person.", private=True)
    else:
        await attend(ctx, live, member)
        ctx.session.add(
            LiveUpvote(question_id=question.id, member_id=member.id, platform=ctx.cmd.user.platform, at=ctx.now)  # type: ignore[arg-type]
        )
        await ctx.session.exec(
            update(LiveQuestion).where(col(LiveQuestion.id) == question.id).values(upvotes=LiveQuestion.upvotes + 1)
        )
        await ctx.session.flush()
        await ctx.session.refresh(question)
        await queue_changed(ctx.session, live, ctx.now)
        note = Reply.text(f"Upvoted {ref} (▲{question.upvotes}).", private=True)
    if ctx.cmd.from_action:
        return Response(update=await queue_reply(ctx.session, live), replies=[note])
    return note


@command("queue")
async def queue(ctx: Ctx) -> Reply:
    ctx.require_member()
    live = await require_live(ctx)
    return await queue_reply(ctx.session, live)


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
    await queue_changed(ctx.session, live, ctx.now)
    return Reply.text(f"{ref} marked {status}; the queue shows it in every channel.", private=True)


@command("answered")
async def answered(ctx: Ctx) -> Reply:
    return await _close(ctx, "answered")


@command("dismiss")
async def dismiss(ctx: Ctx) -> Reply:
    return await _close(ctx, "dismissed")
