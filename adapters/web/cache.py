"""A render cache for the group page, invalidated by a per-group change marker.

The group page reads a dozen things (register, votes, meetings, participation, digests); a reader
asking again gets the same HTML unless something changed. What changed is told by the ORM: every
session commit that added, changed or deleted a row the record shows bumps the marker of that row's
group (`wg_id`), as does a Core statement that says so (`storage.db.touched`, e.g. a ballot's
upsert); a row that names no group (a ballot, a check-in answer, an amendment) or a bulk
UPDATE/DELETE on those tables bumps every group's (an epoch). The check is in memory, so it sees the
commits of this process at once; another process's commits (a second shard, an operator's CLI) are
seen within `TTL`, after which an entry is rebuilt anyway. The key also holds the minute (meetings
move from upcoming to past, the footer says when the page was generated), the reader's zone and
filters, the address used and the group's visibility and summaries switch, read fresh on every
request with the group itself (so a rotated link or a private group is never served from here).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from itertools import chain
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from storage.db import TOUCHED
from storage.models import (
    Ballot,
    Channel,
    Checkin,
    CheckinAnswer,
    Digest,
    Meeting,
    Member,
    Proposal,
    ProposalRevision,
    ThreadSummary,
    Vote,
    VoteVoter,
    WebAccess,
    WorkingGroup,
)

#: how long an entry may serve when only another process could have changed the data
TTL = 15.0
#: pages kept (the register's pages × zones × filters of the busiest groups); ~100 KiB each
SIZE = 128
WATCHED: tuple[type, ...] = (
    WorkingGroup,
    WebAccess,
    Channel,
    Member,
    Proposal,
    ProposalRevision,
    Vote,
    VoteVoter,
    Ballot,
    Meeting,
    Checkin,
    CheckinAnswer,
    Digest,
    ThreadSummary,
)
_TABLES = {getattr(m, "__tablename__", "") for m in WATCHED}
_KEY = TOUCHED  # also set by storage.db.touched for Core statements (a ballot's upsert)


class Markers:
    """Per-group change counters, and an epoch for changes whose group is unknown."""

    def __init__(self) -> None:
        self.epoch = 0
        self.groups: dict[int, int] = {}

    def of(self, wg_id: int) -> tuple[int, int]:
        return self.epoch, self.groups.get(wg_id, 0)

    def bump(self, touched: set[int | None]) -> None:
        if None in touched:
            self.epoch += 1
        for wg_id in touched:
            if wg_id is not None:
                self.groups[wg_id] = self.groups.get(wg_id, 0) + 1


MARKERS = Markers()


def _group_of(obj: object) -> int | None:
    if isinstance(obj, WorkingGroup):
        return obj.id
    wg_id = getattr(obj, "wg_id", None)
    return wg_id if isinstance(wg_id, int) else None


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _flush_context: Any) -> None:
    touched: set[int | None] | None = None
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, WATCHED):
            if touched is None:
                touched = session.info.setdefault(_KEY, set())
            touched.add(_group_of(obj))


@event.listens_for(Session, "do_orm_execute")
def _bulk(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _TABLES:
        state.session.info.setdefault(_KEY, set()).add(None)


@event.listens_for(Session, "after_commit")
def _bump(session: Session) -> None:
    touched = session.info.pop(_KEY, None)
    if touched:
        MARKERS.bump(touched)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_KEY, None)


class PageCache:
    """LRU of rendered pages: (marker when the data was read, when, html) per key."""

    def __init__(self, size: int = SIZE, ttl: float = TTL, markers: Markers = MARKERS) -> None:
        self.size, self.ttl, self.markers = size, ttl, markers
        self._entries: OrderedDict[Hashable, tuple[tuple[int, int], float, str]] = OrderedDict()
        self.hits = self.misses = 0

    def get(self, wg_id: int, key: Hashable) -> str | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != self.markers.of(wg_id) or time.monotonic() - entry[1] > self.ttl:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[2]

    def put(self, key: Hashable, marker: tuple[int, int], html: str) -> None:
        """Store a page built from data read after `marker` was taken (a commit in between makes
        the entry stale at once, never wrongly fresh)."""
        self._entries[key] = (marker, time.monotonic(), html)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
