"""Database fixtures shared by every area; each runs a test on SQLite and on PostgreSQL.

PostgreSQL runs when ``TRADEFLEET_TEST_DATABASE_URL`` names a server, e.g.
``TRADEFLEET_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test``; without it
those runs are skipped and the summary says so. Tests may commit freely.

- ``database_url``: an empty database of the test's own (new SQLite file; new PostgreSQL
  database ``tf_test_<random>``, dropped afterwards). Use it to test migrations or schema.
- ``migrated_url``: a database at the newest schema holding no rows. SQLite: a new file,
  upgraded. PostgreSQL: creating a database costs 0.03-0.3 s (more under load), so one
  database per test session (per xdist worker) is upgraded once and every table is
  emptied (``TRUNCATE … RESTART IDENTITY``: ids restart at 1) before each test. Never
  change its schema; leave no transaction open (the next TRUNCATE would wait for it).
- ``session_factory``: a sessionmaker on ``migrated_url``; ``db_session``: one Session.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.db.migrate import upgrade_database
from tradefleet.db.models import Base
from tradefleet.db.session import make_engine, make_session_factory

PG_ENV = "TRADEFLEET_TEST_DATABASE_URL"
PG_SKIP_REASON = f"PostgreSQL run not done: {PG_ENV} is unset"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _postgres_server() -> str:
    server = os.environ.get(PG_ENV)
    if not server:
        pytest.skip(PG_SKIP_REASON)
    return make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def _fresh_postgres_database() -> Iterator[str]:
    """Create ``tf_test_<random>`` on the server, yield its URL, drop it even if in use."""
    server = _postgres_server()
    name = f"tf_test_{secrets.token_hex(6)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


def _sqlite_url(factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{factory.mktemp('db') / 'tradefleet.db'}"


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database no other test sees."""
    if request.param == "sqlite":
        yield _sqlite_url(tmp_path_factory)
    else:
        with _fresh_postgres_database() as url:
            yield url


@pytest.fixture(scope="session")
def _shared_postgres() -> Iterator[tuple[str, psycopg.Connection[tuple[object, ...]]]]:
    """This session's migrated PostgreSQL database and a connection that empties it."""
    with _fresh_postgres_database() as url:
        upgrade_database(url)
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("SET lock_timeout = '10s'")  # a leaked transaction: fail, not hang
            yield url, connection


@pytest.fixture(params=BACKENDS)
def migrated_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database at the newest schema, with no rows in any table."""
    if request.param == "sqlite":
        url = _sqlite_url(tmp_path_factory)
        upgrade_database(url)
        return url
    url, connection = request.getfixturevalue("_shared_postgres")
    tables = sql.SQL(", ").join(sql.Identifier(t.name) for t in Base.metadata.sorted_tables)
    connection.execute(sql.SQL("TRUNCATE TABLE {} RESTART IDENTITY CASCADE").format(tables))
    return str(url)


@pytest.fixture
def session_factory(migrated_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(migrated_url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


@pytest.fixture
def db_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    session = session_factory()
    try:
        yield session
    finally:
        session.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say loudly when the PostgreSQL half of the database tests did not run."""
    if not os.environ.get(PG_ENV):
        terminalreporter.write_sep(
            "!", f"PostgreSQL run NOT done: set {PG_ENV} to also test on PostgreSQL", yellow=True
        )
