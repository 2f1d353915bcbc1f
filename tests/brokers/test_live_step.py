"""A live bot's step (``engine.live_step``): the deal machine trading on the fake
exchange through the real ccxt client, worked by hand.

The deal is test_live_replay's: a 100 USD market buy on BTC-USD at 50,000 fills as
0.0019762845 BTC for 98.814225 USD and a 1.2 % fee of 1.1857707; then a safety buy
rests 2 % lower (0.00040816 at 49,000), the take profit 2 % above the average (0.00197628
at 51,000) and the stop 5 % below it (47,500) is watched, not sent.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from tests.brokers.live_kit import BTC_USD, Live

from tradefleet.db.models import Bot, Fill, Order, Position, Signal
from tradefleet.db.session import transaction
from tradefleet.deals.protocol import SignalDealManager
from tradefleet.deals.settings import DealSettings
from tradefleet.domain import Candle, SignalAction
from tradefleet.domain import Signal as SignalEvent
from tradefleet.engine.live_step import LiveContext, LiveStepReport, live_step
from tradefleet.engine.runtime import BotRuntime
from tradefleet.engine.store import restore_state
from tradefleet.strategies.base import StrategyRegistry

D = Decimal
SETTINGS = DealSettings(
    budget=D(1000), base_order_quote=D(100), safety_order_count=1, safety_order_quote=D(20),
    safety_deviation_pct=D(2), take_profit_pct=D(2), stop_loss_pct=D(5),
)  # fmt: skip
T0 = 1_700_000_100 // 300 * 300


def _bot(live: Live) -> int:
    with transaction(live.sessions) as session:
        bot = Bot(name="live rsi", strategy_type="rsi", strategy_config={}, product_id="BTC-USD",
                  timeframe="5m", budget=D(1000), is_active=True)  # fmt: skip
        session.add(bot)
        session.flush()
        return bot.id


def _runtime(live: Live, bot_id: int) -> BotRuntime:
    """The bot as the engine loads it from the database (a restart does the same)."""
    with transaction(live.sessions) as session:
        bot = session.get_one(Bot, bot_id)
        state, book, position_ids = restore_state(session, bot)
        return BotRuntime(
            bot_id=bot_id, name=bot.name, product=BTC_USD, timeframe="5m", tf_seconds=300,
            strategy=StrategyRegistry.create("rsi", {}), settings=SETTINGS, state=state,
            is_active=bot.is_active, last_candle_time=bot.last_candle_time, updated_marker="",
            book=book, position_ids=position_ids,
        )  # fmt: skip


async def _step(live: Live, runtime: BotRuntime, at: int, action: SignalAction) -> LiveStepReport:
    orders = live.broker()
    fees = await orders.gateway.fees()
    ctx = LiveContext(live.sessions, orders, fees, SignalDealManager(SETTINGS))
    candle = Candle(time=at, open=50000, high=50000, low=50000, close=50000, volume=1)
    return await live_step(runtime, candle, SignalEvent(at, action, 50000, "test"), ctx)


def _orders(live: Live) -> dict[str, tuple[str, str | None]]:
    with transaction(live.sessions) as session:
        rows = session.scalars(select(Order).order_by(Order.id))
        return {row.client_order_id: (row.status, row.error) for row in rows}


def _exchange(live: Live) -> dict[str, tuple[str, str, bool]]:
    """The fake's orders: status, size (base, or quote for a market buy), post only."""
    return {
        order.client_order_id: (order.status, f"{order.quote_size or order.base_size}",
                                order.post_only)
        for order in live.exchange.orders.values()
    }  # fmt: skip


