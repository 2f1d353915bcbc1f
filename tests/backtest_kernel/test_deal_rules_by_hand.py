"""The deal rules of issue 7, worked out by hand, run on the reference deal machine
(``deals.simulate``) and on the compiled kernel, which must give the same fills.

Product: prices on a 0.001 grid, sizes on 0.0001, quote on 0.0001; taker 0.6 %, maker
0.4 %. A market buy of Q at price p buys floor(Q / (p x 1.006)) to 0.0001.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from kernel_testkit import FEES, assert_same_fills, both

from tradefleet.deals.protocol import manager_for
from tradefleet.deals.settings import DealSettings
from tradefleet.deals.simulate import SimulationResult, Simulator
from tradefleet.deals.state import BotState
from tradefleet.domain import Candle, ProductSpec, Side, Signal, SignalAction

D = Decimal
BUY, SELL, HOLD = SignalAction.BUY, SignalAction.SELL, SignalAction.HOLD
PRODUCT = ProductSpec(
    product_id="X-BTC",
    base_currency="X",
    quote_currency="BTC",
    base_increment=D("0.0001"),
    quote_increment=D("0.0001"),
    price_increment=D("0.001"),
    base_min_size=D("0.0001"),
    quote_min_size=D("0.0001"),
)


def bar(time: int, o: float, h: float, low: float, c: float) -> Candle:
    return Candle(time, o, h, low, c, 1.0)


def run(
    settings: DealSettings, bars: list[Candle], actions: list[SignalAction], step: int
) -> SimulationResult:
    """The reference's run, after checking that the kernel fills exactly the same."""
    kernel, reference = both(settings, bars, actions, PRODUCT, fees=FEES, step=step)
    assert_same_fills(kernel, reference.fills, PRODUCT)
    return reference


# The case: rsi-like deal, 3 safety orders 1 % apart, take profit 1.5 %, trailing
# 0.5 %. Base buy at the open 9.438: 100 / (9.438 x 1.006) -> 10.5322 base.
LADDER = DealSettings(
    budget=D(1000),
    base_order_quote=D(100),
    safety_order_count=3,
    safety_order_quote=D(100),
    safety_deviation_pct=D(1),
    take_profit_pct=D("1.5"),
    trailing_deviation_pct=D("0.5"),
    signal_exit=False,
    candle_seconds=60,
)


def test_trailing_never_starts_on_the_high_before_the_safety_fills() -> None:
    """Safety orders at 9.438 x 0.99/0.98/0.97 = 9.344, 9.249, 9.155 (nearest tick) all
    fill on candle 120 (low 9.058). Sizes 100/price rounded down: 10.7020, 10.8119,
    10.9229. Average = (99.4029036 + 99.999488 + 99.9992631 + 99.9991495) / 42.969
    = 9.29509..., activation 9.29509 x 1.015 = 9.43477 -> 9.435. Candle 120's high
    9.548 came before those limit buys, so it must not start the trail (it would set a
    stop at 9.548 x 0.995 = 9.500 and sell at the next open 9.30, below the average).
    The first later high at or above 9.435 is candle 300's 9.436: stop 9.436 x 0.995 =
    9.38882 -> 9.389, hit by candle 360, which opens below it: sold at the open 9.351."""
    bars = [
        bar(0, 9.44, 9.44, 9.44, 9.44),
        bar(60, 9.438, 9.45, 9.43, 9.44),
        bar(120, 9.472, 9.548, 9.058, 9.30),
        bar(180, 9.30, 9.40, 9.25, 9.35),
        bar(240, 9.35, 9.43, 9.30, 9.40),
        bar(300, 9.40, 9.436, 9.39, 9.41),
        bar(360, 9.351, 9.36, 9.34, 9.35),
        bar(420, 9.35, 9.36, 9.34, 9.35),
    ]
    result = run(LADDER, bars, [BUY] + [HOLD] * 7, 60)
    fills = [(f.time, f.side, f.price, f.base_amount) for f in result.fills]
    assert fills == [
        (60, Side.BUY, D("9.438"), D("10.5322")),
        (120, Side.BUY, D("9.344"), D("10.7020")),
        (120, Side.BUY, D("9.249"), D("10.8119")),
        (120, Side.BUY, D("9.155"), D("10.9229")),
        (360, Side.SELL, D("9.351"), D("42.9690")),
    ]
    (deal,) = result.closed_deals
    assert deal.take_profit_price == D("9.435")
    assert deal.stop_price == D("9.389")
    # 9.351 x 42.969 = 401.803119, taker fee 2.410818714; cost 399.4008042 + fees
    # 0.5964174216 + 0.399997952 + 0.3999970524 + 0.399996598 = 401.197213224.
    assert deal.realized_pnl == D("401.803119") - D("2.410818714") - D("401.197213224")
    assert str(deal.close_reason) == "trailing_take_profit"


def test_trailing_starts_on_the_high_after_a_market_fill_at_the_open() -> None:
    """The base order fills at candle 60's open 9.438; that candle's high 9.60 came
    after the fill, so it starts the trail at once: activation 9.438 x 1.015 = 9.57957
    -> 9.580 <= 9.60, stop 9.60 x 0.995 = 9.552, hit by candle 120's gap open 9.50."""
    settings = replace(LADDER, safety_order_count=0)
    bars = [
        bar(0, 9.44, 9.44, 9.44, 9.44),
        bar(60, 9.438, 9.60, 9.43, 9.58),
        bar(120, 9.50, 9.51, 9.49, 9.50),
        bar(180, 9.50, 9.51, 9.49, 9.50),
    ]
    result = run(settings, bars, [BUY, HOLD, HOLD, HOLD], 60)
    assert [(f.time, f.side, f.price) for f in result.fills] == [
        (60, Side.BUY, D("9.438")),
        (120, Side.SELL, D("9.50")),
    ]
    assert result.closed_deals[0].stop_price == D("9.552")


