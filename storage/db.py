"""The async database handle. The core awaits it, so database I/O never blocks the event loop.

SQLite (the embedded default) runs in WAL mode with foreign keys on, and every transaction starts
with BEGIN IMMEDIATE: writers queue on the busy timeout instead of failing with "database is locked"
when a read transaction tries to become a write one (and this is what serialises claims on SQLite).
Connections are pooled, each keeping its aiosqlite thread, and statements go through
`storage.sqlite_driver`: one thread hand-off per statement (the BEGIN rides with the first one)
instead of four — a command used to pay ~70 hand-offs, most of its latency on a loaded machine.
PostgreSQL runs through asyncpg.
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import sqlite3
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager
from functools import cache
from importlib import resources
from typing import Any, ClassVar, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import bindparam, event, inspect
from sqlalchemy import text as sql_text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import sqlite_driver

T = TypeVar("T")

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


class DatabaseError(ValueError):
    """A database that cannot be used as configured. The message is one line, safe to show (the
    password is hidden) and says how to fix it; the CLI prints it instead of a traceback."""


def normalize_url(url: str) -> URL:
    """Accept the usual spellings (`sqlite:///x.db`, `postgresql://…`, `postgresql+psycopg://…`)."""
    try:
        u = make_url(url)
    except Exception:
        raise DatabaseError(
            f"`{redact(url)}` is not a database URL: use sqlite:///wgbot.db or postgresql://user@host/db."
        ) from None
    backend = u.get_backend_name()
    if backend not in ("sqlite", "postgresql", "postgres"):
        raise DatabaseError(
            f"unsupported database `{backend}://` in {redact(u)}: use sqlite:///wgbot.db or postgresql://user@host/db."
        )
    return u.set(drivername=_DRIVERS[backend])


def _reason(exc: BaseException) -> str:
    """The driver's own words for a failed connection, on one line."""
    inner: BaseException = getattr(exc, "orig", None) or exc
    text = " ".join(str(inner).split()) or type(inner).__name__
    return text[:200]


