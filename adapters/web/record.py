"""What the web record shows, read from the database in a few queries: the decision register,
meetings in the reader's zone, and who may not appear (erased members).

Everything here is plain data for the templates; escaping is the templates' job (autoescape on)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice, takewhile
from zoneinfo import ZoneInfo

from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import recurrence
from bot.services.meetings import series_start_local, span_text
from bot.timefmt import fmt, fmt_date
from storage.models import Digest, Meeting, Member, Proposal, ProposalRevision, WebAccess, WorkingGroup

UPCOMING_DAYS = 90
PAST_DAYS = 180
PER_SERIES = 6
#: proposals per page of the register
PAGE = 200


@dataclass
class ProposalRow:
    number: int
    title: str
    status: str
    theme: str | None
    author: str | None
    created: str
    updated: str


@dataclass
class Occurrence:
    number: int
    title: str
    when: str
    duration: str
    repeats: str | None
    link: str | None
    cancelled: bool
    at: datetime


@dataclass
class Meetings:
    upcoming: list[Occurrence] = field(default_factory=list)
    past: list[Occurrence] = field(default_factory=list)


def _name(member: Member | None) -> str | None:
    """A member's name, or None for nobody or an erased member (who never appears)."""
    if member is None or member.erased_at is not None:
        return None
    return member.display_name


@dataclass
class Register:
    rows: list[ProposalRow]
    total: int
    page: int
    pages: int


