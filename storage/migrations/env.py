"""Alembic environment: used by `wgbot db upgrade`, by start-up, and by `alembic` with alembic.ini."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata
config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    # Invoked from the `alembic` command line: open our own engine from the settings.
    from bot.config import Settings
    from storage.db import Database

    db = Database(Settings().database_url)

    async def _go() -> None:
        async with db.engine.begin() as conn:
            await conn.run_sync(_configure)
        await db.dispose()

    asyncio.run(_go())


run_migrations_online()
