"""Stopping, restarting, editing and deleting bots while the engine runs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from tests.engine.engine_testkit import (
    BUSY_CONFIGS,
    START,
    create_bot,
    fill_rows,
    ledger_mismatches,
    make_harness,
)
from tradefleet.db.migrate import upgrade_database
from tradefleet.db.models import Bot, Order, Position, Signal
from tradefleet.db.session import make_engine, make_session_factory
from tradefleet.engine.cycle import CycleWriter
from tradefleet.market.products import POPULAR_SPECS
from tradefleet.services import bots as bot_service
from tradefleet.services.errors import ConflictError


async def test_a_restarted_bot_never_trades_the_time_it_was_stopped(migrated_url: str) -> None:
    harness = await make_harness(migrated_url)
    quiet = {"oversold": 1, "overbought": 99}  # never signals: no deal keeps it loaded
    bot_id = await create_bot(harness, "rsi", "rsi", quiet)
    await harness.run(3)
    with harness.sessions() as session:
        async with harness.engine.exclusive():
            bot_service.set_active(session, bot_id, False)
    await harness.run(600)  # ten hours stopped
    assert harness.engine.registry.get(bot_id) is None
    with harness.sessions() as session:
        async with harness.engine.exclusive():
            bot_service.set_active(session, bot_id, True)
    report = await harness.run_one()
    assert (report.bots_stepped, report.candles_stepped) == (1, 1)
    with harness.sessions() as session:
        bot = session.get(Bot, bot_id)
        assert bot is not None and bot.last_candle_time == START + 603 * 60


async def test_a_stopped_grid_withdraws_its_buys_and_can_then_be_deleted(
    migrated_url: str,
) -> None:
    harness = await make_harness(migrated_url)
    price = float(await harness.market.last_price("ETH-BTC"))
    config = {
        "lower_price": round(price * 0.97, 5),
        "upper_price": round(price * 1.03, 5),
        "levels": 7,
        "quote_per_level": 0.005,
    }
    bot_id = await create_bot(harness, "grid", "grid", config)
    await harness.run(2)
    with harness.sessions() as session:
        armed = session.scalars(select(Order).where(Order.status == "open")).all()
        assert armed and all(o.purpose == "grid_buy" for o in armed)
        async with harness.engine.exclusive():
            bot_service.set_active(session, bot_id, False)
    await harness.run(1)
    with harness.sessions() as session:
        assert session.scalars(select(Order).where(Order.status == "open")).all() == []
        assert session.scalars(select(Position).where(Position.status == "open")).all() == []
    await harness.run(1)
    assert harness.engine.registry.get(bot_id) is None
    with harness.sessions() as session:
        bot_service.delete_bot(session, bot_id)
    assert ledger_mismatches(harness.sessions) == []


async def test_a_bot_deleted_mid_cycle_does_not_cost_the_others_their_step(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = await make_harness(migrated_url)
    doomed = await create_bot(harness, "doomed", "rsi", BUSY_CONFIGS["rsi"])
    survivor = await create_bot(harness, "survivor", "rsi", BUSY_CONFIGS["rsi"])
    await harness.run(1)
    real_flush = CycleWriter.flush

    def delete_first(self: CycleWriter, session: Any) -> None:
        session.execute(Bot.__table__.delete().where(Bot.id == doomed))
        real_flush(self, session)

    monkeypatch.setattr(CycleWriter, "flush", delete_first)
    await harness.run(1)
    monkeypatch.undo()
    with harness.sessions() as session:
        assert session.get(Bot, doomed) is None
        other = session.get(Bot, survivor)
        assert other is not None and other.last_candle_time == START + 60


async def test_a_bot_soft_deleted_elsewhere_leaves_the_engine_untouched(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Marked deleted mid-cycle (with is_active still set): its step's bookkeeping is
    dropped, and the next sync unloads it for good."""
    harness = await make_harness(migrated_url)
    doomed = await create_bot(harness, "doomed", "rsi", {"oversold": 1, "overbought": 99})
    await harness.run(1)
    assert harness.engine.registry.get(doomed) is not None
    with harness.sessions() as session:
        before = session.get(Bot, doomed)
        assert before is not None and before.last_candle_time == START
    real_flush = CycleWriter.flush

    def delete_first(self: CycleWriter, session: Any) -> None:
        deleted = {"deleted_at": datetime.now(UTC)}
        session.execute(Bot.__table__.update().where(Bot.id == doomed).values(**deleted))
        real_flush(self, session)

    monkeypatch.setattr(CycleWriter, "flush", delete_first)
    await harness.run(1)
    monkeypatch.undo()
    await harness.run(3)
    assert harness.engine.registry.get(doomed) is None
    with harness.sessions() as session:
        after = session.get(Bot, doomed)
        assert after is not None and after.is_active and after.last_candle_time == START


