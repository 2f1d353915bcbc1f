"""Restarts and failures: nothing lost, nothing duplicated, one bot never stops the rest."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.engine.engine_testkit import (
    BUSY_CONFIGS,
    START,
    Harness,
    create_bot,
    fill_rows,
    ledger_mismatches,
    make_harness,
)
from tradefleet.db.migrate import upgrade_database
from tradefleet.db.models import Bot, Position, Signal
from tradefleet.db.session import make_engine
from tradefleet.engine.cycle import CycleWriter
from tradefleet.market import ManualClock, MarketUnavailable, SimulatedSource
from tradefleet.strategies import StrategyRegistry, TradingStrategy


async def _fleet(harness: Harness) -> None:
    for strategy, config in BUSY_CONFIGS.items():
        await create_bot(harness, f"{strategy} bot", strategy, config)


def _balances(harness: Harness) -> list[tuple[Any, ...]]:
    from tradefleet.db.models import PaperBalance

    with harness.sessions() as session:
        rows = session.scalars(select(PaperBalance).order_by(PaperBalance.currency))
        return [(r.currency, r.total, r.hold) for r in rows]


async def test_restart_resumes_exactly_where_it_stopped(migrated_url: str, tmp_path: Any) -> None:
    reference_url = f"sqlite:///{tmp_path}/reference.db"
    upgrade_database(reference_url)
    reference = await make_harness(reference_url)
    await _fleet(reference)
    await reference.run(240)

    first = await make_harness(migrated_url)
    await _fleet(first)
    await first.run(120)
    # A new process on the same database: a fresh engine, the clock where it was.
    second = await make_harness(migrated_url, ManualClock(first.clock.now()))
    await second.run(120)

    assert fill_rows(second.sessions) == fill_rows(reference.sessions)
    assert _balances(second) == _balances(reference)
    assert ledger_mismatches(second.sessions) == []


async def test_a_crash_inside_a_cycle_keeps_none_of_it(
    migrated_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference_url = f"sqlite:///{tmp_path}/reference.db"
    upgrade_database(reference_url)
    reference = await make_harness(reference_url)
    await _fleet(reference)
    await reference.run(200)

    first = await make_harness(migrated_url)
    await _fleet(first)
    await first.run(99)
    fills_before = fill_rows(first.sessions)

    def crash(self: CycleWriter, session: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(CycleWriter, "flush", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        await first.run(1)  # the 100th cycle dies before its commit
    monkeypatch.undo()
    assert fill_rows(first.sessions) == fills_before

    second = await make_harness(migrated_url, ManualClock(first.clock.now()))
    await second.run(100)  # the lost 100th cycle is redone at the first catch-up
    assert fill_rows(second.sessions) == fill_rows(reference.sessions)
    assert ledger_mismatches(second.sessions) == []


def break_rsi_period_13(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every RSI bot with ``rsi_period`` 13 fails on each candle; the others run as ever."""
    strategy_class = type(StrategyRegistry.create("rsi", {}))
    real_signal_at = strategy_class.signal_at

    def explode(self: TradingStrategy, *args: Any, **kwargs: Any) -> Any:
        if self.params["rsi_period"] == 13:
            raise ValueError("bad data in candle")
        return real_signal_at(self, *args, **kwargs)

    monkeypatch.setattr(strategy_class, "signal_at", explode)


