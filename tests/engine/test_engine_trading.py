"""The engine end to end on a simulated market: every strategy trades, money adds up."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from tests.engine.engine_testkit import (
    BUSY_CONFIGS,
    create_bot,
    fill_rows,
    ledger_mismatches,
    make_harness,
)
from tradefleet.db.models import Bot, Order, Position
from tradefleet.db.models import Fill as FillRow
from tradefleet.db.models import Signal as SignalRow
from tradefleet.domain import FeeSchedule
from tradefleet.money import fee_for


async def _grid_config(harness: object) -> dict[str, object]:
    from tests.engine.engine_testkit import Harness

    assert isinstance(harness, Harness)
    price = float(await harness.market.last_price("ETH-BTC"))
    return {
        "lower_price": round(price * 0.985, 5),
        "upper_price": round(price * 1.015, 5),
        "levels": 9,
        "quote_per_level": 0.005,
    }


async def test_every_strategy_trades_and_the_ledger_is_exact(migrated_url: str) -> None:
    harness = await make_harness(migrated_url)
    for strategy, config in BUSY_CONFIGS.items():
        await create_bot(harness, f"{strategy} bot", strategy, config)
    await create_bot(harness, "grid bot", "grid", await _grid_config(harness))

    await harness.run(360)  # six simulated hours of one-minute candles

    with harness.sessions() as session:
        bots = {bot.strategy_type: bot for bot in session.scalars(select(Bot))}
        assert all(bot.last_error is None for bot in bots.values())
        for strategy in BUSY_CONFIGS:
            closed = session.scalars(
                select(Position).where(
                    Position.bot_id == bots[strategy].id, Position.status == "closed"
                )
            ).all()
            assert closed, f"{strategy} closed no deal"
            for deal in closed:
                cost = deal.bought_quote + deal.buy_fees
                assert deal.realized_pnl == deal.sold_quote - deal.sell_fees - cost
                assert deal.base_amount == 0
                assert deal.sold_base == deal.bought_base
        grid_buys = session.scalars(
            select(Order).where(
                Order.bot_id == bots["grid"].id,
                Order.purpose == "grid_buy",
                Order.status == "filled",
            )
        ).all()
        assert grid_buys, "the grid bot filled no level"
    assert ledger_mismatches(harness.sessions) == []


async def test_every_fill_pays_the_fee_of_its_order_type(migrated_url: str) -> None:
    harness = await make_harness(migrated_url)
    for strategy, config in BUSY_CONFIGS.items():
        await create_bot(harness, f"{strategy} bot", strategy, config)
    await harness.run(180)
    fees = FeeSchedule()
    with harness.sessions() as session:
        fills = session.scalars(select(FillRow)).all()
        assert len(fills) > 20
        for fill in fills:
            order = session.get(Order, fill.order_id)
            assert order is not None
            rate = fees.maker if order.order_type == "limit" else fees.taker
            assert fill.fee == fee_for(fill.quote_amount, rate)
            assert order.status == "filled"
            assert order.filled_base == fill.base_amount


async def test_a_cycle_fetches_each_product_and_timeframe_once(migrated_url: str) -> None:
    harness = await make_harness(migrated_url)
    for index in range(12):
        product = ("ETH-BTC", "SOL-BTC", "BTC-USD")[index % 3]
        budget = "1000" if product.endswith("USD") else "0.1"
        await create_bot(harness, f"rsi {index}", "rsi", {}, product_id=product, budget=budget)
    await create_bot(harness, "five minute", "rsi", {}, timeframe="5m")
    harness.clock.advance(60 * 5)
    report = await harness.engine.run_cycle()
    assert (report.keys, report.fetches, report.bots_stepped) == (4, 4, 13)
    harness.clock.advance(60)  # only the 1m candles closed
    report = await harness.engine.run_cycle()
    assert (report.keys, report.fetches, report.bots_stepped) == (3, 3, 12)


async def test_budget_is_never_exceeded_by_a_bot(migrated_url: str) -> None:
    harness = await make_harness(migrated_url)
    config = {"buy_amount": 0.01, "interval_minutes": 1, "take_profit_pct": 50}
    bot_id = await create_bot(harness, "dca", "simple_dca", config, budget="0.05")
    await harness.run(30)
    with harness.sessions() as session:
        spent = sum(
            (f.quote_amount + f.fee for f in session.scalars(select(FillRow)) if f.side == "buy"),
            Decimal(0),
        )
        assert Decimal("0.04") < spent <= Decimal("0.05")
        rows = fill_rows(harness.sessions)
        assert len(rows) == 5 and all(row[1] == bot_id for row in rows)


async def test_realised_losses_on_record_shrink_what_a_loaded_bot_may_commit(
    migrated_url: str,
) -> None:
    """The engine sums the bot's closed deals when it loads it (after a restart too): a
    budget of 0.05 with 0.03 lost on record leaves 0.02, two buys of 0.01, and the
    refusals are in the signal log."""
    harness = await make_harness(migrated_url)
    config = {"buy_amount": 0.01, "interval_minutes": 1, "take_profit_pct": 50}
    bot_id = await create_bot(harness, "dca", "simple_dca", config, budget="0.05")
    with harness.sessions() as session:
        bot = session.get(Bot, bot_id)
        assert bot is not None
        bot.manager_state = {"next_deal_seq": 2}
        session.add(
            Position(
                bot_id=bot_id, seq=1, product_id="ETH-BTC", status="closed",
                opened_at=datetime(2023, 1, 1, tzinfo=UTC),
                closed_at=datetime(2023, 1, 2, tzinfo=UTC), close_reason="stop_loss",
                bought_base=Decimal(1), bought_quote=Decimal("0.05"), buy_fees=Decimal(0),
                sold_base=Decimal(1), sold_quote=Decimal("0.02"), sell_fees=Decimal(0),
                realized_pnl=Decimal("-0.03"),
            )
        )  # fmt: skip
        session.commit()
    await harness.run(10)
    with harness.sessions() as session:
        buys = [f for f in session.scalars(select(FillRow)) if f.side == "buy"]
        spent = sum((f.quote_amount + f.fee for f in buys), Decimal(0))
        assert len(buys) == 2 and spent <= Decimal("0.02")
        notes = set(
            session.scalars(
                select(SignalRow.reason).where(
                    SignalRow.bot_id == bot_id, SignalRow.action == "error"
                )
            )
        )
    assert notes == {"budget exhausted: realised loss 0.03 of budget 0.05"}


async def test_a_trade_drops_the_cached_price_of_its_product(migrated_url: str) -> None:
    harness = await make_harness(migrated_url)
    config = {"buy_amount": 0.01, "interval_minutes": 60, "take_profit_pct": 50}
    await create_bot(harness, "dca", "simple_dca", config)
    await harness.run(1)  # the buy decision
    cache = harness.market.price_cache
    await harness.market.last_price("ETH-BTC")
    await harness.market.last_price("BTC-USD")
    assert {"ETH-BTC", "BTC-USD"} <= set(cache._entries)
    await harness.run(1)  # the buy fills
    assert "ETH-BTC" not in cache._entries
    assert "BTC-USD" in cache._entries
