"""Live bots on the fake exchange: a bot row, its runtime as the engine loads it, and
a step of it through the real ccxt client (``engine.live_step``)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from tests.brokers.live_kit import BTC_USD, Live

from tradefleet.db.models import Bot, Order
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


def new_bot(live: Live) -> int:
    with transaction(live.sessions) as session:
        bot = Bot(name="live rsi", strategy_type="rsi", strategy_config={}, product_id="BTC-USD",
                  timeframe="5m", budget=D(1000), is_active=True, account="live")  # fmt: skip
        session.add(bot)
        session.flush()
        return bot.id


def load_runtime(live: Live, bot_id: int, settings: DealSettings = SETTINGS) -> BotRuntime:
    """The bot as the engine loads it from the database (a restart does the same)."""
    with transaction(live.sessions) as session:
        bot = session.get_one(Bot, bot_id)
        state, book, position_ids = restore_state(session, bot)
        return BotRuntime(
            bot_id=bot_id, name=bot.name, product=BTC_USD, timeframe="5m", tf_seconds=300,
            strategy=StrategyRegistry.create("rsi", {}), settings=settings, state=state,
            is_active=bot.is_active, last_candle_time=bot.last_candle_time, updated_marker="",
            book=book, position_ids=position_ids,
        )  # fmt: skip


async def context(live: Live, settings: DealSettings = SETTINGS) -> LiveContext:
    orders = live.broker()
    fees = await orders.gateway.fees()
    return LiveContext(live.sessions, orders, fees, SignalDealManager(settings))


async def step(
    live: Live, runtime: BotRuntime, at: int, action: SignalAction, price: float = 50000
) -> LiveStepReport:
    assert isinstance(runtime.settings, DealSettings)
    ctx = await context(live, runtime.settings)
    candle = Candle(time=at, open=price, high=price, low=price, close=price, volume=1)
    return await live_step(runtime, candle, SignalEvent(at, action, price, "test"), ctx)


def stored_orders(live: Live) -> dict[str, tuple[str, str | None]]:
    with transaction(live.sessions) as session:
        rows = session.scalars(select(Order).order_by(Order.id))
        return {row.client_order_id: (row.status, row.error) for row in rows}


def exchange_orders(live: Live) -> dict[str, tuple[str, str, bool]]:
    """The fake's orders: status, size (base, or quote for a market buy), post only."""
    return {
        order.client_order_id: (order.status, f"{order.quote_size or order.base_size}",
                                order.post_only)
        for order in live.exchange.orders.values()
    }  # fmt: skip
