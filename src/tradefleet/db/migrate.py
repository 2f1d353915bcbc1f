"""Bring a database to the newest schema with the Alembic migrations shipped in the package.

No ``alembic.ini`` is needed: the configuration is built in code, so an installed
``tradefleet`` migrates its own database on start. ``upgrade_database`` is safe to call on
every start, from several threads (one process-wide lock: Alembic's ``op``/``context``
proxies are module globals) and from several processes (PostgreSQL: an advisory lock
held for the migration's transaction; SQLite: ``BEGIN IMMEDIATE``, the write lock).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine import make_url

from tradefleet.db.session import make_engine, normalise_url
from tradefleet.db.types import Money, UtcDateTime

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any fixed 64-bit number: advisory locks are per database, so one key serialises upgrades.
_PG_LOCK_KEY = 0x7472_6164_6566_6C74  # "tradeflt"
_THREAD_LOCK = threading.Lock()


class ForeignKeyViolationError(RuntimeError):
    """A migration left rows whose parent is missing (SQLite checks keys only afterwards)."""


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the packaged migrations; ``env.py`` uses ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of tradefleet."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def upgrade_database(url: str) -> None:
    """Migrate the database at ``url`` to head; a database already there is left untouched."""
    with _THREAD_LOCK, _locked_connection(url) as connection:
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(alembic_config(connection), "head")
        migrated = MigrationContext.configure(connection).get_current_revision() != before
        if migrated and connection.dialect.name == "sqlite":
            _check_foreign_keys(connection)  # a scan of every child table: only after a change


def current_revision(url: str) -> str | None:
    """The revision the database is at, or None when it was never migrated (or is absent)."""
    if _missing_sqlite_file(url):
        return None
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def migration_engine(url: str) -> Engine:
    """An engine fit to run migrations; on SQLite it differs from the application's engine.

    Foreign keys are off while migrating: batch mode rebuilds a table by copying it and
    dropping the old one, and with keys on that DROP would cascade-delete every child row.
    ``upgrade_database`` runs ``PRAGMA foreign_key_check`` afterwards instead. The driver's
    own transaction handling is replaced by an explicit ``BEGIN IMMEDIATE`` so the whole
    upgrade, version check included, runs under SQLite's write lock.
    """
    engine = make_engine(url, immediate=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_migration_pragmas)
    return engine


def render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Autogenerate hook: write our column types as ``Money()`` / ``UtcDateTime()``.

    Alembic's default, ``tradefleet.db.types.Money()`` without an import, would not run.
    """
    if kind == "type" and isinstance(obj, Money | UtcDateTime):
        autogen_context.imports.add("from tradefleet.db.types import Money, UtcDateTime")
        return f"{type(obj).__name__}()"
    return False


@contextmanager
def _locked_connection(url: str) -> Iterator[Connection]:
    """A connection inside one transaction that no other upgrader can enter meanwhile."""
    engine = migration_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY}
                )
            yield connection
    finally:
        engine.dispose()


def _sqlite_migration_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=OFF")
    cursor.close()


def _check_foreign_keys(connection: Connection) -> None:
    violations = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if violations:
        raise ForeignKeyViolationError(f"foreign key violations after migrating: {violations}")


def _missing_sqlite_file(url: str) -> bool:
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database
    return bool(database) and database != ":memory:" and not Path(str(database)).exists()
