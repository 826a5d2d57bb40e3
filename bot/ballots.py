"""The ballot log: append-only, one chain per vote, each entry carrying the hash of the one before.

Entries: `open` (question, method, options and the frozen roll), `ballot` (a voter's new or changed
ballot), `withdraw` (a ballot moved away when `/wg link` merged two members), `close` (the outcome).
Voters appear only as pseudonyms (a hash of the vote's salt and the member id), so the log itself
names nobody, even for named votes. A voter's receipt is the start of their entry's hash.

`verify_vote` recomputes the chain and replays it: the current ballots must be exactly what the log
says, and the vote's question and options what its `open` entry says. The first entry that does not
match is reported. Appending is serialised by the caller holding the vote's row lock.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Ballot, BallotLogEntry, Vote

GENESIS = "0" * 64


def pseudonym(salt: str, member_id: int) -> str:
    return hashlib.sha256(f"{salt}:{member_id}".encode()).hexdigest()[:32]


def entry_hash(e: BallotLogEntry) -> str:
    body = {
        "vote": e.vote_id,
        "seq": e.seq,
        "kind": e.kind,
        "voter": e.voter,
        "data": e.data,
        "at": e.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "prev": e.prev_hash,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def receipt(e: BallotLogEntry) -> str:
    return f"{e.hash[:4]}-{e.hash[4:8]}".upper()


# the log's last entry, one row by index; built once (every ballot runs it: see storage.db.per_dialect)
_LAST_ENTRY = (
    select(BallotLogEntry.seq, BallotLogEntry.hash)
    .where(BallotLogEntry.vote_id == bindparam("vote_id"))
    .order_by(col(BallotLogEntry.seq).desc())
    .limit(1)
)


async def append(
    session: AsyncSession, vote: Vote, kind: str, now: datetime, *, voter: str | None = None, data: dict[str, Any]
) -> BallotLogEntry:
    entry = await next_entry(session, vote, kind, now, voter=voter, data=data)
    session.add(entry)
    await session.flush()
    return entry


async def next_entry(
    session: AsyncSession, vote: Vote, kind: str, now: datetime, *, voter: str | None = None, data: dict[str, Any]
) -> BallotLogEntry:
    """The entry that would come next in the vote's log, hashed but not yet written (the caller holds the
    vote's row lock until it is)."""
    # LIMIT 1: `.first()` alone still fetched (and built an entity for) every entry of the vote's log,
    # so each ballot cost more than the one before (a 50-member vote changed 20 times: 1,000 rows a ballot)
    last = (await session.exec(_LAST_ENTRY, params={"vote_id": vote.id})).first()
    entry = BallotLogEntry(
        vote_id=vote.id,  # type: ignore[arg-type]
        seq=(last[0] + 1) if last else 1,
        kind=kind,
        voter=voter,
        data=data,
        at=now,
        prev_hash=last[1] if last else GENESIS,
        hash="",
    )
    entry.hash = entry_hash(entry)
    return entry


@dataclass(frozen=True)
class Broken:
    vote: int
    seq: int | None
    reason: str

    def __str__(self) -> str:
        where = f"V{self.vote} entry #{self.seq}" if self.seq is not None else f"V{self.vote}"
        return f"{where}: {self.reason}"


def check_chain(vote: Vote, entries: list[BallotLogEntry], ballots: list[Ballot]) -> Broken | None:
    """The first broken link of one vote's log, or None when chain, roll and ballots all agree."""
    prev = GENESIS
    state: dict[str, BallotLogEntry] = {}
    for expected_seq, e in enumerate(entries, 1):
        if e.seq != expected_seq:
            return Broken(vote.number, e.seq, f"entry #{expected_seq} is missing")
        if e.prev_hash != prev:
            return Broken(vote.number, e.seq, "does not chain to the entry before it")
        if entry_hash(e) != e.hash:
            return Broken(vote.number, e.seq, "its content does not match its hash (changed after it was written)")
        prev = e.hash
        if e.kind == "open":
            if e.data.get("options") != vote.options or e.data.get("method") != vote.method:
                return Broken(vote.number, e.seq, "the vote's method or options differ from those it opened with")
        elif e.kind == "ballot" and e.voter:
            state[e.voter] = e
        elif e.kind == "withdraw" and e.voter:
            state.pop(e.voter, None)
    if not entries:
        return Broken(vote.number, None, "the vote has no ballot log")
    seen: set[str] = set()
    for b in ballots:
        voter = pseudonym(vote.salt, b.member_id)
        logged = state.get(voter)
        if logged is None or logged.seq != b.log_seq:
            return Broken(vote.number, b.log_seq, "a counted ballot is not the voter's latest entry in the log")
        if logged.data.get("choice") != b.choice or logged.data.get("reason") != b.reason:
            return Broken(vote.number, logged.seq, "the counted ballot differs from what the log recorded")
        seen.add(voter)
    missing = [e for v, e in state.items() if v not in seen]
    if missing:
        first = min(missing, key=lambda e: e.seq)
        return Broken(vote.number, first.seq, "a logged ballot is missing from the counted ballots")
    return None


async def verify_vote(session: AsyncSession, vote: Vote) -> Broken | None:
    entries = list(
        (
            await session.exec(
                select(BallotLogEntry).where(BallotLogEntry.vote_id == vote.id).order_by(col(BallotLogEntry.seq))
            )
        ).all()
    )
    ballots = list((await session.exec(select(Ballot).where(Ballot.vote_id == vote.id))).all())
    return check_chain(vote, entries, ballots)
