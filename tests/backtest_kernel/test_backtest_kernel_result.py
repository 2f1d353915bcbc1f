"""Hand-worked runs: fills, client order ids, per-deal counters, equity and errors."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from kernel_testkit import FEES, USD, D, both, flags

from tradefleet.backtest.kernel import CLOSE_REASONS, PURPOSES, run_kernel, to_fills
from tradefleet.deals.settings import DealSettings, GridSettings, GridSpacing
from tradefleet.domain import Candle, CandleArrays, CloseReason, Fill, OrderPurpose, Side
from tradefleet.domain import SignalAction as A


def bar(time: int, o: float, h: float, low: float, c: float) -> Candle:
    return Candle(time, o, h, low, c, 1.0)


TAKE_PROFIT = DealSettings(budget=D(1000), base_order_quote=D(100), take_profit_pct=D(2))
BARS = [
    bar(0, 100, 100, 100, 100),
    bar(60, 100, 101, 99.5, 100.5),  # the base order fills at the open
    bar(120, 101, 102.5, 100.8, 102.2),  # the high reaches the take profit at 102.00
    bar(180, 102.2, 102.4, 101.9, 102),
]
ACTIONS = [A.BUY, A.HOLD, A.HOLD, A.HOLD]


def test_a_take_profit_deal_worked_by_hand() -> None:
    kernel, reference = both(TAKE_PROFIT, BARS, ACTIONS, USD, fees=FEES)
    # 100 / (100 x 1.006) = 0.99403... -> 0.994 base; 99.4 + fee 0.5964 <= 100.
    # Take profit 100 x 1.02 = 102.00: 0.994 x 102 = 101.388, maker fee 0.405552.
    expected = [
        Fill("tf-1-1-b1", 60, Side.BUY, D(100), D("0.994"), D("99.4"), D("0.5964")),
        Fill("tf-1-1-tp2", 120, Side.SELL, D(102), D("0.994"), D("101.388"), D("0.405552")),
    ]
    assert to_fills(kernel, USD) == expected == reference.fills
    assert [PURPOSES[int(p)] for p in kernel.fills.purpose] == [
        OrderPurpose.BASE,
        OrderPurpose.TAKE_PROFIT,
    ]
    assert list(kernel.fills.deal_seq) == [1, 1]
    assert [f.client_order_id for f in to_fills(kernel, USD, bot_id=7)] == [
        "tf-7-1-b1",
        "tf-7-1-tp2",
    ]


def test_deal_counters_and_equity_worked_by_hand() -> None:
    kernel, _ = both(TAKE_PROFIT, BARS, ACTIONS, USD, fees=FEES)
    deals = kernel.deals
    assert len(deals) == 1
    assert (deals.seq[0], deals.opened_at[0], deals.closed_at[0]) == (1, 60, 120)
    assert CLOSE_REASONS[int(deals.close_reason[0])] is CloseReason.TAKE_PROFIT
    assert (deals.safety_orders[0], deals.adds[0], deals.grid_level[0]) == (0, 0, -1)
    pnl = D("101.388") - D("0.405552") - (D("99.4") + D("0.5964"))  # 0.986048
    assert deals.realized_pnl[0] == pytest.approx(float(pnl), abs=1e-12)
    assert deals.max_committed[0] == 100.0  # the market buy reserves its whole quote
    assert kernel.max_committed_quote == 100.0
    held_at_close = 1000 + 0.994 * 100.5 - 99.9964  # candle 1: holding, valued at its close
    assert kernel.equity == pytest.approx([1000, held_at_close, 1000.986048, 1000.986048])


def test_a_deal_open_at_the_end_has_no_close() -> None:
    kernel, _ = both(TAKE_PROFIT, BARS[:2], ACTIONS[:2], USD, fees=FEES)
    assert list(kernel.deals.closed_at) == [-1]
    assert list(kernel.deals.close_reason) == [-1]
    assert np.isnan(kernel.deals.realized_pnl[0])


def test_a_grid_worked_by_hand() -> None:
    """Levels 90 / 100 / 110; the price starts at 105, so 100 and 90 are armed."""
    config = GridSettings(
        budget=D(1000),
        lower_price=D(90),
        upper_price=D(110),
        levels=3,
        spacing=GridSpacing.ARITHMETIC,
        quote_per_level=D(100),
    )
    bars = [
        bar(0, 105, 105, 105, 105),
        bar(60, 105, 106, 99, 104),  # buys 1 at 100 (deal 1, level 1)
        bar(120, 104, 110, 103, 109),  # sells it at 110, re-arms level 1 (deal 3)
        bar(180, 109, 109, 100, 101),  # buys again at 100
    ]
    kernel, reference = both(config, bars, [A.HOLD] * 4, USD, fees=FEES)
    fills = to_fills(kernel, USD)
    assert fills == reference.fills
    assert [(f.client_order_id, f.time, f.price, f.base_amount) for f in fills] == [
        ("tf-1-1-gb1c1n1", 60, D(100), D(1)),
        ("tf-1-1-gs2c1n2", 120, D(110), D(1)),
        ("tf-1-3-gb1c2n1", 180, D(100), D(1)),
    ]
    assert fills[1].fee == Decimal("0.44")  # 110 x 0.004
    assert [int(level) for level in kernel.deals.grid_level] == [1, 0, 1]
    assert CLOSE_REASONS[int(kernel.deals.close_reason[0])] is CloseReason.GRID


def test_buy_wins_when_both_flags_are_set() -> None:
    buy = np.array([True, False, False, False])
    sell = np.array([True, False, False, False])
    kernel = run_kernel(TAKE_PROFIT, buy, sell, CandleArrays.from_candles(BARS), USD, FEES, 60)
    assert list(kernel.fills.time[:1]) == [60]


@pytest.mark.parametrize("tf_seconds", [0, -60])
def test_a_timeframe_must_be_positive(tf_seconds: int) -> None:
    buy, sell = flags(ACTIONS)
    candles = CandleArrays.from_candles(BARS)
    with pytest.raises(ValueError, match="tf_seconds"):
        run_kernel(TAKE_PROFIT, buy, sell, candles, USD, FEES, tf_seconds)


def test_signals_must_match_the_candles() -> None:
    buy, sell = flags(ACTIONS[:3])
    with pytest.raises(ValueError, match="3 signals for 4 candles"):
        run_kernel(TAKE_PROFIT, buy, sell, CandleArrays.from_candles(BARS), USD, FEES, 60)


def test_grid_levels_closer_than_the_price_increment_are_refused() -> None:
    config = GridSettings(D(100), D("1.00"), D("1.02"), 10, GridSpacing.ARITHMETIC, D(5))
    buy, sell = flags(ACTIONS)
    with pytest.raises(ValueError, match="closer together"):
        run_kernel(config, buy, sell, CandleArrays.from_candles(BARS), USD, FEES, 60)