async def test_a_buy_signal_fills_at_once_and_its_ladder_rests_in_the_same_step(
    live: Live,
) -> None:
    runtime = _runtime(live, _bot(live))
    report = await _step(live, runtime, T0, SignalAction.BUY)
    assert report.problems == [] and report.told == ["tf-1-1-b1"]
    assert _exchange(live) == {
        "tf-1-1-b1": ("FILLED", "100.00", False),
        "tf-1-1-s2": ("OPEN", "0.00040816", True),
        "tf-1-1-tp3": ("OPEN", "0.00197628", True),
    }
    assert _orders(live) == {
        "tf-1-1-b1": ("filled", None), "tf-1-1-s2": ("open", None),
        "tf-1-1-tp3": ("open", None), "tf-1-1-st4": ("watched", None),
    }  # fmt: skip
    with transaction(live.sessions) as session:
        deal = session.scalars(select(Position)).one()
        assert (deal.status, deal.base_amount, deal.bought_quote, deal.buy_fees) == (
            "open", D("0.0019762845"), D("98.814225"), D("1.1857707"))  # fmt: skip
        assert (deal.take_profit_price, deal.stop_price) == (D("51000.00"), D("47500.00"))
        fill = session.scalars(select(Fill)).one()
        assert (fill.base_amount, fill.quote_amount, fill.fee) == (
            D("0.0019762845"), D("98.814225"), D("1.1857707"))  # fmt: skip
        bot = session.get_one(Bot, runtime.bot_id)
        assert (bot.last_candle_time, bot.last_error, bot.is_active) == (T0, None, True)
        assert [s.action for s in session.scalars(select(Signal))] == ["buy"]
    # a restart loads the same deal machine: the stop comes back watched
    again = _runtime(live, runtime.bot_id)
    assert [o.client_order_id for o in again.state.working_orders()] == [
        "tf-1-1-s2", "tf-1-1-tp3", "tf-1-1-st4"]  # fmt: skip


async def test_the_take_profit_filling_between_closes_closes_the_deal_at_the_next(
    live: Live,
) -> None:
    bot_id = _bot(live)
    await _step(live, _runtime(live, bot_id), T0, SignalAction.BUY)
    live.exchange.trade("BTC-USD", "51000")
    report = await _step(live, _runtime(live, bot_id), T0 + 300, SignalAction.HOLD)
    assert report.problems == [] and report.told == ["tf-1-1-tp3"]
    assert _exchange(live)["tf-1-1-s2"][0] == "CANCELLED"  # the safety buy withdrawn
    statuses = {cid: status for cid, (status, _) in _orders(live).items()}
    assert statuses == {"tf-1-1-b1": "filled", "tf-1-1-s2": "cancelled",
                        "tf-1-1-tp3": "filled", "tf-1-1-st4": "cancelled"}  # fmt: skip
    with transaction(live.sessions) as session:
        deal = session.scalars(select(Position)).one()
        # 0.00197628 x 51,000 = 100.79028, maker fee 0.6 % = 0.60474168: 100.18553832
        # back for 99.9999957 spent; 0.0000000045 BTC stays as dust
        assert (deal.status, deal.close_reason, deal.realized_pnl, deal.base_amount) == (
            "closed", "take_profit", D("0.18554262"), D("0.0000000045"))  # fmt: skip
    # nothing of the bot works on the exchange any more, and a next step sends nothing
    before = live.creates_sent()
    report = await _step(live, _runtime(live, bot_id), T0 + 600, SignalAction.HOLD)
    assert (report.sent, report.cancelled, live.creates_sent()) == ([], [], before)


async def test_an_order_the_exchange_refuses_is_told_in_the_same_step(live: Live) -> None:
    live.exchange.account.set_balance("USD", "50")  # less than the 100 USD base order
    bot_id = _bot(live)
    report = await _step(live, _runtime(live, bot_id), T0, SignalAction.BUY)
    assert report.told == ["tf-1-1-b1"]
    status, error = _orders(live)["tf-1-1-b1"]
    assert status == "rejected" and error is not None and "INSUFFICIENT_FUND" in error
    with transaction(live.sessions) as session:
        assert session.scalars(select(Position)).all() == []  # the empty deal dropped
        bot = session.get_one(Bot, bot_id)
        assert bot.last_error is not None and "tf-1-1-b1" in bot.last_error
        assert bot.is_active  # a refusal is shown; it does not stop the bot
