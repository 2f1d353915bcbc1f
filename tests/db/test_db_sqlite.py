"""SQLite specifics: WAL journal, foreign keys on for the app and off while migrating, files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from tradefleet.db.migrate import (
    ForeignKeyViolationError,
    _check_foreign_keys,
    current_revision,
    head_revision,
    migration_engine,
    upgrade_database,
)
from tradefleet.db.session import make_engine, make_session_factory


def _pragma(url: str, name: str, *, for_migrations: bool = False) -> object:
    engine = migration_engine(url) if for_migrations else make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(f"PRAGMA {name}")).scalar_one()
    finally:
        engine.dispose()


def test_upgrade_creates_missing_folders_and_a_wal_database(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "tradefleet.db"
    upgrade_database(f"sqlite:///{path}")
    assert path.is_file()
    with sqlite3.connect(path) as plain:  # WAL is stored in the file: every reader sees it
        assert plain.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_application_sessions_use_wal_and_enforce_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            assert session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert session.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    finally:
        engine.dispose()


def test_migrations_run_with_foreign_keys_off(tmp_path: Path) -> None:
    """Batch mode drops and recreates tables; with keys on, that would cascade-delete rows."""
    url = f"sqlite:///{tmp_path / 'm.db'}"
    assert _pragma(url, "foreign_keys", for_migrations=True) == 0
    assert _pragma(url, "foreign_keys") == 1


def test_current_revision_of_a_missing_file_is_none_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "absent" / "tradefleet.db"
    assert current_revision(f"sqlite:///{path}") is None
    assert not path.parent.exists()


def test_current_revision_after_upgrade_is_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    upgrade_database(url)
    assert current_revision(url) == head_revision() == "0008"


def test_foreign_key_check_reports_orphans_left_by_a_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fk.db'}"
    upgrade_database(url)
    engine = migration_engine(url)
    try:
        with engine.begin() as connection:
            _check_foreign_keys(connection)  # a clean database passes
            connection.exec_driver_sql(
                "INSERT INTO signals (bot_id, candle_time, created_at, action, reason) "
                "VALUES (42, 0, '2024-01-01 00:00:00', 'buy', '')"
            )
            with pytest.raises(ForeignKeyViolationError, match="signals"):
                _check_foreign_keys(connection)
    finally:
        engine.dispose()