# One deal spends the whole budget: 100 at the open 10 buys 100 / 10.06 -> 9.9403 base,
# cost 99.403 + fee 0.596418 = 99.999418.
ALL_IN = DealSettings(
    budget=D(100),
    base_order_quote=D(100),
    exit_min_profit_pct=D(-100),  # a SELL signal sells at any price
    candle_seconds=60,
)
LOSING_BARS = [
    bar(0, 10, 10, 10, 10),
    bar(60, 10, 10, 10, 10),
    bar(120, 9, 9, 9, 9),
    bar(180, 9, 9, 9, 9),
    bar(240, 9, 9, 9, 9),
    bar(300, 9, 9, 9, 9),
]
LOSING_ACTIONS = [BUY, HOLD, SELL, BUY, BUY, HOLD]
# Sold at the open 9: 9.9403 x 9 = 89.4627, fee 0.5367762 -> PnL 88.9259238 - 99.999418.
LOSS = D("99.999418") - D("88.9259238")


def test_a_realised_loss_shrinks_what_the_bot_may_commit() -> None:
    """After losing 11.0734942 the bot may commit 88.9265058: the next base order of 100
    is not placed, on either BUY signal, and the bot says why."""
    result = run(ALL_IN, LOSING_BARS, LOSING_ACTIONS, 60)
    assert [(f.time, f.side, f.price) for f in result.fills] == [
        (60, Side.BUY, D("10")),
        (180, Side.SELL, D("9")),
    ]
    assert result.closed_deals[0].realized_pnl == -LOSS == D("-11.0734942")
    assert result.final_state.realized_pnl == -LOSS
    assert result.orders[-1].client_order_id == "tf-1-1-x2"  # nothing placed after the exit


def test_the_budget_exhausted_note_names_the_loss_and_the_budget() -> None:
    sim = Simulator(manager_for(ALL_IN), BotState(1), PRODUCT, FEES)
    for index, candle in enumerate(LOSING_BARS):
        sim.step(candle, Signal(candle.time, LOSING_ACTIONS[index], candle.close), candle.time + 60)
    expected = "budget exhausted: realised loss 11.0734942 of budget 100"
    assert sim.notes == [(180, expected), (240, expected)]  # the two refused BUYs


@pytest.mark.parametrize("compound", [False, True])
def test_only_compounding_lets_realised_profits_be_committed(compound: bool) -> None:
    """Deals of 60, at most two at once, budget 100. The first deal buys 60 / 10.06 ->
    5.9642 base at 10 (cost 59.642 + fee 0.357852) and sells at 14 (83.4988 - fee
    0.5009928): profit 22.9979552. Two open deals then commit 2 x 59.999852 (the second
    buys at 14: 60 / 14.084 -> 4.2601 base, 59.6414 + 0.3578484), over the budget of
    100 but within 100 + the profit: only a compounding bot opens the third deal."""
    settings = replace(
        ALL_IN, base_order_quote=D(60), max_active_deals=2, compound_profits=compound
    )
    bars = [bar(0, 10, 10, 10, 10), bar(60, 10, 10, 10, 10), bar(120, 14, 14, 14, 14)]
    bars += [bar(t, 14, 14, 14, 14) for t in range(180, 420, 60)]
    actions = [BUY, HOLD, SELL, BUY, BUY, HOLD, HOLD]
    result = run(settings, bars, actions, 60)
    assert result.final_state.realized_pnl == D("83.4988") - D("0.5009928") - D("59.999852")
    buys = [(f.time, f.price, f.base_amount) for f in result.fills if f.side is Side.BUY]
    third = [(300, D("14"), D("4.2601"))] if compound else []
    assert buys == [(60, D("10"), D("5.9642")), (240, D("14"), D("4.2601")), *third]


@pytest.mark.parametrize(
    ("second_buy_at", "opens"),
    [(1800, False), (2100, True)],
    ids=["decision-25-minutes-after-the-exit", "decision-30-minutes-after-the-exit"],
)
def test_the_cooldown_counts_from_the_exit_fill_to_the_decision(
    second_buy_at: int, opens: bool
) -> None:
    """5m candles, cooldown 30 minutes. The exit fills at the open of candle 600 (the
    "10:50" of the issue). The BUY on candle 1800 is decided at its close 2100, 25
    minutes after the exit: refused. The BUY on candle 2100 is decided at 2400, 30
    minutes after: allowed (its base order fills at the next open, 2400)."""
    settings = replace(ALL_IN, budget=D(1000), cooldown_seconds=1800, candle_seconds=300)
    bars = [bar(t, 10, 10, 10, 10) for t in range(0, 3000, 300)]
    actions = [HOLD] * len(bars)
    actions[0] = BUY
    actions[1] = SELL
    actions[second_buy_at // 300] = BUY
    result = run(settings, bars, actions, 300)
    times = [(f.time, f.side) for f in result.fills]
    assert times[:2] == [(300, Side.BUY), (600, Side.SELL)]
    assert times[2:] == ([(second_buy_at + 300, Side.BUY)] if opens else [])
