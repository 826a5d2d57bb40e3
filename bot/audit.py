"""`wgbot audit verify`: recompute the ballot log of every vote (or one) and report what is broken."""

from __future__ import annotations

from sqlmodel import col, select

from bot.ballots import verify_vote
from storage.db import Database
from storage.models import Vote, WorkingGroup


async def verify_all(db: Database, vote_ref: str | None = None, wg_name: str | None = None) -> list[tuple[bool, str]]:
    """(ok, line) per vote; a broken vote's line names its first broken entry. Raises ValueError for a
    reference that names no vote."""
    number: int | None = None
    if vote_ref is not None:
        ref = vote_ref.strip().lstrip("#").upper()
        if not (ref.startswith("V") and ref[1:].isdigit()):
            raise ValueError(f"`{vote_ref}` is not a vote id; they look like V1, V2, …")
        number = int(ref[1:])
    out: list[tuple[bool, str]] = []
    async with db.session() as s:
        q = select(Vote, WorkingGroup).where(col(Vote.wg_id) == col(WorkingGroup.id))
        if number is not None:
            q = q.where(Vote.number == number)
        if wg_name is not None:
            q = q.where(WorkingGroup.name == wg_name)
        rows = (await s.exec(q.order_by(col(WorkingGroup.id), col(Vote.number)))).all()
        if not rows and (number is not None or wg_name is not None):
            raise ValueError(
                "No such vote" + (f" {vote_ref}" if vote_ref else "") + (f" in {wg_name}" if wg_name else "")
            )
        for vote, wg in rows:
            broken = await verify_vote(s, vote)
            if broken is None:
                out.append((True, f"{wg.name} V{vote.number}: ok"))
            else:
                out.append((False, f"{wg.name} {broken}"))
    return out
