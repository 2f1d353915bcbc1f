"""Alembic environment for tradefleet: the models' metadata, on SQLite and PostgreSQL.

``tradefleet.db.migrate`` hands over an open, locked connection in
``config.attributes["connection"]``. The ``alembic`` command line (``alembic.ini`` at the
repository root) connects to ``sqlalchemy.url`` if set, else ``TRADEFLEET_DATABASE_URL``.
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

import sqlalchemy as sa
from alembic import context
from sqlalchemy import Connection

from tradefleet.config import get_settings
from tradefleet.db.migrate import migration_engine, render_item
from tradefleet.db.models import Base
from tradefleet.db.session import normalise_url

config = context.config
if config.config_file_name is not None and config.attributes.get("connection") is None:
    fileConfig(config.config_file_name)  # command line only: never reset the app's logging


def _sqlite_compare_type(
    _context: Any, _inspected: Any, _column: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    """SQLite ignores a VARCHAR's length (any text fits), so on SQLite a length alone is
    no difference; everything else is compared as usual (None)."""
    if isinstance(inspected_type, sa.String) and isinstance(metadata_type, sa.String):
        return False
    return None


def _options(dialect_name: str) -> dict[str, Any]:
    return {
        "target_metadata": Base.metadata,
        "render_as_batch": dialect_name == "sqlite",  # SQLite's ALTER TABLE is too weak
        "compare_type": _sqlite_compare_type if dialect_name == "sqlite" else True,
        "compare_server_default": True,
        "render_item": render_item,
    }


def _url() -> str:
    return normalise_url(config.get_main_option("sqlalchemy.url") or get_settings().database_url)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, **_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    """``alembic upgrade --sql``: print the SQL instead of running it."""
    url = _url()
    dialect_name = url.split(":", 1)[0].split("+", 1)[0]
    context.configure(url=url, literal_binds=True, **_options(dialect_name))
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = migration_engine(_url())
    try:
        with engine.connect() as own_connection:
            _run(own_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
