"""Engines, sessions and schema upgrades for SQLite and PostgreSQL alike.

Operators write plain ``sqlite:///...`` or ``postgresql://...`` URLs; this module
picks the asyncio drivers, turns on what SQLite needs to be a safe default (WAL,
foreign keys, a busy timeout) and upgrades the schema with Alembic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Table, event, make_url, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.sqlite_inline import inline_connector

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class DatabaseURLError(ValueError):
    """DATABASE_URL names a database this application cannot use."""


def async_url(database_url: str) -> URL:
    """Map a user-facing URL to the asyncio driver SQLAlchemy should use."""
    try:
        url = make_url(database_url)
    except Exception as exc:
        raise DatabaseURLError(f"DATABASE_URL is not a database URL: {database_url!r}") from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend in {"postgresql", "postgres"}:
        return url.set(drivername="postgresql+asyncpg")
    raise DatabaseURLError(
        f"DATABASE_URL must be sqlite:///path.db or postgresql://user@host:port/db, not {backend}"
    )


class InsertIfAbsent:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING key``, built once per dialect.

    Used wherever a unique index settles a race (receipts, contacts, case codes):
    the statement returns the new key, or None when the row already existed.
    """

    def __init__(self, target: Table, conflict: list[str], returning: str = "id") -> None:
        self._statements = {
            name: make_insert(target)
            .on_conflict_do_nothing(index_elements=conflict)
            .returning(target.c[returning])
            for name, make_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
        }

    async def __call__(self, db: AsyncSession, values: dict[str, Any]) -> Any | None:
        result = await db.execute(self._statements[dialect_name(db)], values)
        return result.scalar()


def dialect_insert(db: AsyncSession) -> Any:
    """The ``insert`` construct of this session's dialect (for ``ON CONFLICT`` clauses)."""
    return pg_insert if dialect_name(db) == "postgresql" else sqlite_insert


def dialect_name(db: AsyncSession) -> str:
    """Which database this session talks to ("sqlite" or "postgresql")."""
    bind = db.get_bind()
    return bind.dialect.name


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-32000")  # 32 MB page cache per connection
    cursor.execute("PRAGMA mmap_size=268435456")  # read through the OS page cache
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is away or too slow (as opposed to a bug): the
    caller answers 503 and the provider retries later."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout | OSError | TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def create_engine(database_url: str, *, timeout: float = 10.0, **kwargs: Any) -> AsyncEngine:
    """An engine whose waits are bounded: ``timeout`` seconds for a connection from the
    pool or to the server, six times that for one statement (PostgreSQL)."""
    url = async_url(database_url)
    kwargs.setdefault("hide_parameters", True)  # errors in the log never carry values
    if url.get_backend_name() == "sqlite":
        database = url.database or ":memory:"
        if database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("async_creator", inline_connector(database))
        # One connection per process. Statements run inline on the event loop, so a
        # second connection would add no parallelism, only a way for one coroutine to
        # wait on SQLite's write lock (blocking the loop) while the holder cannot run.
        # With one, sessions queue for it without blocking the loop.
        kwargs.setdefault("pool_size", 1)
        kwargs.setdefault("max_overflow", 0)
        kwargs.setdefault("pool_timeout", 30)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault(
        "pool_pre_ping", True
    )  # a connection broken while the database was away is replaced
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("pool_timeout", timeout)
    kwargs.setdefault("connect_args", {"timeout": timeout, "command_timeout": 6 * timeout})
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    if connection.dialect.name == "postgresql":
        # Several processes may start at once: one upgrades, the others wait.
        connection.execute(text("SELECT pg_advisory_xact_lock(7401020304)"))
    command.upgrade(config, revision)


async def upgrade_schema(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to call from several processes."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
