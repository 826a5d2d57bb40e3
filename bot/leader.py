"""One engine leader at a time among the `wgbot run` processes that share a database.

Why: the scheduling engine's claims (`bot.claims`) already make every job run once however many
processes poll, but N processes polling the same table N times as often is waste, and it makes the
logs of a deployment hard to read. So one process — the leader — runs the engine (reminders, vote
closings, digests, check-ins); the others stand by and take over when it dies. Claims stay the
safety net: if two processes ever both believe they lead (a network partition, a stalled leader
whose connection the server has not yet dropped), leases and `FOR UPDATE SKIP LOCKED` still keep
every job to one execution. Every process keeps running its outbox dispatcher (claims keep that
correct too), so what a process records goes out at once rather than at the leader's next poll.

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) held on a dedicated
  connection, outside the pool. The server releases it when that connection ends — the process
  exiting or being killed — so a standby, retrying every `retry` seconds, takes over within a few
  seconds (well inside 30). The leader checks its connection on the same period and steps down the
  moment it fails (a database restart), then competes again.
- SQLite (one host): an exclusive `flock` on `<database file>.leader`, which the kernel releases when
  the process dies. Where `fcntl` does not exist (Windows) every process leads: run one process.

Leadership changes are logged (`engine leadership acquired` / `lost`), and `/healthz` reports
`"engine": "leader"` or `"standby"`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from storage.db import Database, lock_key

log = logging.getLogger(__name__)


class Leadership:
    """Competes for the engine lock in the background (`run()`); `is_leader` says who won."""

    def __init__(
        self,
        db: Database,
        *,
        worker_id: str,
        name: str = "wgbot-engine",
        retry: float = 5.0,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self.db = db
        self.worker_id = worker_id
        self.name = name
        self.retry = retry
        self.on_change = on_change or (lambda _leader: None)
        self.is_leader = False
        #: set whenever leadership changes; tests wait on it
        self.changed = asyncio.Event()
        self._engine: AsyncEngine | None = None
        self._conn: AsyncConnection | None = None
        self._file: IO[bytes] | None = None

    @property
    def role(self) -> str:
        return "leader" if self.is_leader else "standby"

    def _set(self, leader: bool, reason: str) -> None:
        if leader == self.is_leader:
            return
        self.is_leader = leader
        if leader:
            log.info("engine leadership acquired by worker %s (%s)", self.worker_id, reason)
        else:
            log.warning("engine leadership lost by worker %s (%s); standing by", self.worker_id, reason)
        self.changed.set()
        self.on_change(leader)

    async def attempt(self) -> bool:
        """One round: keep or check leadership, or try to take it. Never raises for a database outage."""
        try:
            if self.db.is_sqlite:
                self._attempt_file()
            else:
                await self._attempt_pg()
        except Exception as exc:  # the database is down or restarting: not leading until it is back
            await self._drop_connection()
            self._set(False, f"database unreachable: {type(exc).__name__}")
        return self.is_leader

    async def run(self) -> None:
        """Compete until cancelled; on cancel (shutdown) the lock is released at once."""
        announced_standby = False
        try:
            while True:
                await self.attempt()
                if not self.is_leader and not announced_standby:
                    log.info("worker %s stands by: another process leads the engine", self.worker_id)
                    announced_standby = True
                if self.is_leader:
                    announced_standby = False
                await asyncio.sleep(self.retry)
        finally:
            await self.release()

    async def release(self) -> None:
        was = self.is_leader
        await self._drop_connection()
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        if was:
            self.is_leader = False
            log.info("engine leadership released by worker %s (shutting down)", self.worker_id)
        if self._engine is not None:
            with contextlib.suppress(Exception):
                await self._engine.dispose()
            self._engine = None

    # ---- PostgreSQL -----------------------------------------------------------------------------

    async def _attempt_pg(self) -> None:
        if self._engine is None:
            # a connection of its own, outside the pool: the lock lives exactly as long as it does
            self._engine = create_async_engine(self.db.url, poolclass=NullPool)
        if self._conn is None:
            self._conn = await asyncio.wait_for(self._engine.connect(), timeout=max(self.retry, 5))
            # autocommit: the session lock must not hang on an open transaction
            await self._conn.execution_options(isolation_level="AUTOCOMMIT")
        conn = self._conn
        if self.is_leader:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), timeout=max(self.retry, 5))
            return
        got = (
            await asyncio.wait_for(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(self.name)}),
                timeout=max(self.retry, 5),
            )
        ).scalar()
        if got:
            self._set(True, "PostgreSQL advisory lock")

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()

    # ---- SQLite ---------------------------------------------------------------------------------

    def _attempt_file(self) -> None:
        if self.is_leader:
            return
        try:
            import fcntl
        except ModuleNotFoundError:  # no flock here: one process per database, and it leads
            self._set(True, "no file locking on this platform: run a single process")
            return
        path = f"{self.db.url.database}.leader"
        handle: IO[bytes] = self._file or open(path, "a+b")  # held for the process's life
        self._file = handle
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        handle.seek(0)
        handle.truncate()
        handle.write(f"{self.worker_id}\n".encode())
        handle.flush()
        os.fsync(handle.fileno())
        self._set(True, f"file lock {os.path.basename(path)}")


def status_fields(leadership: Any) -> dict[str, str]:
    """What /healthz adds: this process's engine role, when it competes for one."""
    return {"engine": leadership.role} if isinstance(leadership, Leadership) else {}
