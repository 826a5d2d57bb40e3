"""Members' data rights: everything wgbot holds about a member (export), and erasure.

Erasure keeps the group's record whole and the person out of it: the member row stays (proposals,
amendments and check-in answers point at it) but becomes "a former member" — name, e-mail, time zone,
language, subscriptions and role cleared; identities, link codes and RSVPs deleted; messages still
queued to them dropped and delivered ones addressed to them deleted; their name replaced in the
archived digests. The stakeholder group and region stay: participation statistics and
group-balanced tallies are about groups, not people. Capabilities that hold more (ballots, cached
thread messages) register an `EXPORTERS` entry and an `ERASERS` function: votes unlink ballots
there, so tallies and the ballot log stay as they were.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Checkin,
    CheckinAnswer,
    Digest,
    Identity,
    LinkCode,
    Meeting,
    Member,
    OutboxMessage,
    Proposal,
    ProposalRevision,
    Rsvp,
    WorkingGroup,
)

FORMER = "a former member"
Exporter = Callable[[AsyncSession, Member], Awaitable[Any]]
Eraser = Callable[[AsyncSession, Member, datetime], Awaitable[None]]
EXPORTERS: dict[str, Exporter] = {}
ERASERS: list[Eraser] = []


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat().replace("+00:00", "Z") if dt else None


async def export_member(session: AsyncSession, member: Member, now: datetime) -> dict[str, Any]:
    wg = await session.get(WorkingGroup, member.wg_id)
    idents = (
        await session.exec(select(Identity).where(Identity.member_id == member.id).order_by(col(Identity.id)))
    ).all()
    proposals = (
        await session.exec(select(Proposal).where(Proposal.author_id == member.id).order_by(col(Proposal.number)))
    ).all()
    edits = (
        await session.exec(
            select(Proposal, ProposalRevision)
            .join(Proposal, col(Proposal.id) == col(ProposalRevision.proposal_id))
            .where(ProposalRevision.editor_id == member.id, col(ProposalRevision.revision) > 1)
            .order_by(col(Proposal.number), col(ProposalRevision.revision))
        )
    ).all()
    rsvps = (
        await session.exec(
            select(Meeting, Rsvp)
            .join(Meeting, col(Meeting.id) == col(Rsvp.meeting_id))
            .where(Rsvp.member_id == member.id)
            .order_by(col(Meeting.number))
        )
    ).all()
    answers = (
        await session.exec(
            select(Checkin, CheckinAnswer)
            .join(Checkin, col(Checkin.id) == col(CheckinAnswer.checkin_id))
            .where(CheckinAnswer.member_id == member.id)
            .order_by(col(Checkin.number), col(CheckinAnswer.occurrence))
        )
    ).all()
    data: dict[str, Any] = {
        "exported_at": _iso(now),
        "working_group": wg.name if wg else None,
        "profile": {
            "display_name": member.display_name,
            "stakeholder_group": member.stakeholder_group,
            "region": member.region,
            "timezone": member.timezone,
            "language": member.language,
            "email": member.email,
            "role": member.role,
            "joined_at": _iso(member.joined_at),
            "ai_summaries": "opted out" if member.ai_opt_out else "included",
        },
        "identities": [
            {"platform": i.platform, "user_id": i.user_id, "handle": i.handle, "linked_at": _iso(i.created_at)}
            for i in idents
        ],
        "subscriptions": {"digest_by_dm": member.digest_dm, "digest_by_email": member.digest_email},
        "proposals": [
            {
                "id": f"P{p.number}",
                "title": p.title,
                "body": p.body,
                "theme": p.theme,
                "status": p.status,
                "created_at": _iso(p.created_at),
            }
            for p in proposals
        ],
        "amendments": [
            {
                "proposal": f"P{p.number}",
                "revision": r.revision,
                "title": r.title,
                "body": r.body,
                "created_at": _iso(r.created_at),
            }
            for p, r in edits
        ],
        "rsvps": [{"meeting": f"M{m.number}", "title": m.title, "answer": r.answer} for m, r in rsvps],
        "checkin_answers": [
            {
                "checkin": f"C{c.number}",
                "question": c.question,
                "date": a.occurrence,
                "answer": a.text,
                "answered_at": _iso(a.answered_at),
            }
            for c, a in answers
        ],
    }
    for name, exporter in EXPORTERS.items():
        data[name] = await exporter(session, member)
    return data


def export_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def _scrub(text: str, names: list[str]) -> str:
    for name in names:
        text = re.sub(rf"(?<![\w@]){re.escape(name)}(?!\w)", FORMER, text)
    return text


async def erase_member(session: AsyncSession, member: Member, now: datetime) -> dict[str, int]:
    """Erase in the caller's transaction; returns what was removed, for the confirmation."""
    assert member.id is not None
    idents = (await session.exec(select(Identity).where(Identity.member_id == member.id))).all()
    names = sorted({member.display_name, *(i.handle for i in idents)} - {""}, key=len, reverse=True)
    addresses = [f"dm:{i.user_id}" for i in idents] + ([f"email:{member.email}"] if member.email else [])
    counts: dict[str, int] = {"accounts": len(idents)}
    for hook in ERASERS:  # before identities go: a hook may need them
        await hook(session, member, now)
    if addresses:
        result = await session.exec(
            delete(OutboxMessage).where(
                col(OutboxMessage.address).in_(addresses), col(OutboxMessage.status) != "sending"
            )
        )
        counts["messages"] = int(result.rowcount)
    counts["rsvps"] = int((await session.exec(delete(Rsvp).where(col(Rsvp.member_id) == member.id))).rowcount)
    await session.exec(delete(LinkCode).where(col(LinkCode.member_id) == member.id))
    await session.exec(delete(Identity).where(col(Identity.member_id) == member.id))
    digests = (await session.exec(select(Digest).where(Digest.wg_id == member.wg_id))).all()
    scrubbed = 0
    for d in digests:
        text = _scrub(d.text, names)
        payload = json.loads(_scrub(json.dumps(d.payload, ensure_ascii=False), names))
        if text != d.text:
            d.text, d.payload = text, payload
            session.add(d)
            scrubbed += 1
    counts["archived digests"] = scrubbed
    member.display_name = FORMER
    member.email = None
    member.timezone = "UTC"
    member.language = "en"
    member.role = "member"
    member.digest_dm = member.digest_email = False
    member.erased_at = now
    session.add(member)
    await session.flush()
    return counts


