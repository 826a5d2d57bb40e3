"""SQLite through aiosqlite with ONE thread hand-off per statement.

aiosqlite runs each call on the connection's own thread, and SQLAlchemy's adapter makes four calls
per statement (open a cursor, execute, fetch, close): four hand-offs between the event loop and that
thread, each a wake-up of the other thread and a GIL exchange. On a loaded machine a hand-off costs
0.1–1 ms, far more than the statement itself (~20 µs for a primary-key lookup), so a command of a
dozen statements paid 50+ hand-offs. Here the cursor runs the whole statement — execute, fetch all
rows, read rowcount/lastrowid, close — as one function on the connection's thread: one hand-off.

Everything else is SQLAlchemy's own aiosqlite dialect (exceptions, isolation level, terminate,
server-side cursors, which still stream row by row). The classes below lean on two internals:
SQLAlchemy's async cursor adapter (2.0.44+/2.1 layout) and aiosqlite's `Connection._execute`, the
function that queues a call on the connection's thread; `tests/test_sqlite_driver.py` pins them.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

_Outcome = tuple[Any, list[Any], int, int | None, bool]


def _run(conn: aiosqlite.Connection, begin: str | None, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On the connection's thread: the transaction's BEGIN if it is still pending, then the whole
    statement; its rows, counters, and whether a transaction is now open."""
    cursor = conn._conn.cursor()
    try:
        if begin is not None:
            cursor.execute(begin)
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid, conn._conn.in_transaction
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:  # no driver cursor: nothing to open (no hand-off)
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._hop(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        try:
            return await_(self._hop(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _hop(self, operation: Any, parameters: Any, *, many: bool) -> None:
        adapted: Any = self._adapt_connection
        if not many and parameters in (None, ()) and _is_begin(operation):
            # BEGIN travels with the transaction's first statement (one hand-off fewer; an empty
            # transaction costs none)
            adapted._pending_begin = operation
            self._description, self._rowcount, self._lastrowid, self._rows = None, -1, None, collections.deque()
            return
        begin, adapted._pending_begin = adapted._pending_begin, None
        async with adapted._execute_mutex:
            try:
                outcome: _Outcome = await self._connection._execute(
                    _run, self._connection, begin, operation, parameters, many
                )
            except BaseException:
                adapted._in_txn = True  # unknown: let commit/rollback ask the driver
                raise
        self._description, rows, self._rowcount, self._lastrowid, adapted._in_txn = outcome
        self._rows = collections.deque(rows)


def _is_begin(operation: Any) -> bool:
    return isinstance(operation, str) and operation.strip().upper() in (
        "BEGIN",
        "BEGIN DEFERRED",
        "BEGIN IMMEDIATE",
        "BEGIN EXCLUSIVE",
    )


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """Knows whether SQLite has a transaction open (each hand-off reports it), so a commit or
    rollback with nothing to end — the pool's reset after a commit, an empty transaction — costs no
    hand-off."""

    __slots__ = ("_in_txn", "_pending_begin")
    _cursor_cls = OneHopCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._pending_begin: str | None = None
        self._in_txn = True  # until a statement reports otherwise

    def cursor(self, server_side: bool = False) -> Any:
        if server_side:  # a streaming cursor runs statements of its own
            self._flush_begin()
            self._in_txn = True
        return super().cursor(server_side)

    def _flush_begin(self) -> None:
        if self._pending_begin is not None:
            begin, self._pending_begin = self._pending_begin, None
            try:
                await_(self._connection.execute(begin))
            except Exception as error:
                self._handle_exception(error)

    def commit(self) -> None:
        self._pending_begin = None
        if self._in_txn:
            super().commit()
            self._in_txn = False

    def rollback(self) -> None:
        self._pending_begin = None
        if self._in_txn:
            super().rollback()
            self._in_txn = False


class OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        adapted = super().connect(*arg, **kw)  # daemon thread, awaited connection
        return OneHopConnection(self, adapted._connection)


def dbapi() -> OneHopDbapi:
    """Pass as `module=` to create_async_engine for a sqlite+aiosqlite URL."""
    return OneHopDbapi(aiosqlite, sqlite3)
