"""Each strategy's signals on short hand-built series whose crossings were worked out by hand.

TA-Lib seeds an EMA with the SMA of its first ``period`` closes, then applies
alpha = 2 / (period + 1); RSI seeds its average gain and loss with the simple mean of the
first ``period`` changes, then smooths as (previous * (period - 1) + change) / period.
"""

from __future__ import annotations

import math

import pytest
from strategies_testkit import candles_from_closes, indices

from tradefleet.strategies import StrategyRegistry

NAN = float("nan")


def test_ema_cross_buys_and_sells_on_the_hand_computed_crossings() -> None:
    # fast EMA(2), alpha 2/3: 10, 10, 10, 12, 8.667, 7.556 from index 1
    # slow EMA(3), alpha 1/2: 10, 10, 11.5, 9.25, 8.125 from index 2
    # index 3: fast 10 == slow 10 (no cross); 4: 12 > 11.5 after 10 <= 10; 5: 8.667 < 9.25
    strategy = StrategyRegistry.create("ema_cross", {"fast_period": 2, "slow_period": 3})
    result = strategy.compute(candles_from_closes([10, 10, 10, 10, 13, 7, 7]))
    assert indices(result.buy) == [4]
    assert indices(result.sell) == [5]
    assert result.indicators["ema_fast"][4] == pytest.approx(12.0, rel=1e-12)
    assert result.indicators["ema_slow"][4] == pytest.approx(11.5, rel=1e-12)
    assert result.indicators["ema_fast"][5] == pytest.approx(26 / 3, rel=1e-12)
    assert math.isnan(result.indicators["ema_slow"][1])


def test_macd_dca_buys_and_sells_on_the_hand_computed_crossings() -> None:
    # fast 2 / slow 3 / signal 2 on flat 10s: macd = signal = 0 from index 3.
    # index 6 (13): fast 12, slow 11.5, macd 0.5; signal 0 + 2/3 * 0.5 = 1/3 -> crosses above
    # index 7 (7): fast 8.667, slow 9.25, macd -7/12; signal 1/3 + 2/3 (-7/12 - 1/3) = -5/18
    # index 8 (7): macd -0.5694 < signal -0.4722, no new crossing
    strategy = StrategyRegistry.create(
        "macd_dca", {"macd_fast": 2, "macd_slow": 3, "macd_signal": 2}
    )
    result = strategy.compute(candles_from_closes([10, 10, 10, 10, 10, 10, 13, 7, 7]))
    assert indices(result.buy) == [6]
    assert indices(result.sell) == [7]
    ind = result.indicators
    assert (ind["macd"][6], ind["macd_signal"][6], ind["macd_hist"][6]) == pytest.approx(
        (0.5, 1 / 3, 1 / 6), rel=1e-12
    )
    assert (ind["macd"][7], ind["macd_signal"][7]) == pytest.approx((-7 / 12, -5 / 18), rel=1e-12)
    assert math.isnan(ind["macd"][2])


def test_rsi_buys_on_the_cross_below_oversold_and_sells_above_overbought() -> None:
    # period 2, changes +1 +1 -1 -2 -1 +4:
    # index 2: gain 1, loss 0 -> 100; 3: 0.5 / 0.5 -> 50; 4: 0.25 / 1.25 -> 16.67 (crosses 30)
    # index 5: 0.125 / 1.125 -> 10 (still below, no new buy); 6: 2.0625 / 0.5625 -> 78.57
    strategy = StrategyRegistry.create("rsi", {"rsi_period": 2})
    result = strategy.compute(candles_from_closes([10, 11, 12, 11, 9, 8, 12]))
    rsi = result.indicators["rsi"]
    assert rsi[2:] == pytest.approx([100.0, 50.0, 50 / 3, 10.0, 2.0625 / 2.625 * 100], rel=1e-12)
    assert indices(result.buy) == [4]
    assert indices(result.sell) == [2, 6]


