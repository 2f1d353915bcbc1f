"""The budget rule in the live engine: losses on record, another quote currency, a fee
change under resting safety orders, and what the user sees (found by review, issue 7)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.engine.engine_testkit import BUSY_CONFIGS, create_bot, make_harness
from tradefleet.db.models import Bot, Order, Position
from tradefleet.db.models import Fill as FillRow
from tradefleet.db.models import Signal as SignalRow
from tradefleet.domain import FeeSchedule
from tradefleet.services import bots as bot_service
from tradefleet.services.fees import save_fees

D = Decimal


def _loss_on_record(session: Session, bot_id: int, product_id: str, bought: str, sold: str) -> None:
    """A closed deal of ``bot_id`` that lost ``bought - sold`` (no fees)."""
    bot = session.get(Bot, bot_id)
    assert bot is not None
    bot.manager_state = {"next_deal_seq": 2}
    session.add(
        Position(
            bot_id=bot_id, seq=1, product_id=product_id, status="closed",
            opened_at=datetime(2023, 1, 1, tzinfo=UTC), closed_at=datetime(2023, 1, 2, tzinfo=UTC),
            close_reason="stop_loss", bought_base=D(1), bought_quote=D(bought), buy_fees=D(0),
            sold_base=D(1), sold_quote=D(sold), sell_fees=D(0), realized_pnl=D(sold) - D(bought),
        )
    )  # fmt: skip
    session.commit()


def _notes(session: Session, bot_id: int) -> list[str]:
    query = select(SignalRow.reason).where(SignalRow.bot_id == bot_id, SignalRow.action == "error")
    return list(session.scalars(query.order_by(SignalRow.id)))


async def test_losses_in_another_quote_currency_do_not_shrink_the_budget(
    migrated_url: str,
) -> None:
    """50 USD lost on ETH-USD, then the bot moves to ETH-BTC with a budget of 0.05 BTC:
    the USD loss says nothing about its BTC, so it buys as a new bot would."""
    harness = await make_harness(migrated_url)
    config = {"buy_amount": 0.01, "interval_minutes": 1, "take_profit_pct": 50}
    usd = {**config, "buy_amount": 100}
    bot_id = await create_bot(
        harness, "dca", "simple_dca", usd, product_id="ETH-USD", budget="1000", start=False
    )
    with harness.sessions() as session:
        _loss_on_record(session, bot_id, "ETH-USD", "300", "250")
        product = await harness.market.product("ETH-BTC")
        changes = bot_service.BotChanges(
            product_id="ETH-BTC", budget=D("0.05"), strategy_config=config
        )
        bot_service.update_bot(session, bot_id, changes, product)
        bot_service.set_active(session, bot_id, True)
    await harness.run(6)  # the first cycle's sync reloads the edited bot
    with harness.sessions() as session:
        buys = [f for f in session.scalars(select(FillRow)) if f.side == "buy"]
        assert _notes(session, bot_id) == []
    assert len(buys) == 5  # 0.01 a minute: five of the 0.05 fit


async def test_an_exhausted_budget_stays_in_last_error_and_is_logged_once(
    migrated_url: str,
) -> None:
    """0.04 of 0.05 lost on record, buys of 0.02 every 2 minutes: each BUY is refused.
    The signal log says so once (the loss does not change), last_error every cycle."""
    harness = await make_harness(migrated_url)
    config = {"buy_amount": 0.02, "interval_minutes": 2, "take_profit_pct": 50}
    bot_id = await create_bot(harness, "dca", "simple_dca", config, budget="0.05")
    with harness.sessions() as session:
        _loss_on_record(session, bot_id, "ETH-BTC", "0.05", "0.01")
    seen = []
    for _ in range(6):
        await harness.run_one()
        with harness.sessions() as session:
            bot = session.get(Bot, bot_id)
            assert bot is not None
            seen.append(bot.last_error)
    note = "budget exhausted: realised loss 0.04 of budget 0.05"
    assert note in seen[:2] and seen[seen.index(note) :] == [note] * (6 - seen.index(note))
    with harness.sessions() as session:
        assert _notes(session, bot_id) == [note]


async def test_the_restored_realised_pnl_is_the_running_one(migrated_url: str) -> None:
    """After hours of trading, a fresh engine on the same database restores exactly the
    realised PnL the running engine had in memory."""
    harness = await make_harness(migrated_url)
    ids = [
        await create_bot(harness, f"{strategy} bot", strategy, config, budget="0.05")
        for strategy, config in BUSY_CONFIGS.items()
    ]
    await harness.run(240)
    running = {i: harness.engine.registry.get(i).state.realized_pnl for i in ids}
    assert any(value < 0 for value in running.values())
    again = await make_harness(migrated_url, harness.clock)
    assert {i: again.engine.registry.get(i).state.realized_pnl for i in ids} == running


async def test_a_higher_maker_fee_cancels_resting_buys_that_no_longer_fit(
    migrated_url: str,
) -> None:
    """Budget 0.1: a base order of 0.05 (its fee inside) and two safety orders of 0.0248
    (10 % and 20 % below, holding 0.0248 + 0.4 % = 0.0248992 each) commit 0.0997984 at
    most. At a maker fee of 5 % each safety order holds 0.02604: 0.05 + 2 x 0.02604 >
    0.1, so the newest (the deeper one) is cancelled before the next candle can fill it;
    0.05 + 0.02604 fits, so the first stays."""
    harness = await make_harness(migrated_url)
    rsi = {
        "rsi_period": 7, "oversold": 40, "overbought": 60, "buy_amount_pct": 50,
        "safety_order_count": 2, "safety_order_pct": 24.8, "safety_order_deviation_pct": 10,
        "take_profit_pct": 50,
    }  # fmt: skip
    bot_id = await create_bot(harness, "ladder", "rsi", rsi, budget="0.1")
    query = select(Order).where(Order.bot_id == bot_id, Order.purpose == "safety")
    for _ in range(240):
        await harness.run_one()
        with harness.sessions() as session:
            if len(session.scalars(query.where(Order.status == "open")).all()) == 2:
                break
    with harness.sessions() as session:
        first, second = session.scalars(query.order_by(Order.id)).all()
        assert (first.status, second.status) == ("open", "open"), "the ladder never rested"
        save_fees(session, FeeSchedule(taker=D("0.006"), maker=D("0.05")))
    await harness.engine.reload_settings()
    await harness.run_one()
    with harness.sessions() as session:
        statuses = [o.status for o in session.scalars(query.order_by(Order.id))]
        notes = _notes(session, bot_id)
    assert statuses == ["open", "cancelled"]
    assert notes == [
        f"order {second.client_order_id} cancelled: at the current fees the resting buys "
        "exceed what the bot may commit (0.1 of budget 0.1)"
    ]
