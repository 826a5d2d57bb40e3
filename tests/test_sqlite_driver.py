"""The SQLite driver shim (storage/sqlite_driver.py): one thread hand-off per statement, the same results.

These pin the SQLAlchemy and aiosqlite internals the shim leans on: if an upgrade changes them, a
test here fails rather than a command somewhere returning wrong rows.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiosqlite.core
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.db import Database


@pytest.fixture
async def sdb(tmp_path: Path) -> Any:
    db = Database(f"sqlite:///{tmp_path / 'shim.db'}")
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
    yield db
    await db.dispose()


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    counted = [0]
    original = aiosqlite.core.Connection._execute

    async def counting(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        counted[0] += 1
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counting)
    return counted


async def test_rows_counts_and_lastrowid(sdb: Database) -> None:
    async with sdb.engine.begin() as conn:
        r = await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
        assert r.lastrowid == 1
        await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "b"}, {"v": "c"}])  # executemany
        r = await conn.execute(text("UPDATE t SET v = v || '!' WHERE id > 1"))
        assert r.rowcount == 2
        rows = (await conn.execute(text("SELECT id, v FROM t ORDER BY id"))).all()
        assert [tuple(x) for x in rows] == [(1, "a"), (2, "b!"), (3, "c!")]
        assert (await conn.execute(text("SELECT v FROM t WHERE id = 99"))).first() is None


async def test_one_hand_off_per_statement_and_none_for_begin_or_reset(sdb: Database, hops: list[int]) -> None:
    async with sdb.engine.connect() as warm:  # the pool's connection exists (connecting costs hand-offs)
        await warm.execute(text("SELECT 1"))
    hops[0] = 0
    async with sdb.transaction() as s:
        await s.execute(text("SELECT v FROM t"))
        await s.execute(text("INSERT INTO t (v) VALUES ('x')"))
    # BEGIN IMMEDIATE rides with the first statement; the commit is one; the pool's reset after a
    # commit has nothing to roll back
    assert hops[0] == 3
    hops[0] = 0
    async with sdb.transaction():
        pass
    assert hops[0] == 0


async def test_rollback_undoes_and_errors_are_sqlalchemy_errors(sdb: Database) -> None:
    with pytest.raises(RuntimeError):
        async with sdb.transaction() as s:
            await s.execute(text("INSERT INTO t (v) VALUES ('gone')"))
            raise RuntimeError
    with pytest.raises(IntegrityError):
        async with sdb.transaction() as s:
            await s.execute(text("INSERT INTO t (v) VALUES ('dup')"))
            await s.execute(text("INSERT INTO t (v) VALUES ('dup')"))
    async with sdb.transaction() as s:
        assert (await s.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
        await s.execute(text("INSERT INTO t (v) VALUES ('dup')"))  # the failed transaction left no lock
    async with sdb.transaction() as s:
        assert (await s.execute(text("SELECT v FROM t"))).scalars().all() == ["dup"]


async def test_writers_still_serialise_with_begin_immediate(tmp_path: Path) -> None:
    """The deferred BEGIN is still IMMEDIATE: a read-then-write transaction takes the write lock at its
    first statement, so two such transactions cannot both read the old value (no lost update)."""
    url = f"sqlite:///{tmp_path / 'race.db'}"
    a, b = Database(url), Database(url)
    async with a.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER)"))
        await conn.execute(text("INSERT INTO c VALUES (1, 0)"))

    async def bump(db: Database) -> None:
        async with db.transaction() as s:
            n = (await s.execute(text("SELECT n FROM c WHERE id = 1"))).scalar_one()
            await asyncio.sleep(0.05)
            await s.execute(text("UPDATE c SET n = :n WHERE id = 1"), {"n": n + 1})

    try:
        await asyncio.gather(*(bump(db) for db in (a, b, a, b)))
        async with a.transaction() as s:
            assert (await s.execute(text("SELECT n FROM c"))).scalar_one() == 4
    finally:
        await a.dispose()
        await b.dispose()
