"""Action items `A<n>`: what someone is to do, gathered from thread summaries and live sessions.

Sources:
- a thread summary (bot/services/summaries.py): its `action_items`, stored when the summary is. The
  summary speaks in pseudonyms (`Person-2`) and so does the stored item; the pseudonyms of members
  are mapped to member ids from the transcript of that request (`Transcript.members`), which never
  goes to the model. Re-summarizing a thread matches its items by `key` (the text with people as
  member ids, and the owners): an item still there is kept (same A<n>), one no longer there is
  closed as superseded.
- a live session's minutes (bot/services/live_minutes.py): questions and pause reactions that commit
  someone ("action: …", "I'll …", "we will …"), at `/wg live end`. The owner is the speaker when
  they commit themselves ("I'll", "I will"; never for an anonymous question), nobody otherwise.

Names are rendered at read time from the member ids: the current display name, "a former member"
after erasure, and nothing for an owner who opted out of AI summaries (for items from summaries).
An item is closed with `/wg todo done A<n>` (an owner or a convener) and reopened with `/wg todo
reopen A<n>`. The digest lists open items (deduplicated, with their source and age), `/wg todo`
the speaker's own, the white paper all of them; cached thread items go in the retention purge.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import privacy, whitepaper
from bot.digest.sections import Period, Section, quote, section
from bot.errors import Forbidden, UserError
from bot.mentions import neutralize
from bot.purge import purger
from bot.summary_schema import SummaryDoc
from bot.timefmt import fmt_date
from bot.transcript import PSEUDONYM
from storage.db import dialect_insert
from storage.models import (
    ActionItem,
    LivePause,
    LiveQuestion,
    LiveReaction,
    LiveSession,
    Meeting,
    Member,
    Sequence,
    ThreadSummary,
    WorkingGroup,
)

FORMER = "a former member"
#: lines of the digest's section before "and N more"
MAX_DIGEST_ITEMS = 15
_MARKER = re.compile(r"^\s*(action( item)?|todo|to-do)\s*[:\-]\s*", re.I)
_FIRST_PERSON = re.compile(r"\b(I'?ll|I will|I am going to|I'm going to)\b", re.I)
_ID = re.compile(r"^A(\d{1,6})$", re.I)
#: "open at now" includes what was recorded at this very instant
_EPSILON = timedelta(seconds=1)


# ---------------------------------------------------------------- storing


def item_key(text: str, owners: Iterable[int], people: dict[str, int]) -> str:
    """Same work, same key: case, punctuation and spacing aside, with people as member ids (so the
    pseudonyms of two summaries of one thread compare equal) and the owners."""
    flat = PSEUDONYM.sub(lambda m: f" m{people[m.group(0)]} " if m.group(0) in people else " someone ", text)
    words = " ".join(re.findall(r"\w+", flat.casefold()))
    return hashlib.sha256(f"{words}|{','.join(map(str, sorted(set(owners))))}".encode()).hexdigest()[:40]


async def next_number(session: AsyncSession, wg_id: int) -> int:
    stmt = (
        dialect_insert(session, Sequence)
        .values(wg_id=wg_id, kind="A", value=1)
        .on_conflict_do_update(index_elements=["wg_id", "kind"], set_={"value": Sequence.value + 1})
        .returning(col(Sequence.value))
    )
    return int((await session.exec(stmt)).scalar_one())


def thread_ref(platform: str, channel_id: str, thread_id: str) -> str:
    return f"thread:{platform}:{channel_id}:{thread_id}"[:240]


async def sync_thread_items(
    session: AsyncSession,
    wg_id: int,
    place: tuple[str, str, str],
    doc: SummaryDoc,
    *,
    members: dict[str, int],
    links: dict[str, str],
    now: datetime,
) -> None:
    """Store a new summary's action items for its thread (see the module docstring)."""
    platform, channel_id, thread_id = place
    ref = thread_ref(platform, channel_id, thread_id)
    existing = list(
        (await session.exec(select(ActionItem).where(ActionItem.wg_id == wg_id, ActionItem.source_ref == ref))).all()
    )
    by_key = {it.key: it for it in existing}
    seen: set[str] = set()
    for a in doc.action_items:
        text = " ".join(a.text.split())[:500]
        if not text:
            continue
        owner = " ".join((a.owner or "").split())[:200] or None
        named = [m.group(0) for m in PSEUDONYM.finditer(f"{text} {owner or ''}")]
        people = {p: members[p] for p in named if p in members}
        owners = list(
            dict.fromkeys(people[m.group(0)] for m in PSEUDONYM.finditer(owner or "") if m.group(0) in people)
        )
        key = item_key(text, owners, people)
        if key in seen:
            continue
        seen.add(key)
        link = next((links[s] for s in a.sources if s in links), None)
        due = " ".join((a.due or "").split())[:100] or None
        it = by_key.get(key)
        if it is not None:
            it.text, it.owner, it.people, it.due, it.link = text, owner, people, due, (link or "")[:500] or it.link
            if it.closed == "superseded":
                it.closed, it.closed_at, it.closed_by = None, None, None
            session.add(it)
            continue
        session.add(
            ActionItem(
                wg_id=wg_id,
                number=await next_number(session, wg_id),
                source="thread",
                source_ref=ref,
                platform=platform,
                link=(link or "")[:500] or None,
                text=text,
                owner=owner,
                owners=owners,
                people=people,
                due=due,
                key=key,
                created_at=now,
            )
        )
    for it in existing:
        if it.key not in seen and it.closed is None:
            it.closed, it.closed_at = "superseded", now
            session.add(it)


