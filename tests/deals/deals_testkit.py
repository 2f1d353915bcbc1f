"""Small builders shared by the deal tests: a product, fees, candles and signals."""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import Decimal

from tradefleet.brokers.fill_model import WorkingOrder, next_fill
from tradefleet.deals.protocol import Manager
from tradefleet.deals.state import BotState
from tradefleet.domain import (
    Candle,
    FeeSchedule,
    Fill,
    OrderIntent,
    PlaceOrder,
    ProductSpec,
    Signal,
    SignalAction,
)

D = Decimal
MINUTE = 60

# Coarse increments keep hand-worked numbers short.
PRODUCT = ProductSpec(
    product_id="ETH-USD",
    base_currency="ETH",
    quote_currency="USD",
    base_increment=D("0.0001"),
    quote_increment=D("0.01"),
    price_increment=D("0.01"),
    base_min_size=D("0.0001"),
    quote_min_size=D("1"),
)
FEES = FeeSchedule(taker=D("0.006"), maker=D("0.004"))


def candle(time: int, o: float, h: float, low: float, c: float) -> Candle:
    return Candle(time=time, open=o, high=h, low=low, close=c, volume=1.0)


def flat(time: int, price: float) -> Candle:
    return candle(time, price, price, price, price)


def signal(time: int, action: SignalAction = SignalAction.HOLD, price: float = 0.0) -> Signal:
    return Signal(time=time, action=action, price=price)


BUY = SignalAction.BUY
SELL = SignalAction.SELL
HOLD = SignalAction.HOLD


def execute(
    manager: Manager, state: BotState, client_order_id: str, bar: Candle
) -> tuple[Fill, list[OrderIntent]]:
    """Fill one working order of ``state`` on ``bar`` through the fill model, then tell
    the manager: the same path the paper broker takes."""
    _deal, order = state.find_order(client_order_id)
    hit = next_fill([WorkingOrder(order, bar.time)], bar, PRODUCT, FEES)
    assert hit is not None, f"{client_order_id} does not fill on {bar}"
    fill = hit[1]
    return fill, manager.on_fill(state, fill, PRODUCT, FEES)


def ids(intents: Sequence[OrderIntent]) -> list[str]:
    """Each intent as "+id" (place) or "-id" (cancel)."""
    return [
        f"+{i.client_order_id}" if isinstance(i, PlaceOrder) else f"-{i.client_order_id}"
        for i in intents
    ]


def walk(seed: int, count: int, start: float = 100.0, vol: float = 0.02) -> list[Candle]:
    """A reproducible random walk of 1-minute candles, prices on a 0.01 grid."""
    rng = random.Random(seed)
    bars: list[Candle] = []
    price = start
    for index in range(count):
        close = max(1.0, price * (1 + rng.gauss(0, vol)))
        high = max(price, close) * (1 + abs(rng.gauss(0, vol / 2)))
        low = min(price, close) * (1 - abs(rng.gauss(0, vol / 2)))
        bars.append(
            candle(index * MINUTE, round(price, 2), round(high, 2), round(low, 2), round(close, 2))
        )
        price = close
    return bars


def random_signals(seed: int, bars: list[Candle]) -> list[Signal]:
    rng = random.Random(seed)
    actions = [BUY, SELL, HOLD, HOLD, HOLD]
    return [signal(bar.time, rng.choice(actions), bar.close) for bar in bars]