def redact(url: str | URL) -> str:
    """The URL with its password hidden: the only form that may reach a log or an error."""
    try:
        return make_url(str(url) if isinstance(url, URL) else url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


def dialect_insert(session: AsyncSession, model: Any) -> Any:
    """INSERT for the session's engine, with `on_conflict_do_nothing/update` (both dialects have them)."""
    return insert_for(session.get_bind().dialect.name, model)


#: `Session.info` key of the groups whose rows a transaction changed outside the ORM's unit of work
#: (Core statements on the session's connection): the web record's render cache reads it at commit
TOUCHED = "wgbot.touched"


def touched(session: AsyncSession, wg_id: int | None) -> None:
    """Record that this transaction changed a row of group `wg_id` (None: of a group not known here)
    through a Core statement, which the ORM's flush events do not see."""
    session.info.setdefault(TOUCHED, set()).add(wg_id)


class Known:
    """Facts this process has read from committed data that can never become false again (a vote's
    refresh job of a past window exists; a vote created without a live poll never gets one), so a
    later command can skip reading them. Per database (keyed by its engine: a new `Database`, e.g. in
    a test, starts knowing nothing), bounded (oldest forgotten first)."""

    _by_engine: ClassVar[WeakKeyDictionary[Any, OrderedDict[Hashable, None]]] = WeakKeyDictionary()
    LIMIT = 10_000

    @classmethod
    def _facts(cls, session: AsyncSession) -> OrderedDict[Hashable, None]:
        engine = session.get_bind()
        facts = cls._by_engine.get(engine)
        if facts is None:
            facts = cls._by_engine[engine] = OrderedDict()
        return facts

    @classmethod
    def has(cls, session: AsyncSession, fact: Hashable) -> bool:
        return fact in cls._facts(session)

    @classmethod
    def add(cls, session: AsyncSession, fact: Hashable) -> None:
        facts = cls._facts(session)
        facts[fact] = None
        if len(facts) > cls.LIMIT:
            facts.popitem(last=False)


def counter_upsert(dialect: str, model: Any, keys: tuple[str, ...], counter: str) -> Any:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET counter = counter + 1 RETURNING counter: one more
    under `keys` (bound parameters of the same names), atomically, and the count now. For statements
    built once (`per_dialect`): rate counters, public numbers."""
    column = getattr(model, counter)
    return (
        insert_for(dialect, model)
        .values({**{key: bindparam(key) for key in keys}, counter: 1})
        .on_conflict_do_update(index_elements=list(keys), set_={counter: column + 1})
        .returning(column)
    )


def insert_for(dialect: str, model: Any) -> Any:
    """`dialect_insert` by dialect name, for statements built once (see `per_dialect`)."""
    # only the engine's own dialect is imported: importing the PostgreSQL one (and asyncpg) costs a
    # SQLite process about 0.3 s the first time something is inserted
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(model)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(model)


def per_dialect(build: Callable[[str], T]) -> Callable[[AsyncSession], T]:
    """A statement built once per dialect and then reused, its values passed as bound parameters.

    Building a SQLAlchemy statement (`select(...).where(...)`) and computing its cache key costs about
    as much CPU as running it: on the hot path of every command (rate limit, group and member
    resolution, ballots) a statement built once saves roughly half of each statement's cost. A reused
    statement object keeps its cache key, so SQLAlchemy's compiled cache is hit without rebuilding it.
    """
    built: dict[str, T] = {}

    def get(session: AsyncSession) -> T:
        name = session.get_bind().dialect.name
        stmt = built.get(name)
        if stmt is None:
            stmt = built[name] = build(name)
        return stmt

    return get


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
            if self.url.database in (None, "", ":memory:"):
                raise DatabaseError(
                    "an in-memory SQLite database is not shared between connections and is lost on exit: "
                    "use a file, e.g. sqlite:///wgbot.db."
                )
            # a pool of connections, each keeping its aiosqlite thread and its PRAGMAs (NullPool paid a
            # new thread and four PRAGMAs per transaction), and one thread hand-off per statement
            kwargs.update(module=sqlite_driver.dbapi(), poolclass=AsyncAdaptedQueuePool, pool_size=5, max_overflow=10)
        else:
            # kept connections for what one process runs at once (SLACK_CONCURRENT_COMMANDS commands,
            # the outbox dispatcher's destinations, the engine; the leader lock has its own): with 5,
            # bursts opened and closed overflow connections over and over
            kwargs.update(pool_size=10, max_overflow=5, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            _sqlite_tuning(self.engine)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    def session(self) -> AsyncSession:
        return self._sessions()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        async with self._sessions() as session, session.begin():
            yield session

    async def check(self) -> None:
        """Connect once; a database that cannot be reached raises DatabaseError saying where and why."""
        try:
            async with self.engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
        except (OSError, SQLAlchemyError) as exc:
            raise DatabaseError(f"cannot reach the database {redact(self.url)}: {_reason(exc)}") from None

    async def reachable(self) -> bool:
        """Whether the database answers now (a quick probe after an unexplained failure)."""
        try:
            await asyncio.wait_for(self.check(), timeout=3)
        except (DatabaseError, TimeoutError):
            return False
        return True

    async def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to `revision` with Alembic (also run on start-up)."""
        await self.check()
        async with self.engine.begin() as conn:
            await conn.run_sync(_run_upgrade, revision)

    async def schema_revision(self) -> str | None:
        """The schema's Alembic revision (several joined with ", "); None before the first upgrade."""
        async with self.engine.connect() as conn:
            return await conn.run_sync(_schema_revision)

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("storage") / "migrations"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@cache
def script_head() -> str | None:
    """The one head revision of storage/migrations, read from the scripts' module-level `revision`
    and `down_revision` strings; None when that is not plain (several heads, a merge, anything but
    string literals): Alembic then decides."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for script in (resources.files("storage") / "migrations" / "versions").iterdir():
        if not script.name.endswith(".py") or script.name.startswith("__"):
            continue
        values: dict[str, object] = {}
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            target: ast.expr | None = node.target if isinstance(node, ast.AnnAssign) else None
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
            value = getattr(node, "value", None)
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                if not isinstance(value, ast.Constant):
                    return None
                values[target.id] = value.value
        rev, down = values.get("revision"), values.get("down_revision")
        if not isinstance(rev, str) or not (down is None or isinstance(down, str)):
            return None
        revisions.add(rev)
        if down is not None:
            downs.add(down)
    heads = revisions - downs
    return heads.pop() if len(heads) == 1 and downs <= revisions else None


def _schema_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    versions = connection.execute(sql_text("SELECT version_num FROM alembic_version")).scalars().all()
    return ", ".join(sorted(versions)) or None


def at_head(connection: Connection) -> bool:
    """Whether the database is already at the scripts' head, known without importing Alembic."""
    head = script_head()
    if head is None or not inspect(connection).has_table("alembic_version"):
        return False
    versions = connection.execute(sql_text("SELECT version_num FROM alembic_version")).scalars().all()
    return list(versions) == [head]


def lock_key(name: str) -> int:
    """A stable signed 64-bit PostgreSQL advisory lock key for `name` (the same in every process)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


#: the advisory lock that serialises schema upgrades (the engine leader's lock has its own name)
MIGRATION_LOCK = lock_key("wgbot:migrations")


def _run_upgrade(connection: Connection, revision: str) -> None:
    # Start-up upgrades a database that is almost always current: skipping Alembic then saves
    # importing it and loading every migration script (0.2-0.4 s, bench/README.md figure 7).
    if revision == "head" and at_head(connection):
        return
    if connection.dialect.name == "postgresql":
        # Several processes starting together on a new database: one migrates, the others wait here
        # (the lock is the transaction's) and then find the schema current. Without it, the second
        # failed on alembic_version's unique key with a long traceback. (SQLite: BEGIN IMMEDIATE
        # already serialises the upgrades.)
        connection.execute(sql_text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        if revision == "head" and at_head(connection):
            return
    from alembic import command

    command.upgrade(alembic_config(connection), revision)


def _sqlite_tuning(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


#: SQLite errors that mean its file cannot be used right now
_SQLITE_AWAY = ("unable to open", "disk i/o error", "readonly database", "database or disk is full")

#: driver exceptions (by class name, so no driver is imported here) that mean the server is away
_UNAVAILABLE_NAMES = frozenset(
    {
        "ConnectionDoesNotExistError",
        "CannotConnectNowError",
        "AdminShutdownError",
        "ConnectionFailureError",
        "ConnectionRejectionError",
        "TooManyConnectionsError",
        "CrashShutdownError",
        "InterfaceError",
        # connecting to a database that is gone or closed to connections (dropped, being restored,
        # `ALLOW_CONNECTIONS false`): nothing was done, and /healthz says the same
        "InvalidCatalogNameError",
        "ObjectNotInPrerequisiteStateError",
    }
)


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc` means the database cannot be reached right now (down, restarting, a dropped
    connection) rather than a bug or a conflict: the command changed nothing and can be retried.
    The pool (`pool_pre_ping`) reconnects by itself once the server is back. A bare OSError is not
    enough (an LLM or SMTP connection raises those too): see `Database.reachable`."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (OperationalError, InterfaceError)) and not isinstance(current.orig, IntegrityError):
            if isinstance(current.orig, sqlite3.Error):
                # SQLite says OperationalError for a missing table or a syntax error too (bugs), and for
                # a busy writer (contention): only a file it cannot use means the database is away
                if any(words in str(current.orig).lower() for words in _SQLITE_AWAY):
                    return True
            else:
                return True
        if type(current).__name__ in _UNAVAILABLE_NAMES:
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False