def test_bollinger_percent_b_on_a_five_candle_window() -> None:
    # window 1..5: mean 3, population variance 2, bands 3 ± 2·√2;
    # %B(5) = (5 - 3 + 2√2) / (4√2) = 0.5 + 1/(2√2) = 0.85355 > 0.8 -> SELL
    # window 2,3,4,5,1: mean 3, variance 2; %B(1) = 0.5 - 1/(2√2) = 0.14645 crosses 0.2 -> BUY
    strategy = StrategyRegistry.create("bollinger", {"bb_period": 5, "bb_std": 2.0})
    result = strategy.compute(candles_from_closes([1, 2, 3, 4, 5, 1]))
    ind = result.indicators
    root2 = math.sqrt(2)
    assert ind["percent_b"][4] == pytest.approx(0.5 + 1 / (2 * root2), rel=1e-12)
    assert ind["percent_b"][5] == pytest.approx(0.5 - 1 / (2 * root2), rel=1e-12)
    assert ind["bb_upper"][4] == pytest.approx(3 + 2 * root2, rel=1e-12)
    assert ind["bb_middle"][4] == pytest.approx(3.0, rel=1e-12)
    assert ind["bb_lower"][4] == pytest.approx(3 - 2 * root2, rel=1e-12)
    assert indices(result.sell) == [4]
    assert indices(result.buy) == [5]


def test_bollinger_first_defined_value_cannot_be_a_crossing() -> None:
    # %B(1 after 5,4,3,2) = 0.14645 < 0.2 but the previous %B is undefined
    strategy = StrategyRegistry.create("bollinger", {"bb_period": 5})
    result = strategy.compute(candles_from_closes([5, 4, 3, 2, 1]))
    assert result.indicators["percent_b"][4] == pytest.approx(0.5 - 1 / (2 * math.sqrt(2)))
    assert indices(result.buy) == []


def test_bollinger_flat_closes_have_no_percent_b_and_no_signal() -> None:
    strategy = StrategyRegistry.create("bollinger", {"bb_period": 3})
    result = strategy.compute(candles_from_closes([2, 2, 2, 2, 1]))
    percent_b = result.indicators["percent_b"]
    assert [math.isnan(v) for v in percent_b] == [True] * 4 + [False]
    # window 2, 2, 1: mean 5/3, std √2/3; %B(1) = (1 - 5/3 + 2√2/3) / (4√2/3) = 0.1464
    assert percent_b[4] == pytest.approx(0.5 - 1 / (2 * math.sqrt(2)), rel=1e-12)
    assert indices(result.buy) == []  # below 0.2, but the previous %B is undefined
    assert indices(result.sell) == []


def test_simple_dca_buys_on_the_first_candle_of_each_interval() -> None:
    # 15-minute candles from 10:30 UTC; hours start at 11:00 (index 2) and 12:00 (index 6)
    start = 10 * 3600 + 1800
    candles = candles_from_closes([1.0] * 8, start=start, step=900)
    result = StrategyRegistry.create("simple_dca", {"interval_minutes": 60}).compute(candles)
    assert indices(result.buy) == [2, 6]
    assert indices(result.sell) == []
    assert result.indicators == {}


def test_simple_dca_first_candle_never_buys_and_gaps_buy_once() -> None:
    # 30-minute interval; candles at 0, 5, 10, 30, 35 min then a gap to 120 and 125 min
    minutes = [0, 5, 10, 30, 35, 120, 125]
    candles = candles_from_closes([1.0] * 7)
    candles.time[:] = [m * 60 for m in minutes]
    result = StrategyRegistry.create("simple_dca", {"interval_minutes": 30}).compute(candles)
    assert indices(result.buy) == [3, 5]


def test_grid_has_no_signals() -> None:
    result = StrategyRegistry.create("grid", {}).compute(candles_from_closes([1, 2, 3, 1]))
    assert indices(result.buy) == []
    assert indices(result.sell) == []
    assert result.buy.shape == (4,)
    assert result.indicators == {}