async def test_a_failing_bot_is_recorded_and_the_others_trade_on(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = await make_harness(migrated_url)
    broken = await create_bot(harness, "broken", "rsi", {"rsi_period": 13})
    healthy = await create_bot(harness, "healthy", "rsi", {"rsi_period": 14})
    await harness.run(1)
    break_rsi_period_13(monkeypatch)
    reports = [await harness.run_one() for _ in range(3)]
    assert [(r.bots_stepped, r.errors) for r in reports] == [(1, 1)] * 3  # healthy one only
    with harness.sessions() as session:
        bot = session.get(Bot, broken)
        assert bot is not None and bot.last_error == "ValueError: bad data in candle"
        errors = session.scalars(
            select(Signal).where(Signal.bot_id == broken, Signal.action == "error")
        ).all()
        assert len(errors) == 3
        assert errors[0].reason == "ValueError: bad data in candle"
        other = session.get(Bot, healthy)
        assert other is not None and other.last_error is None
        assert other.last_candle_time == START + 3 * 60
        # The failed bot skipped past the bad candles instead of retrying them forever.
        assert bot.last_candle_time == START + 3 * 60


async def test_unreachable_market_is_reported_then_recovered(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = await make_harness(migrated_url)
    bot_id = await create_bot(harness, "rsi", "rsi", {})
    await harness.run(1)
    source = harness.market.source

    async def down(*_: object, **__: object) -> list[object]:
        raise MarketUnavailable("connection refused")

    monkeypatch.setattr(source, "fetch_candles", down)
    harness.clock.advance(60)
    report = await harness.engine.run_cycle()
    assert report.unavailable == ["ETH-BTC 1m"]
    health = harness.engine.health()
    assert health["market_unavailable"] == ["ETH-BTC 1m"]
    with harness.sessions() as session:
        bot = session.get(Bot, bot_id)
        assert bot is not None and bot.last_error is not None
        assert bot.last_error.startswith("market data unavailable")
        assert bot.last_candle_time == START  # nothing was skipped
    monkeypatch.undo()
    harness.clock.advance(120)  # past the source's back-off
    report = await harness.engine.run_cycle()
    assert report.unavailable == []
    with harness.sessions() as session:
        bot = session.get(Bot, bot_id)
        assert bot is not None and bot.last_error is None
        assert bot.last_candle_time == START + 3 * 60  # caught up the missed candles


async def test_manual_close_sells_at_the_next_open(migrated_url: str) -> None:
    harness = await make_harness(migrated_url)
    config = {"buy_amount": 0.01, "interval_minutes": 60, "take_profit_pct": 50}
    bot_id = await create_bot(harness, "dca", "simple_dca", config)
    await harness.run(3)
    with harness.sessions() as session:
        deal = session.scalars(select(Position).where(Position.bot_id == bot_id)).one()
        held = deal.base_amount
    assert held > 0
    await harness.engine.close_position(deal.id)
    await harness.run(1)
    candles = await harness.market.candles("ETH-BTC", "1m", 2)
    with harness.sessions() as session:
        closed = session.get(Position, deal.id)
        assert closed is not None
        assert (closed.status, closed.close_reason) == ("closed", "manual")
        assert closed.sold_base == held
        sell = [r for r in fill_rows(harness.sessions) if r[2] == "sell"]
        assert len(sell) == 1
        assert sell[0][3].timestamp() == candles[-1].time  # filled on the candle after


async def test_a_stopped_bot_still_manages_its_open_deal(migrated_url: str) -> None:
    harness = await make_harness(migrated_url)
    config = {"buy_amount": 0.01, "interval_minutes": 1, "take_profit_pct": 0.05}
    bot_id = await create_bot(harness, "dca", "simple_dca", config)
    await harness.run(2)
    from tradefleet.services import bots as bot_service

    with harness.sessions() as session:
        bot_service.set_active(session, bot_id, False)
        opened = session.scalars(select(Position).where(Position.bot_id == bot_id)).all()
    assert len(opened) == 1
    await harness.run(120)
    with harness.sessions() as session:
        deals = session.scalars(select(Position).where(Position.bot_id == bot_id)).all()
        assert [(d.status, d.close_reason) for d in deals] == [("closed", "take_profit")]
    assert harness.engine.registry.get(bot_id) is None  # idle and stopped: unloaded


def test_engine_uses_immediate_transactions_on_sqlite(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.db", immediate=True)
    with engine.begin() as connection:
        other = make_engine(f"sqlite:///{tmp_path}/x.db")
        raw = other.raw_connection()
        raw.execute("PRAGMA busy_timeout=0")
        with pytest.raises(Exception, match="locked"):
            raw.execute("BEGIN IMMEDIATE")
        raw.close()
        connection.exec_driver_sql("SELECT 1")


async def test_bots_wait_for_the_product_list_while_the_market_is_down(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await make_harness(migrated_url)
    bot_id = await create_bot(first, "rsi", "rsi", {})

    async def down(self: SimulatedSource) -> list[object]:
        raise MarketUnavailable("no route to host")

    monkeypatch.setattr(SimulatedSource, "products", down)
    second = await make_harness(migrated_url, ManualClock(first.clock.now()))  # starts anyway
    await second.run(1)
    assert second.engine.last_cycle.unavailable == ["products"]
    assert second.engine.health()["status"] == "degraded"
    assert second.engine.registry.get(bot_id) is None
    with second.sessions() as session:
        bot = session.get(Bot, bot_id)
        assert bot is not None
        assert bot.last_error == "market data unavailable: no route to host"
    monkeypatch.undo()
    await second.run(1, step=120)  # past the source's back-off
    assert second.engine.last_cycle.unavailable == []
    assert second.engine.registry.get(bot_id) is not None


async def test_a_bot_failing_after_others_traded_in_the_cycle_keeps_their_balances(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Balances are written once, at the cycle's end: a later bot's failed step (whose
    in-memory account changes are undone) must not drop the earlier bots' changes."""
    harness = await make_harness(migrated_url)
    trader = await create_bot(harness, "trader", "rsi", BUSY_CONFIGS["rsi"])
    await create_bot(harness, "broken", "rsi", {"rsi_period": 13})  # steps after the trader
    break_rsi_period_13(monkeypatch)
    await harness.run(240)
    fills = [row for row in fill_rows(harness.sessions) if row[1] == trader]
    assert len(fills) >= 4  # the trader bought and sold while the other bot kept failing
    assert ledger_mismatches(harness.sessions) == []
