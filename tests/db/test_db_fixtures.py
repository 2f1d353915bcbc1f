"""The shared fixtures keep tests apart: every test starts with empty tables, ids from 1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradefleet.db.models import Bot


@pytest.mark.parametrize("run", ["first", "second"])
def test_each_test_starts_empty_and_may_commit(db_session: Session, run: str) -> None:
    """Run twice: the second run would see the first's bot, or id 2, if data leaked."""
    assert db_session.scalar(select(func.count()).select_from(Bot)) == 0
    bot = Bot(
        name=run, strategy_type="rsi", product_id="ETH-BTC", timeframe="5m", budget=Decimal(1)
    )
    db_session.add(bot)
    db_session.commit()
    assert bot.id == 1


def test_summary_says_when_the_postgres_run_was_not_done(tmp_path: Path) -> None:
    shutil.copy(Path(__file__).parents[1] / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_one.py").write_text("def test_one(database_url):\n    assert database_url\n")
    env = {key: value for key, value in os.environ.items() if key != "TRADEFLEET_TEST_DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "markers=postgres", "-rs"],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout
    assert "1 passed, 1 skipped" in result.stdout
    assert "PostgreSQL run not done: TRADEFLEET_TEST_DATABASE_URL is unset" in result.stdout
    assert "PostgreSQL run NOT done: set TRADEFLEET_TEST_DATABASE_URL" in result.stdout
