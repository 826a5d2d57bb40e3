"""A digest long enough to need splitting on every platform: many proposals with distinct titles."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.clock import Clock
from storage.db import Database
from storage.models import Member, Proposal, ProposalRevision, Sequence, WorkingGroup

WORDS = "resilient verifiable accountable interoperable auditable trustworthy".split()


def long_titles(n: int = 120) -> list[str]:
    return [
        f"Proposal {i:03d} on {WORDS[i % 6]} {WORDS[(i + 2) % 6]} model supply chains and shared evaluation"
        for i in range(n)
    ]


async def add_many_proposals(db: Database, clock: Clock, titles: list[str]) -> None:
    """Proposals made during the past week by the first member (written directly: the digest is under test)."""
    async with db.transaction() as s:
        wg = (await s.exec(select(WorkingGroup))).first()
        author = (await s.exec(select(Member).order_by(Member.id))).first()  # type: ignore[arg-type]
        assert wg is not None and author is not None
        at = clock.now() - timedelta(hours=1)
        for i, title in enumerate(titles, 1):
            p = Proposal(
                wg_id=wg.id, number=i, title=title, body="Body.", author_id=author.id, created_at=at, updated_at=at
            )  # type: ignore[arg-type]
            s.add(p)
            await s.flush()
            s.add(
                ProposalRevision(
                    proposal_id=p.id, revision=1, title=title, body="Body.", editor_id=author.id, created_at=at
                )
            )  # type: ignore[arg-type]
        s.add(Sequence(wg_id=wg.id, kind="P", value=len(titles)))  # type: ignore[arg-type]