async def test_after_a_failed_commit_the_same_engine_carries_on_exactly(
    migrated_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference_url = f"sqlite:///{tmp_path}/reference.db"
    upgrade_database(reference_url)
    reference = await make_harness(reference_url)
    for strategy, config in BUSY_CONFIGS.items():
        await create_bot(reference, strategy, strategy, config)
    await reference.run(150)

    harness = await make_harness(migrated_url)
    for strategy, config in BUSY_CONFIGS.items():
        await create_bot(harness, strategy, strategy, config)
    await harness.run(80)

    def fail(self: CycleWriter, session: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(CycleWriter, "flush", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        await harness.run(1)
    monkeypatch.undo()
    await harness.run(69)  # the failed cycle's candle is caught up by the next one
    assert fill_rows(harness.sessions) == fill_rows(reference.sessions)
    assert ledger_mismatches(harness.sessions) == []


def test_open_deals_pin_the_timeframe_and_a_grid_its_settings(migrated_url: str) -> None:
    sessions = make_session_factory(make_engine(migrated_url))
    product = POPULAR_SPECS["ETH-BTC"]
    grid_config = {"lower_price": 0.05, "upper_price": 0.06}
    data = bot_service.BotInput(
        name="grid",
        strategy_type="grid",
        product_id="ETH-BTC",
        timeframe="5m",
        budget=Decimal("0.1"),
        strategy_config=grid_config,
    )
    with sessions() as session:
        grid = bot_service.create_bot(session, data, product)
        frozen = {"levels": ["0.05", "0.06"], "filled": [], "cycles": [1, 0]}
        grid.manager_state = {"next_deal_seq": 4, "grid": frozen}
        grid.last_candle_time = START
        session.commit()
        moved = bot_service.BotChanges(
            timeframe="1h", strategy_config={"lower_price": 0.051, "upper_price": 0.06}
        )
        changed = bot_service.update_bot(session, grid.id, moved, None)
        # no deals: the bot starts afresh on the new timeframe with newly drawn levels
        assert changed.last_candle_time is None
        assert changed.manager_state == {"next_deal_seq": 4, "grid": None}
        session.add(
            Position(bot_id=grid.id, seq=4, product_id="ETH-BTC", opened_at=datetime.now(UTC))
        )
        session.commit()
        for changes in (
            bot_service.BotChanges(timeframe="5m"),
            bot_service.BotChanges(strategy_config={"lower_price": 0.052, "upper_price": 0.06}),
        ):
            with pytest.raises(ConflictError, match="close them before changing"):
                bot_service.update_bot(session, grid.id, changes, None)


async def test_a_rejected_order_is_shown_in_last_error_and_the_signal_log(
    migrated_url: str,
) -> None:
    harness = await make_harness(migrated_url)  # the paper account starts with 1 BTC
    config = {"buy_amount": 2, "interval_minutes": 60, "take_profit_pct": 5}
    bot_id = await create_bot(harness, "greedy", "simple_dca", config, budget="5")
    await harness.run(1)
    expected = "order tf-1-1-b1 rejected: insufficient BTC: need 2, available 1"
    with harness.sessions() as session:
        bot = session.get(Bot, bot_id)
        assert bot is not None and bot.last_error == expected
        errors = session.scalars(select(Signal).where(Signal.action == "error")).all()
        assert [e.reason for e in errors] == [expected]
        assert session.scalars(select(Position)).all() == []
        order = session.scalars(select(Order)).one()
        assert (order.status, order.error) == ("rejected", "insufficient BTC: need 2, available 1")
    await harness.run(1)  # the next candle has nothing to complain about
    with harness.sessions() as session:
        bot = session.get(Bot, bot_id)
        assert bot is not None and bot.last_error is None


async def test_candles_the_market_no_longer_serves_are_reported(migrated_url: str) -> None:
    harness = await make_harness(migrated_url)
    bot_id = await create_bot(harness, "rsi", "rsi", {"oversold": 1, "overbought": 99})
    await harness.run(1)
    await harness.run_one(step=2000 * 60)  # down for 2,000 minutes: more than a fetch holds
    with harness.sessions() as session:
        bot = session.get(Bot, bot_id)
        assert bot is not None and bot.last_error is not None
        assert bot.last_error.endswith(f"resumed at {START + 2001 * 60 - 1000 * 60}")
        assert bot.last_candle_time == START + 2000 * 60