async def proposals(
    session: AsyncSession, wg_id: int, tz: str, status: str | None, *, page: int = 1, per_page: int = PAGE
) -> Register:
    """One page of the register, newest first: only the columns it shows (no bodies, no ORM
    objects), an erased author as nobody."""
    author = aliased(Member)
    where = [col(Proposal.wg_id) == wg_id] + ([col(Proposal.status) == status] if status else [])
    total = int((await session.exec(select(func.count()).select_from(Proposal).where(*where))).one())
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    q = (
        sa_select(
            col(Proposal.number),
            col(Proposal.title),
            col(Proposal.status),
            col(Proposal.theme),
            col(Proposal.created_at),
            col(author.display_name),
            col(author.erased_at).is_(None),
        )
        .outerjoin(author, col(author.id) == col(Proposal.author_id))
        .where(*where)
        .order_by(col(Proposal.number).desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = (await session.exec(q)).all()  # type: ignore[call-overload]  # a plain (7-column) select
    zone = ZoneInfo(tz)
    out = [
        ProposalRow(
            number=number,
            title=title,
            status=state,
            theme=theme,
            author=name if name is not None and present else None,
            created=_date(created, zone),
            updated="",
        )
        for number, title, state, theme, created, name, present in rows
    ]
    return Register(out, total, page, pages)


def _date(at: datetime, zone: ZoneInfo) -> str:
    d = at.astimezone(zone)
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class ProposalDetail:
    row: ProposalRow
    body: str
    history: list[tuple[int, str, str, str | None]]


async def proposal(session: AsyncSession, wg_id: int, number: int, tz: str) -> ProposalDetail | None:
    p = (await session.exec(select(Proposal).where(Proposal.wg_id == wg_id, Proposal.number == number))).first()
    if p is None:
        return None
    a = await session.get(Member, p.author_id) if p.author_id else None
    editor = aliased(Member)
    revs = (
        await session.exec(
            select(ProposalRevision, editor)
            .outerjoin(editor, col(editor.id) == col(ProposalRevision.editor_id))
            .where(ProposalRevision.proposal_id == p.id)
            .order_by(col(ProposalRevision.revision))
        )
    ).all()
    row = ProposalRow(
        p.number, p.title, p.status, p.theme, _name(a), fmt_date(p.created_at, tz), fmt_date(p.updated_at, tz)
    )
    history = [(r.revision, fmt(r.created_at, tz), r.title, _name(e)) for r, e in revs]
    return ProposalDetail(row=row, body=p.body, history=history)


def _occurrence(m: Meeting, at: datetime, tz: str) -> Occurrence:
    return Occurrence(
        number=m.number,
        title=m.title,
        when=fmt(at, tz),
        duration=span_text(m.duration_minutes),
        repeats=recurrence.describe(m.rrule) if m.rrule else None,
        link=m.link if m.link and m.link.startswith(("https://", "http://")) else None,
        cancelled=m.status == "cancelled",
        at=at,
    )


async def meetings(session: AsyncSession, wg_id: int, tz: str, now: datetime) -> Meetings:
    """Occurrences from PAST_DAYS ago to UPCOMING_DAYS ahead (a series shows at most PER_SERIES each way)."""
    rows = (await session.exec(select(Meeting).where(Meeting.wg_id == wg_id).order_by(col(Meeting.number)))).all()
    out = Meetings()
    since, until = now - timedelta(days=PAST_DAYS), now + timedelta(days=UPCOMING_DAYS)
    for m in rows:
        if not m.rrule:
            starts = [m.start_at]
        else:
            series = recurrence.occurrences(m.rrule, series_start_local(m), m.timezone, since - timedelta(seconds=1))
            starts = list(islice(takewhile(lambda s: s <= until, series), 400))
        past = [s for s in starts if s + timedelta(minutes=m.duration_minutes) <= now and s >= since]
        coming = [s for s in starts if s + timedelta(minutes=m.duration_minutes) > now and s <= until]
        if m.status == "cancelled":
            past, coming = [], coming[:1]
        out.past += [_occurrence(m, s, tz) for s in past[-PER_SERIES:]]
        out.upcoming += [_occurrence(m, s, tz) for s in coming[:PER_SERIES]]
    out.upcoming.sort(key=lambda o: o.at)
    out.past.sort(key=lambda o: o.at, reverse=True)
    return out


async def find_group(
    session: AsyncSession, *, token: str | None = None, public_id: int | None = None, feed_token: str | None = None
) -> tuple[WorkingGroup, WebAccess] | None:
    """The group a record address names, or None (an unknown, private or rotated address alike).

    `feed_token` finds the group only for its calendar feed (the caller serves nothing else)."""
    q = select(WorkingGroup, WebAccess).join(WebAccess, col(WebAccess.wg_id) == col(WorkingGroup.id))
    if token is not None:
        q = q.where(WebAccess.token == token)
    elif feed_token is not None:
        q = q.where(WebAccess.feed_token == feed_token)
    elif public_id is not None:
        q = q.where(WebAccess.wg_id == public_id, col(WebAccess.public).is_(True))
    else:
        return None
    row = (await session.exec(q)).first()
    return (row[0], row[1]) if row else None


@dataclass
class DigestRow:
    week: str
    sent: str
    late: bool
    quiet: bool
    manual: bool


async def digests(session: AsyncSession, wg_id: int, tz: str) -> list[DigestRow]:
    """The archive's list: only the columns it shows (not each digest's full text)."""
    q = (
        sa_select(col(Digest.week), col(Digest.created_at), col(Digest.late), col(Digest.quiet), col(Digest.trigger))
        .where(col(Digest.wg_id) == wg_id)
        .order_by(col(Digest.week).desc(), col(Digest.id).desc())
    )
    rows = (await session.exec(q)).all()  # type: ignore[call-overload]  # a plain (5-column) select
    return [DigestRow(week, fmt(at, tz), late, quiet, trigger == "manual") for week, at, late, quiet, trigger in rows]


async def digest_texts(session: AsyncSession, wg_id: int, week: str) -> list[str]:
    """The digests of one ISO week as they were sent (rendered in the group's zone then)."""
    rows = (
        await session.exec(select(Digest).where(Digest.wg_id == wg_id, Digest.week == week).order_by(col(Digest.id)))
    ).all()
    return [d.text for d in rows]


async def has_proposals(session: AsyncSession, wg_id: int) -> bool:
    return (await session.exec(select(Proposal.id).where(Proposal.wg_id == wg_id).limit(1))).first() is not None