async def record_live_items(session: AsyncSession, live: LiveSession, now: datetime) -> int:
    """At `/wg live end`: the session's questions and reactions that commit someone become items."""
    from bot.services.live_minutes import _ACTION, _DECISION

    said: list[tuple[str, int | None, str | None]] = []
    for q in (
        await session.exec(
            select(LiveQuestion).where(LiveQuestion.session_id == live.id).order_by(col(LiveQuestion.id))
        )
    ).all():
        # an anonymous question: no owner, no platform (either could name its asker)
        said.append((q.text, None, None) if q.anonymous else (q.text, q.member_id, q.platform))
    rows = await session.exec(
        select(LiveReaction)
        .join(LivePause, col(LivePause.id) == col(LiveReaction.pause_id))
        .where(LivePause.session_id == live.id)
        .order_by(col(LiveReaction.id))
    )
    said += [(r.text, r.member_id, r.platform) for r in rows.all()]
    ref = f"live:{live.id}"
    known = set((await session.exec(select(ActionItem.key).where(ActionItem.source_ref == ref))).all())
    made = 0
    for text, speaker, platform in said:
        if not _ACTION.search(text) or _DECISION.search(text):
            continue
        text = " ".join(_MARKER.sub("", text).split())[:500]
        if not text:
            continue
        owners = [speaker] if speaker is not None and _FIRST_PERSON.search(text) else []
        key = item_key(text, owners, {})
        if key in known:
            continue
        known.add(key)
        session.add(
            ActionItem(
                wg_id=live.wg_id,
                number=await next_number(session, live.wg_id),
                source="meeting",
                source_ref=ref,
                meeting_id=live.meeting_id,
                platform=platform,
                text=text,
                owners=owners,
                key=key,
                created_at=now,
            )
        )
        made += 1
    return made


# ---------------------------------------------------------------- reading


@dataclass
class Shown:
    """One open item as people read it (names resolved now)."""

    item: ActionItem
    text: str
    owner: str | None
    source: str
    also: int = 0


def _person(m: Member | None, *, ai: bool) -> str | None:
    if m is None or m.erased_at is not None:
        return FORMER
    if ai and m.ai_opt_out:
        return None
    return m.display_name


def _names(template: str, people: dict[str, int], members: dict[int, Member], *, ai: bool) -> str:
    def one(match: re.Match[str]) -> str:
        member_id = people.get(match.group(0))
        if member_id is None:
            return "someone"
        return _person(members.get(member_id), ai=ai) or "someone"

    return PSEUDONYM.sub(one, template)


async def members_of(session: AsyncSession, items: Iterable[ActionItem]) -> dict[int, Member]:
    ids = {i for it in items for i in (*it.owners, *it.people.values())}
    if not ids:
        return {}
    rows = (await session.exec(select(Member).where(col(Member.id).in_(ids)))).all()
    return {m.id: m for m in rows if m.id is not None}


async def meetings_of(session: AsyncSession, items: Iterable[ActionItem]) -> dict[int, Meeting]:
    ids = {it.meeting_id for it in items if it.meeting_id is not None}
    if not ids:
        return {}
    return {m.id: m for m in (await session.exec(select(Meeting).where(col(Meeting.id).in_(ids)))).all() if m.id}


