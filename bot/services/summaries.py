"""`/wg summarize [<thread>] [lang:<code>]`, `/wg privacy opt-out|opt-in`.

The command's checks run in its transaction (member, group, which thread, may it be read); reading
the thread and asking the model happen afterwards with no transaction open (`Followup`), then one
short transaction stores the summary (the cache) and the tokens spent. The summary is the command's
public reply: posted in the thread by every adapter.

Which threads: the one the command was typed in, or one named by a link or id, in this channel or in
another channel bound to the same working group — never a channel the group does not own, so
nobody can have the bot read out a conversation they could not see.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.deps import Deps, Followup
from bot.errors import UserError
from bot.purge import purger
from bot.reply import Reply, Response
from bot.services.action_items import sync_thread_items
from bot.services.context import Ctx, command
from bot.summarizer import Outcome, Previous, doc_from_json
from bot.summary_render import render_summary
from bot.transcript import Speaker, Transcript, build_transcript
from storage.models import Channel, Identity, LlmUsage, Member, ThreadSummary

_LANG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$", re.IGNORECASE)
_SLACK_LINK = re.compile(r"/archives/([A-Z0-9]+)/p(\d{10})(\d{6})(?:\?[^ ]*?thread_ts=(\d+\.\d+))?")
_DISCORD_LINK = re.compile(r"/channels/(?:\d+|@me)/(\d+)(?:/(\d+))?")
_CHANNEL_MENTION = re.compile(r"^<#(\d+)(?:\|[^>]*)?>$")


def thread_ref(ref: str, platform: str, channel_id: str) -> tuple[str, str]:
    """A thread named by the person → (channel id, thread id)."""
    ref = ref.strip().strip("<>")
    if m := _SLACK_LINK.search(ref):
        return m.group(1), m.group(4) or f"{m.group(2)}.{m.group(3)}"
    if m := _DISCORD_LINK.search(ref):
        if m.group(2):  # a message link: the thread started from that message shares its id
            return m.group(1), m.group(2)
        return channel_id, m.group(1)
    if m := _CHANNEL_MENTION.match(f"<{ref}>"):
        return channel_id, m.group(1)
    if re.fullmatch(r"[\w.\-]{1,100}", ref):
        return channel_id, ref
    raise UserError(f"`{ref[:60]}` is not a thread link or id.", "/wg summarize [<thread link>]")


async def _speakers(ctx: Ctx, wg_id: int) -> dict[tuple[str, str], Speaker]:
    members = {m.id: m for m in (await ctx.session.exec(select(Member).where(Member.wg_id == wg_id))).all()}
    idents = (await ctx.session.exec(select(Identity).where(Identity.wg_id == wg_id))).all()
    aliases: dict[int, set[str]] = {}
    for ident in idents:
        aliases.setdefault(ident.member_id, set()).update({ident.handle, ident.user_id})
    out: dict[tuple[str, str], Speaker] = {}
    for ident in idents:
        m = members.get(ident.member_id)
        if m is None or m.erased_at is not None:
            continue
        out[(ident.platform, ident.user_id)] = Speaker(
            display_name=m.display_name,
            group=m.stakeholder_group,
            opted_out=m.ai_opt_out,
            aliases=tuple(sorted(aliases.get(ident.member_id, set()))),
            member_id=m.id,
        )
    return out


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@command("summarize")
async def summarize(ctx: Ctx) -> Followup:
    deps = ctx.require_deps()
    # a summary is posted for everyone and spends the group's model budget: not for observers
    member = ctx.require_participant("ask for thread summaries")
    wg = ctx.require_wg()
    assert wg.id is not None and member.id is not None
    where = ctx.cmd.where
    if ctx.cmd.positionals:
        channel_id, thread_id = thread_ref(ctx.cmd.positionals[0], where.platform, where.channel_id)
    elif where.thread_id:
        channel_id, thread_id = where.channel_id, where.thread_id
    else:
        raise ctx.fail(
            "Run this inside the thread to summarize (on Slack: mention @wgbot summarize there, or use the "
            "message shortcut “Summarize thread”), or name the thread with its link."
        )
    if channel_id != where.channel_id:
        bound = (
            await ctx.session.exec(
                select(Channel).where(
                    Channel.wg_id == wg.id, Channel.platform == where.platform, Channel.channel_id == channel_id
                )
            )
        ).first()
        if bound is None:
            raise ctx.fail("That thread is in a channel this working group is not bound to; I will not read it.")
    lang = ctx.cmd.options.get("lang", wg.language or "en").strip()
    if not _LANG.match(lang):
        raise ctx.fail(f"`{lang[:20]}` is not a language code; use one such as en, fr, es or pt-BR.")
    source = deps.thread_sources.get(where.platform)
    if source is None:
        raise UserError(f"This deployment cannot read {where.platform} threads, so it cannot summarize them.")
    speakers = await _speakers(ctx, wg.id)
    prev_row = (
        await ctx.session.exec(
            select(ThreadSummary)
            .where(
                ThreadSummary.wg_id == wg.id,
                ThreadSummary.platform == where.platform,
                ThreadSummary.channel_id == channel_id,
                ThreadSummary.thread_id == thread_id,
            )
            .order_by(col(ThreadSummary.id).desc())
            .limit(1)
        )
    ).first()
    previous = None
    if prev_row is not None and (doc := doc_from_json(prev_row.doc)) is not None:
        previous = Previous(
            prev_row.fingerprint, doc, prev_row.engine, prev_row.language, prev_row.prompt_version, prev_row.model
        )
    tokens_left = None
    if deps.monthly_token_cap is not None:
        used = (
            await ctx.session.exec(
                select(func.coalesce(func.sum(LlmUsage.tokens_in + LlmUsage.tokens_out), 0)).where(
                    LlmUsage.wg_id == wg.id, col(LlmUsage.at) >= month_start(ctx.now)
                )
            )
        ).one()
        tokens_left = deps.monthly_token_cap - int(used or 0)

    async def run() -> Response:
        try:
            lines = await source.fetch_thread(channel_id, thread_id, limit=deps.max_thread_messages + 1)
        except Exception as exc:
            raise UserError(
                "I could not read that thread. Is wgbot a member of the channel, and does the thread exist? "
                f"({type(exc).__name__})"
            ) from exc
        if not lines:
            raise UserError("That thread has no messages I can read.")
        notes: list[str] = []
        if len(lines) > deps.max_thread_messages:
            lines = lines[: deps.max_thread_messages]
            notes.append(f"Only the first {deps.max_thread_messages} messages were summarized.")
        transcript = build_transcript(lines, speakers)
        if transcript.opted_out_lines:
            n = transcript.opted_out_lines
            notes.append(f"{n} message{'s' if n != 1 else ''} left out: their authors opted out of AI summaries.")
        assert wg.id is not None
        outcome = await deps.summarizer.summarize(transcript, lang=lang, previous=previous, tokens_left=tokens_left)
        place = (where.platform, channel_id, thread_id)
        await _store(deps, wg.id, member.id, place, transcript, lang, outcome)
        if outcome.cached:
            notes.append("Unchanged since the last summary.")
        elif outcome.incremental:
            notes.append("Updated from the previous summary with the new messages.")
        return Response(replies=[render_summary(outcome, transcript, lang=lang, notes=notes)])

    return Followup(run)


async def _store(
    deps: Deps,
    wg_id: int,
    member_id: int | None,
    place: tuple[str, str, str],
    transcript: Transcript,
    lang: str,
    outcome: Outcome,
) -> None:
    platform, channel_id, thread_id = place
    now = deps.clock.now()
    async with deps.db.transaction() as s:
        if outcome.usage.calls:
            s.add(
                LlmUsage(
                    wg_id=wg_id,
                    at=now,
                    purpose="summary",
                    model=(outcome.usage.model or outcome.model or "unknown")[:100],
                    tokens_in=outcome.usage.tokens_in,
                    tokens_out=outcome.usage.tokens_out,
                    calls=outcome.usage.calls,
                )
            )
        if outcome.cached:
            return
        await s.exec(
            delete(ThreadSummary).where(
                col(ThreadSummary.wg_id) == wg_id,
                col(ThreadSummary.platform) == platform,
                col(ThreadSummary.channel_id) == channel_id,
                col(ThreadSummary.thread_id) == thread_id,
            )
        )
        s.add(
            ThreadSummary(
                wg_id=wg_id,
                platform=platform,
                channel_id=channel_id,
                thread_id=thread_id,
                fingerprint=transcript.fingerprint,
                doc=outcome.doc.model_dump(),
                engine=outcome.engine,
                model=outcome.model,
                prompt_version=outcome.prompt_version,
                language=lang,
                tokens_in=outcome.usage.tokens_in,
                tokens_out=outcome.usage.tokens_out,
                calls=outcome.usage.calls,
                note=(outcome.note or "")[:300] or None,
                requested_by=member_id,
                created_at=now,
            )
        )
        # its action items, owners kept as member ids (the pseudonyms' meaning in this transcript)
        await sync_thread_items(
            s, wg_id, place, outcome.doc, members=transcript.members, links=transcript.links, now=now
        )


@purger("thread summaries")
async def purge_summaries(session: AsyncSession, cutoff: datetime) -> int:
    """Cached summaries (hashes and the pseudonymous summary) older than the retention period."""
    result = await session.exec(delete(ThreadSummary).where(col(ThreadSummary.created_at) < cutoff))
    return int(result.rowcount or 0)


@command("privacy.opt-out")
async def opt_out(ctx: Ctx) -> Reply:
    member = ctx.require_member()
    already = member.ai_opt_out
    member.ai_opt_out = True
    ctx.session.add(member)
    gone = ""
    if not already:
        # stored summaries do not say whose messages they drew on: drop the group's, so nothing made
        # from this member's messages is shown again (web record, digest, white paper); the next
        # /wg summarize of a thread rebuilds its summary without them
        result = await ctx.session.exec(delete(ThreadSummary).where(col(ThreadSummary.wg_id) == member.wg_id))
        if dropped := int(result.rowcount or 0):
            gone = f" The group's stored thread summaries that may draw on your messages were removed ({dropped})."
    head = "You had already opted out." if already else "Done: you are opted out of AI summaries."
    return Reply.text(
        f"{head} Your messages are replaced by a placeholder before any thread is summarized (by an AI model or "
        f"offline), and your name is not sent.{gone} `/wg privacy opt-in` undoes this.",
        private=True,
    )


@command("privacy.opt-in")
async def opt_in(ctx: Ctx) -> Reply:
    member = ctx.require_member()
    already = not member.ai_opt_out
    member.ai_opt_out = False
    ctx.session.add(member)
    head = "You were already opted in." if already else "Done: your messages are included in summaries again."
    return Reply.text(
        f"{head} Before anything is sent to an AI model, e-mail addresses and phone numbers are redacted and "
        "names replaced by pseudonyms. `/wg privacy opt-out` leaves your messages out.",
        private=True,
    )
