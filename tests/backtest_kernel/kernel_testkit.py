"""Builders for the kernel tests: products, candle walks, signals and a reference run."""

from __future__ import annotations

import random
from decimal import Decimal

import numpy as np

from tradefleet.backtest.kernel import KernelResult, run_kernel, to_fills
from tradefleet.deals.book import total_committed
from tradefleet.deals.protocol import manager_for
from tradefleet.deals.settings import DealSettings, GridSettings
from tradefleet.deals.simulate import SimulationResult, Simulator, simulate
from tradefleet.deals.state import BotState
from tradefleet.domain import (
    BoolArray,
    Candle,
    CandleArrays,
    FeeSchedule,
    Fill,
    ProductSpec,
    Signal,
    SignalAction,
)

D = Decimal
MINUTE = 60

# Coarse increments (USD-like) keep hand-worked numbers short.
USD = ProductSpec(
    product_id="ETH-USD",
    base_currency="ETH",
    quote_currency="USD",
    base_increment=D("0.0001"),
    quote_increment=D("0.01"),
    price_increment=D("0.01"),
    base_min_size=D("0.0001"),
    quote_min_size=D("1"),
)
# Coinbase's ETH-BTC increments: prices near 0.05 with 5 decimals, 8-decimal sizes.
BTC = ProductSpec(
    product_id="ETH-BTC",
    base_currency="ETH",
    quote_currency="BTC",
    base_increment=D("0.00000001"),
    quote_increment=D("0.00000001"),
    price_increment=D("0.00001"),
    base_min_size=D("0.00022"),
    quote_min_size=D("0.000016"),
)
FEES = FeeSchedule(taker=D("0.006"), maker=D("0.004"))


def walk(
    seed: int, count: int, start: float, vol: float, *, decimals: int | None, step: int = MINUTE
) -> list[Candle]:
    """A gap-free random walk (time step = ``step``); ``decimals=None`` keeps raw floats."""
    rng = random.Random(seed)
    bars: list[Candle] = []
    price = start

    def shape(value: float) -> float:
        return value if decimals is None else round(value, decimals)

    for index in range(count):
        close = max(start / 50, price * (1 + rng.gauss(0, vol)))
        high = max(price, close) * (1 + abs(rng.gauss(0, vol / 2)))
        low = min(price, close) * (1 - abs(rng.gauss(0, vol / 2)))
        open_, high, low, close = shape(price), shape(high), shape(low), shape(close)
        high, low = max(open_, high, close), min(open_, low, close)
        bars.append(Candle(index * step, open_, high, low, close, 1.0))
        price = close
    return bars


def random_actions(seed: int, count: int) -> list[SignalAction]:
    rng = random.Random(seed)
    actions = [SignalAction.BUY, SignalAction.SELL] + [SignalAction.HOLD] * 3
    return [rng.choice(actions) for _ in range(count)]


def signals_for(bars: list[Candle], actions: list[SignalAction]) -> list[Signal]:
    return [Signal(bar.time, action, bar.close) for bar, action in zip(bars, actions, strict=True)]


def flags(actions: list[SignalAction]) -> tuple[BoolArray, BoolArray]:
    buy = np.array([a is SignalAction.BUY for a in actions], dtype=np.bool_)
    sell = np.array([a is SignalAction.SELL for a in actions], dtype=np.bool_)
    return buy, sell


def both(
    settings: DealSettings | GridSettings,
    bars: list[Candle],
    actions: list[SignalAction],
    product: ProductSpec,
    *,
    fees: FeeSchedule = FEES,
    step: int = MINUTE,
) -> tuple[KernelResult, SimulationResult]:
    """The kernel's run and the reference's (``deals.simulate``) on the same input."""
    buy, sell = flags(actions)
    kernel = run_kernel(settings, buy, sell, CandleArrays.from_candles(bars), product, fees, step)
    reference = simulate(settings, signals_for(bars, actions), bars, product, fees)
    return kernel, reference


def reference_peak(
    settings: DealSettings | GridSettings,
    bars: list[Candle],
    actions: list[SignalAction],
    product: ProductSpec,
    fees: FeeSchedule,
) -> Decimal:
    """Most quote committed at the close of a candle that placed an order (the
    backtest runner's definition), from the reference machine."""
    sim = Simulator(manager_for(settings), BotState(1), product, fees)
    peak = Decimal(0)
    for index, (bar, signal) in enumerate(zip(bars, signals_for(bars, actions), strict=True)):
        placed = len(sim.orders)
        nxt = bars[index + 1].time if index + 1 < len(bars) else bar.time + 1
        sim.step(bar, signal, nxt)
        if len(sim.orders) != placed:
            peak = max(peak, total_committed(sim.state, fees))
    return peak


def assert_same_fills(kernel: KernelResult, reference: list[Fill], product: ProductSpec) -> None:
    """Exact equality after ``to_fills``, and the float columns within 1e-9 relative."""
    assert to_fills(kernel, product) == reference
    fills = kernel.fills
    for index, fill in enumerate(reference):
        assert fills.time[index] == fill.time
        assert fills.base_amount[index] == float(fill.base_amount)
        for got, want in (
            (fills.price[index], fill.price),
            (fills.quote_amount[index], fill.quote_amount),
            (fills.fee[index], fill.fee),
        ):
            assert abs(got - float(want)) <= 1e-9 * float(want) + 1e-12