def shown(item: ActionItem, members: dict[int, Member], meetings: dict[int, Meeting]) -> Shown:
    ai = item.source == "thread"
    text = neutralize(_names(item.text, item.people, members, ai=ai))
    owner: str | None
    if item.owner is not None:
        single = PSEUDONYM.fullmatch(item.owner.strip())
        if single is not None and single.group(0) in item.people:
            owner = _person(members.get(item.people[single.group(0)]), ai=ai)
        else:
            owner = _names(item.owner, item.people, members, ai=ai)
    elif item.owners:
        names = [n for n in (_person(members.get(i), ai=ai) for i in item.owners) if n]
        owner = ", ".join(names) or None
    else:
        owner = None
    if item.source == "meeting":
        m = meetings.get(item.meeting_id or 0)
        source = f"M{m.number} “{m.title}” live session" if m is not None else "a live session"
    else:
        source = item.link or f"a {item.platform or 'chat'} thread"
    return Shown(item, text, neutralize(owner) if owner else None, source)


def dedupe(items: list[ActionItem], members: dict[int, Member], meetings: dict[int, Meeting]) -> list[Shown]:
    """Oldest first; the same work from several sources once (with how many others said it too)."""
    out: dict[str, Shown] = {}
    for it in sorted(items, key=lambda i: (i.created_at, i.number)):
        if it.key in out:
            out[it.key].also += 1
        else:
            out[it.key] = shown(it, members, meetings)
    return list(out.values())


def age(since: datetime, now: datetime) -> str:
    days = (now - since).days
    return "new" if days < 1 else f"{days} day{'s' if days != 1 else ''} open"


def line(s: Shown, tz: str, now: datetime) -> str:
    who = f" — {s.owner}" if s.owner else ""
    due = f", due {s.item.due}" if s.item.due else ""
    also = f"; also in {s.also} other source{'s' if s.also != 1 else ''}" if s.also else ""
    when = f"since {fmt_date(s.item.created_at, tz)}, {age(s.item.created_at, now)}"
    return f"A{s.item.number} {quote(s.text)}{who}{due} ({s.source}, {when}{also})"


async def open_items(session: AsyncSession, wg_id: int, at: datetime) -> list[ActionItem]:
    """Items that existed and were still open at `at`."""
    rows = await session.exec(
        select(ActionItem)
        .where(ActionItem.wg_id == wg_id, col(ActionItem.created_at) < at)
        .order_by(col(ActionItem.created_at), col(ActionItem.number))
    )
    return [it for it in rows.all() if it.closed_at is None or it.closed_at >= at]


@section(55, "action items")
async def action_items_section(session: AsyncSession, wg: WorkingGroup, period: Period) -> Section | None:
    assert wg.id is not None
    items = await open_items(session, wg.id, period.end)
    if not items:
        return None
    found = dedupe(items, await members_of(session, items), await meetings_of(session, items))
    new = any(period.start <= s.item.created_at for s in found)

    def lines(tz: str) -> list[str]:
        out = [line(s, tz, period.now) for s in found[:MAX_DIGEST_ITEMS]]
        if len(found) > MAX_DIGEST_ITEMS:
            out.append(f"…and {len(found) - MAX_DIGEST_ITEMS} more (/wg todo shows yours).")
        return out

    return Section("Open action items", lines, activity=new)


async def mine(session: AsyncSession, wg_id: int, member_id: int, now: datetime) -> list[Shown]:
    items = [it for it in await open_items(session, wg_id, now + _EPSILON) if member_id in it.owners]
    return dedupe(items, await members_of(session, items), await meetings_of(session, items))


async def todo_lines(session: AsyncSession, wg_id: int, member_id: int, tz: str, now: datetime) -> list[str]:
    return [f"{line(s, tz, now)}: /wg todo done A{s.item.number}" for s in await mine(session, wg_id, member_id, now)]


async def close(session: AsyncSession, wg_id: int, ref: str, actor: Member, now: datetime, *, done: bool) -> str:
    m = _ID.match(ref.strip())
    if m is None:
        raise UserError(f"`{ref[:20]}` is not an action item; they look like A3.", "/wg todo [done|reopen A<n>]")
    number = int(m.group(1))
    item = (
        await session.exec(select(ActionItem).where(ActionItem.wg_id == wg_id, ActionItem.number == number))
    ).first()
    if item is None:
        raise UserError(f"There is no action item A{number} in this group.")
    if actor.id not in item.owners and actor.role != "convener":
        raise Forbidden(f"Only an owner of A{number} or a convener can mark it {'done' if done else 'open'}.")
    if done and item.closed == "done":
        raise UserError(f"A{number} is already done.")
    if not done and item.closed is None:
        raise UserError(f"A{number} is open already.")
    item.closed, item.closed_at, item.closed_by = ("done", now, actor.id) if done else (None, None, None)
    session.add(item)
    members = await members_of(session, [item])
    text = quote(shown(item, members, {}).text)
    return f"A{number} {text}: {'done' if done else 'open again'}."


