"""Engine and session factory: SQLite in WAL mode with foreign keys, or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.capacity import SQLITE_ENGINE_BUSY_SECONDS, PoolSize
from tradefleet.db.sqlite_writers import serialize_writers


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (psycopg2 is not installed)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(
    url: str,
    *,
    immediate: bool = False,
    pool: PoolSize | None = None,
    busy_seconds: float = SQLITE_ENGINE_BUSY_SECONDS,
    lock_wait_seconds: float | None = None,
) -> Engine:
    """An engine for ``url`` with the connection pool ``pool`` (SQLAlchemy's default
    when None; the server passes the sizes chosen in ``tradefleet.capacity``).

    On SQLite, SQLAlchemy (not the driver) begins transactions, so SAVEPOINTs work; with
    ``immediate`` a transaction takes the write lock at its start (``BEGIN IMMEDIATE``),
    which the trading engine and the API's writers use so a read-then-write never fails
    half-way on a lock another writer took in between; they take turns in this process
    first (``db.sqlite_writers``) and wait up to ``busy_seconds``. On
    PostgreSQL ``lock_wait_seconds`` bounds how long a statement waits for a row lock.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"future": True}
    if pool is not None:
        kwargs.update(pool_size=pool.size, max_overflow=pool.overflow, pool_timeout=pool.timeout)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": busy_seconds}
        engine = create_engine(url, **kwargs)
        busy_ms = round(busy_seconds * 1000)
        event.listen(engine, "connect", lambda conn, _record: _sqlite_pragmas(conn, busy_ms))
        if immediate:
            serialize_writers(
                engine, str(Path(database).resolve()) if database else "", busy_seconds
            )
        else:
            event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        return engine
    kwargs["pool_pre_ping"] = True
    if lock_wait_seconds is not None:
        lock_timeout = f"-c lock_timeout={round(lock_wait_seconds * 1000):d}"
        kwargs["connect_args"] = {"options": lock_timeout}
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, busy_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms:d}")
    cursor.close()
    dbapi_connection.isolation_level = None  # the "begin" listener starts transactions


def read_write_factories(
    url: str, pool: PoolSize, busy_seconds: float, lock_wait_seconds: float | None = None
) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """Sessions for reads and for writes, each on a pool of ``pool``'s size. On SQLite a
    writer's transaction takes the write lock when it begins (``BEGIN IMMEDIATE``): one
    that read first and then wrote would fail outright if another writer committed in
    between; a reader takes no lock at all (WAL), so nothing that only reads makes the
    writers wait. On PostgreSQL they are one."""
    reads = make_session_factory(
        make_engine(url, pool=pool, busy_seconds=busy_seconds, lock_wait_seconds=lock_wait_seconds)
    )
    if make_url(normalise_url(url)).get_backend_name() != "sqlite":
        return reads, reads
    writes = make_session_factory(
        make_engine(url, immediate=True, pool=pool, busy_seconds=busy_seconds)
    )
    return reads, writes


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session committed on success and rolled back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
