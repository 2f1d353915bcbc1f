"""What only reads takes no write lock: on SQLite, while another writer holds the
database, the engine's sync still loads bots, and a wake-up with no candle due (an edit
mid-candle wakes the engine) finishes without waiting. Before, both began a
``BEGIN IMMEDIATE`` transaction and every API write queued behind them."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import make_url

from tests.engine.engine_testkit import create_bot, make_harness
from tradefleet.db.session import make_engine, make_session_factory

DCA = {"buy_amount": 0.01, "interval_minutes": 60, "take_profit_pct": 50}


@contextmanager
def write_lock_held(url: str) -> Iterator[None]:
    """Another process's writer: SQLite's write lock, held until the block ends."""
    connection = sqlite3.connect(make_url(url).database or "", isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        connection.execute("ROLLBACK")
        connection.close()


@pytest.fixture
def sqlite_url(migrated_url: str) -> str:
    if not migrated_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock: PostgreSQL readers never take one")
    return migrated_url


async def test_a_sync_loads_a_new_bot_while_another_writer_holds_the_database(
    sqlite_url: str,
) -> None:
    harness = await make_harness(sqlite_url)
    await create_bot(harness, "first", "simple_dca", DCA)
    await harness.run_one()
    second = await create_bot(harness, "second", "simple_dca", DCA)
    writes = make_session_factory(make_engine(sqlite_url, immediate=True))
    with write_lock_held(sqlite_url):
        await asyncio.wait_for(harness.engine.registry.sync(harness.sessions, writes), 5)
    loaded = harness.engine.registry.get(second)
    assert loaded is not None and loaded.bot_id == second


async def test_a_wake_up_with_no_candle_due_finishes_while_another_writer_holds_it(
    sqlite_url: str,
) -> None:
    harness = await make_harness(sqlite_url)
    bot_id = await create_bot(harness, "dca", "simple_dca", DCA)
    first = await harness.run_one()
    assert first.bots_stepped == 1
    with write_lock_held(sqlite_url):
        report = await asyncio.wait_for(harness.run_one(step=10), 5)  # same 1m candle
    assert (report.bots_stepped, report.errors) == (0, 0)
    runtime = harness.engine.registry.get(bot_id)
    assert runtime is not None and runtime.last_candle_time is not None
