"""The question queue as one message per bound channel, kept current in place.

`live start` posts the queue in every bound channel (outbox key `live:<id>:queue:ch<channel>`).
Every change to the queue, by any path — a typed or clicked `ask`, `upvote`, `answered`, `dismiss`,
on any platform — calls `queue_changed`, which schedules one `live.queue.refresh` job per session
and `EDIT_EVERY` window. The job renders the queue as it is when it runs and records an edit of the
posted message in every channel (`enqueue(edit_of=…)`): Slack chat.update, Discord message edit, the
console reprints it (it cannot edit). So each channel sees at most one edit per window however many
upvotes come in, and the last state always wins: a change that comes after the window's job has
started schedules the next window's job (see `queue_changed`), and `live end` edits it a last time
(final state, no buttons). A button press also answers with the clicked message updated at once.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine import JobContext, Skip, job_handler, schedule
from bot.outbox import enqueue
from bot.reply import Actions, Block, Button, Context, Heading, Reply, Text
from bot.services.context import channel_destinations
from bot.services.live import meeting_title
from storage.models import LiveQuestion, LiveSession, Member, OutboxMessage, ScheduledJob

#: at most one edit of the queue message per channel in this window
EDIT_EVERY = timedelta(seconds=5)
#: question buttons in one queue message (Slack allows 25 elements per actions block, Discord 25 buttons)
QUEUE_BUTTONS = 20


def asker_text(q: LiveQuestion, names: dict[int, str]) -> str:
    """Who asked, from where. An anonymous question says neither: in a group where one person is the
    only member of their stakeholder group or the only one on a platform, either would name them."""
    if q.anonymous:
        return "anonymous"
    return f"{names.get(q.member_id, 'a former member')}, {q.platform}"


def anonymous_note(n: int) -> str:
    return f"{n} anonymous (counted by neither group nor platform)"


async def _names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = (await session.exec(select(Member).where(col(Member.id).in_(ids)))).all()
    return {m.id: m.display_name for m in rows if m.id is not None and m.erased_at is None}


async def ranked(session: AsyncSession, live: LiveSession, status: str = "open") -> list[LiveQuestion]:
    q = (
        select(LiveQuestion)
        .where(LiveQuestion.session_id == live.id, LiveQuestion.status == status)
        .order_by(col(LiveQuestion.upvotes).desc(), col(LiveQuestion.asked_at), col(LiveQuestion.number))
    )
    return list((await session.exec(q)).all())


async def group_names(session: AsyncSession, wg_id: int) -> list[str]:
    q = select(Member.stakeholder_group).where(Member.wg_id == wg_id, col(Member.erased_at).is_(None))
    return sorted({g for g in (await session.exec(q)).all()})


def spread(items: list[tuple[str, str]], groups: list[str], anonymous: int = 0) -> list[str]:
    """Balance lines: counts by stakeholder group and platform, and the groups not heard from.
    Anonymous questions are not in `items` (their group or platform could name their asker): only
    their number is shown, apart."""
    by_group = Counter(g for g, _ in items)
    by_platform = Counter(p for _, p in items)
    lines = [
        "By stakeholder group: " + (", ".join(f"{g} {n}" for g, n in sorted(by_group.items())) or "none yet"),
        "By platform: " + (", ".join(f"{p} {n}" for p, n in sorted(by_platform.items())) or "none yet"),
    ]
    if anonymous:
        lines.append(anonymous_note(anonymous))
    silent = [g for g in groups if g not in by_group]
    if silent:
        lines.append("⚠ Not heard from yet: " + ", ".join(silent))
    return lines


async def queue_reply(session: AsyncSession, live: LiveSession) -> Reply:
    """The queue as it stands: open questions ranked, an ▲ button each while the session runs, the
    questions already answered or dismissed, and the balance by stakeholder group and platform."""
    open_qs = await ranked(session, live)
    names = await _names(session, {q.member_id for q in open_qs})
    title = await meeting_title(session, live)
    running = live.active_wg_id is not None
    heading = f"Question queue — {title}" + ("" if running else " (session ended)")
    blocks: list[Block] = [Heading(text=heading)]
    if not open_qs:
        blocks.append(Text(text="No open questions." + (" Ask one: /wg ask <question> [anonymous]" if running else "")))
    else:
        lines = [f"{i}. Q{q.number} ▲{q.upvotes} — {q.text} ({asker_text(q, names)})" for i, q in enumerate(open_qs, 1)]
        blocks.append(Text(text="\n".join(lines)))
        if running:
            buttons = [Button(label=f"▲ Q{q.number}", action=f"upvote Q{q.number}") for q in open_qs[:QUEUE_BUTTONS]]
            for start in range(0, len(buttons), 5):
                blocks.append(Actions(elements=list(buttons[start : start + 5])))
    all_qs = (
        await session.exec(
            select(LiveQuestion).where(LiveQuestion.session_id == live.id).order_by(col(LiveQuestion.number))
        )
    ).all()
    done = [f"Q{q.number} {q.status}" for q in all_qs if q.status != "open"]
    if done:
        blocks.append(Context(text="Closed: " + ", ".join(done)))
    balance = spread(
        [(q.stakeholder_group, q.platform) for q in all_qs if not q.anonymous],
        await group_names(session, live.wg_id),
        anonymous=sum(q.anonymous for q in all_qs),
    )
    blocks.append(Context(text=" · ".join(balance)))
    if running:
        blocks.append(Context(text="Upvote: the buttons or /wg upvote Q<n> · ranked by upvotes, then by age"))
    return Reply(blocks=blocks)


def _post_key(live: LiveSession) -> str:
    return f"live:{live.id}:queue"


async def post_queue(session: AsyncSession, live: LiveSession, now: datetime) -> None:
    """Post the (empty) queue in every bound channel when the session starts: the message later edits replace."""
    reply = (await queue_reply(session, live)).model_copy(update={"kind": "announcement"})
    for ch, dest in await channel_destinations(session, live.wg_id):
        await enqueue(
            session, key=f"{_post_key(live)}:ch{ch.id}", destination=dest, reply=reply, now=now, wg_id=live.wg_id
        )


async def edit_queue(session: AsyncSession, live: LiveSession, now: datetime, key: str) -> int:
    """Record an edit of the queue message in every bound channel to its current state. A channel
    without one (bound during the session, or a session started before queue messages existed) gets
    the queue posted instead, which later edits replace."""
    reply = (await queue_reply(session, live)).model_copy(update={"kind": "announcement"})
    channels = await channel_destinations(session, live.wg_id)
    originals = {f"{_post_key(live)}:ch{ch.id}" for ch, _ in channels}
    q = select(OutboxMessage.key).where(col(OutboxMessage.key).in_(originals))
    posted = set((await session.exec(q)).all())
    made = 0
    for ch, dest in channels:
        original = f"{_post_key(live)}:ch{ch.id}"
        made += await enqueue(
            session,
            key=f"{key}:ch{ch.id}" if original in posted else original,
            destination=dest,
            reply=reply,
            now=now,
            wg_id=live.wg_id,
            edit_of=original if original in posted else None,
        )
    return made


async def queue_changed(session: AsyncSession, live: LiveSession, now: datetime) -> None:
    """Make sure an edit showing this change goes out, within one window, whatever else is pending.

    The window's job is looked up `FOR UPDATE` (PostgreSQL): while this transaction holds it, the
    engine's claim (`SKIP LOCKED`) passes it by, so the job cannot read the queue before this change
    commits. A job already running or done cannot show the change: then the next window's job
    carries it. (SQLite serialises writing transactions, which gives the same order.)"""
    step = int(EDIT_EVERY.total_seconds())
    window = int(now.timestamp()) // step + 1
    for w in range(window, window + 5):
        key = f"live:{live.id}:queue-edit:{w}"
        q = select(ScheduledJob.status).where(col(ScheduledJob.key) == key).with_for_update()
        status = (await session.exec(q)).first()
        if status == "pending":
            return
        if status is None:
            inserted = await schedule(
                session,
                kind="live.queue.refresh",
                key=key,
                due_at=datetime.fromtimestamp(w * step, UTC),
                now=now,
                wg_id=live.wg_id,
                ref=f"live-queue:{live.id}",
                payload={"session_id": live.id},
            )
            if inserted:
                return
            # another transaction inserted it meanwhile: look again (now committed), under the lock


@job_handler("live.queue.refresh", grace=False)
async def refresh_job(ctx: JobContext) -> None:
    # locked: `live end` (which updates this row) and this job run one after the other, so the final
    # edit of `live end` is never followed by a job's edit of the running state
    live = await ctx.session.get(LiveSession, ctx.payload["session_id"], with_for_update=True)
    if live is None or live.active_wg_id is None:
        raise Skip("the live session has ended", status="cancelled")
    ctx.enqueued += await edit_queue(ctx.session, live, ctx.now, key=f"job:{ctx.job.key}")