# ---------------------------------------------------------------- white paper, data rights, retention


async def whitepaper_items(session: AsyncSession, wg: WorkingGroup) -> list[whitepaper.Block]:
    rows = list(
        (
            await session.exec(
                select(ActionItem)
                .where(
                    ActionItem.wg_id == wg.id,
                    or_(col(ActionItem.closed).is_(None), col(ActionItem.closed) != "superseded"),
                )
                .order_by(col(ActionItem.number))
            )
        ).all()
    )
    if not rows:
        return []
    members, meetings = await members_of(session, rows), await meetings_of(session, rows)
    open_, done = [], []
    for s in dedupe([r for r in rows if r.closed is None], members, meetings):
        who = f" — {s.owner}" if s.owner else ""
        due = f", due {s.item.due}" if s.item.due else ""
        open_.append(f"A{s.item.number} {s.text}{who}{due} ({s.source}, {fmt_date(s.item.created_at, 'UTC')})")
    for r in rows:
        if r.closed == "done" and r.closed_at is not None:
            s = shown(r, members, meetings)
            done.append(
                f"A{r.number} {s.text}{f' — {s.owner}' if s.owner else ''} (done {fmt_date(r.closed_at, 'UTC')})"
            )
    out = [whitepaper.Block("h2", "Action items")]
    if open_:
        out += [whitepaper.Block("h3", "Open"), whitepaper.Block("ul", items=open_)]
    if done:
        out += [whitepaper.Block("h3", "Done"), whitepaper.Block("ul", items=done)]
    return out


async def whitepaper_ai_parts(session: AsyncSession, wg: WorkingGroup) -> list[str]:
    """For the methods note: which models wrote the summaries the listed thread items come from."""
    refs = set(
        (
            await session.exec(
                select(ActionItem.source_ref).where(
                    ActionItem.wg_id == wg.id,
                    ActionItem.source == "thread",
                    or_(col(ActionItem.closed).is_(None), col(ActionItem.closed) != "superseded"),
                )
            )
        ).all()
    )
    if not refs:
        return []
    rows = (
        await session.exec(
            select(
                ThreadSummary.platform, ThreadSummary.channel_id, ThreadSummary.thread_id, ThreadSummary.model
            ).where(ThreadSummary.wg_id == wg.id, ThreadSummary.engine == "llm")
        )
    ).all()
    models = sorted({model or "an AI model" for p, c, t, model in rows if thread_ref(p, c, t) in refs})
    if not models:
        return []
    return [f"the action items taken from thread summaries (by {', '.join(models)})"]


async def export_items(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    rows = (
        await session.exec(select(ActionItem).where(ActionItem.wg_id == member.wg_id).order_by(col(ActionItem.number)))
    ).all()
    mine_ = [r for r in rows if member.id in r.owners]
    members, meetings = await members_of(session, mine_), await meetings_of(session, mine_)
    out = []
    for r in mine_:
        s = shown(r, members, meetings)
        out.append(
            {
                "id": f"A{r.number}",
                "text": s.text,
                "due": r.due,
                "source": s.source,
                "created_at": r.created_at.isoformat(),
                "closed": r.closed,
            }
        )
    return out


@purger("action items from threads")
async def purge_thread_items(session: AsyncSession, cutoff: datetime) -> int:
    """Items taken from cached thread summaries go with them (live sessions' stay with the minutes)."""
    result = await session.exec(
        delete(ActionItem).where(col(ActionItem.source) == "thread", col(ActionItem.created_at) < cutoff)
    )
    return int(result.rowcount or 0)


if whitepaper_items not in whitepaper.EXTRA_SECTIONS:
    whitepaper.EXTRA_SECTIONS.append(whitepaper_items)
if whitepaper_ai_parts not in whitepaper.AI_PARTS:
    whitepaper.AI_PARTS.append(whitepaper_ai_parts)
privacy.EXPORTERS["action_items"] = export_items
