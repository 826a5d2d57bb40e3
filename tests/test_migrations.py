"""Alembic upgrades an empty database to head, and the models match the migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage.db import Database, alembic_config


async def test_upgrade_from_empty_to_head_and_models_match(db_url: str) -> None:
    db = Database(db_url)
    try:
        await db.upgrade()
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar() == head

            def diff(sync_conn):  # type: ignore[no-untyped-def]
                ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return compare_metadata(ctx, SQLModel.metadata)

            assert await conn.run_sync(diff) == []
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert {t.name for t in SQLModel.metadata.sorted_tables} <= tables
        # upgrading again is a no-op
        await db.upgrade()
    finally:
        await db.dispose()


def test_migrations_ship_with_the_package() -> None:
    from importlib import resources

    versions = resources.files("storage") / "migrations" / "versions"
    assert any(p.name.startswith("0001") for p in versions.iterdir())
    assert (resources.files("storage") / "migrations" / "env.py").is_file()


def test_script_head_is_alembics_head() -> None:
    from storage.db import script_head

    assert script_head() == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_start_up_skips_alembic_only_when_the_database_is_at_head(db_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    db = Database(db_url)
    try:
        await db.upgrade("0014_feed_token")
        calls: list[str] = []
        real = command.upgrade
        monkeypatch.setattr(command, "upgrade", lambda cfg, rev: (calls.append(rev), real(cfg, rev)))
        await db.upgrade()  # behind head: Alembic upgrades
        assert calls == ["head"]
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar() == head
        await db.upgrade()  # at head: nothing to do, Alembic is not run
        assert calls == ["head"]
        await db.upgrade("0014_feed_token")  # any other target still goes to Alembic
        assert calls == ["head", "0014_feed_token"]
    finally:
        await db.dispose()


async def test_processes_starting_together_on_a_new_database_both_come_up(db_url: str) -> None:
    """Two processes upgrading an empty database at once (two `wgbot run` started together): one
    migrates, the other waits and finds it current. On PostgreSQL the second used to fail on
    alembic_version's unique key; SQLite's BEGIN IMMEDIATE serialises them."""
    import asyncio

    first, second = Database(db_url), Database(db_url)
    try:
        await asyncio.wait_for(asyncio.gather(first.upgrade(), second.upgrade()), 120)  # without the lock: stuck
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        async with first.engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
        assert list(versions) == [head]
    finally:
        await first.dispose()
        await second.dispose()
