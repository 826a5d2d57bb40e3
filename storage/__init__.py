"""Persistence: SQLModel tables, the async database handle and Alembic migrations."""
