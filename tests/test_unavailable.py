"""`is_unavailable`: a database that cannot be reached right now (gone, closed to connections,
restarting) is told apart from a bug, so a command answers "try again" instead of "something went
wrong on our side", as /healthz already says "database unreachable"."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import Database, is_unavailable
from tests import conftest


async def test_a_database_that_does_not_exist_is_unavailable_not_a_bug() -> None:
    if not conftest.PG_URL:
        pytest.skip("PostgreSQL only (WGBOT_TEST_DATABASE_URL)")
    url = make_url(conftest.PG_URL).set(database="wgbot_no_such_database")
    db = Database(url.render_as_string(hide_password=False))
    try:
        with pytest.raises(Exception) as raised:
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        assert is_unavailable(raised.value)
    finally:
        await db.dispose()


async def test_a_bug_is_not_unavailability(db: Database) -> None:
    with pytest.raises(Exception) as raised:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT * FROM no_such_table"))
    assert not is_unavailable(raised.value)