async def sole_convener(session: AsyncSession, member: Member) -> bool:
    if member.role != "convener":
        return False
    others = (
        await session.exec(
            select(Member.id).where(
                Member.wg_id == member.wg_id,
                Member.role == "convener",
                Member.id != member.id,
                col(Member.erased_at).is_(None),
            )
        )
    ).first()
    return others is None


async def find_members(session: AsyncSession, ref: str, wg_name: str | None = None) -> list[Member]:
    """Members matching `ref` (display name, handle, e-mail or platform:user_id), for the operator CLI."""
    text = ref.strip().lstrip("@").lower()
    q = (
        select(Member)
        .join(WorkingGroup, col(WorkingGroup.id) == col(Member.wg_id))
        .where(col(Member.erased_at).is_(None))
    )
    if wg_name:
        q = q.where(col(WorkingGroup.name).ilike(wg_name))
    found: dict[int, Member] = {}
    for m in (await session.exec(q)).all():
        if m.display_name.lower() == text or (m.email or "").lower() == text:
            found[m.id or 0] = m
    platform, _, user_id = text.partition(":")
    ident_q = select(Identity).where(
        or_(col(Identity.handle).ilike(text), (col(Identity.platform) == platform) & (col(Identity.user_id) == user_id))
    )
    for ident in (await session.exec(ident_q)).all():
        owner = await session.get(Member, ident.member_id)
        if owner is not None and owner.erased_at is None:
            wg = await session.get(WorkingGroup, owner.wg_id)
            if not wg_name or (wg and wg.name.lower() == wg_name.lower()):
                found[owner.id or 0] = owner
    return [found[k] for k in sorted(found)]
