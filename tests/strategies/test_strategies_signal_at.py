"""``signal_at``: the decision on one candle, its reason and its indicator values."""

from __future__ import annotations

import pytest
from strategies_testkit import candles_from_closes

from tradefleet.domain import SignalAction
from tradefleet.strategies import StrategyRegistry

START = 1_700_000_000
RSI_CLOSES = [10, 11, 12, 11, 9, 8, 12]  # RSI(2): nan nan 100 50 16.67 10 78.57


def test_buy_signal_names_the_rule_and_carries_the_indicators() -> None:
    strategy = StrategyRegistry.create("rsi", {"rsi_period": 2})
    signal = strategy.signal_at(candles_from_closes(RSI_CLOSES), 4)
    assert signal.action is SignalAction.BUY
    assert signal.time == START + 4 * 300
    assert signal.price == 9.0
    assert signal.reason == "RSI crossed below oversold 30"
    assert signal.indicators == {"rsi": pytest.approx(50 / 3, rel=1e-12)}


def test_last_candle_is_the_default_and_negative_indices_count_from_the_end() -> None:
    strategy = StrategyRegistry.create("rsi", {"rsi_period": 2, "overbought": 75.5})
    candles = candles_from_closes(RSI_CLOSES)
    last = strategy.signal_at(candles)
    assert last.action is SignalAction.SELL
    assert last.reason == "RSI above overbought 75.5"
    assert last.price == 12.0
    assert strategy.signal_at(candles, -3) == strategy.signal_at(candles, 4)


def test_hold_without_a_rule_has_an_empty_reason() -> None:
    strategy = StrategyRegistry.create("rsi", {"rsi_period": 2})
    signal = strategy.signal_at(candles_from_closes(RSI_CLOSES), 5)
    assert signal.action is SignalAction.HOLD
    assert signal.reason == ""
    assert signal.indicators == {"rsi": pytest.approx(10.0)}


def test_nan_indicators_are_omitted_and_the_hold_says_why() -> None:
    strategy = StrategyRegistry.create("rsi", {"rsi_period": 2})
    signal = strategy.signal_at(candles_from_closes(RSI_CLOSES), 1)
    assert signal.action is SignalAction.HOLD
    assert signal.indicators == {}
    assert signal.reason == "warming up: not enough candles for the indicators"


def test_reasons_of_each_strategy() -> None:
    ema = StrategyRegistry.create("ema_cross", {"fast_period": 2, "slow_period": 3})
    candles = candles_from_closes([10, 10, 10, 10, 13, 7, 7])
    assert ema.signal_at(candles, 4).reason == "EMA 2 crossed above EMA 3"
    assert ema.signal_at(candles, 5).reason == "EMA 2 crossed below EMA 3"
    macd = StrategyRegistry.create("macd_dca", {"macd_fast": 2, "macd_slow": 3, "macd_signal": 2})
    candles = candles_from_closes([10, 10, 10, 10, 10, 10, 13, 7, 7])
    assert macd.signal_at(candles, 6).reason == "MACD crossed above its signal line"
    assert macd.signal_at(candles, 7).reason == "MACD crossed below its signal line"
    bollinger = StrategyRegistry.create("bollinger", {"bb_period": 5})
    candles = candles_from_closes([1, 2, 3, 4, 5, 1])
    assert bollinger.signal_at(candles, 5).reason == "%B crossed below 0.2"
    assert bollinger.signal_at(candles, 4).reason == "%B above 0.8"
    assert set(bollinger.signal_at(candles, 4).indicators or {}) == {
        "percent_b",
        "bb_upper",
        "bb_middle",
        "bb_lower",
    }
    dca = StrategyRegistry.create("simple_dca", {"interval_minutes": 10})
    signal = dca.signal_at(candles_from_closes([1, 1, 1], start=0, step=300), 2)
    assert (signal.action, signal.reason) == (SignalAction.BUY, "a new 10-minute interval started")


def test_grid_always_holds_with_an_empty_reason() -> None:
    signal = StrategyRegistry.create("grid", {}).signal_at(candles_from_closes([1, 2]))
    assert (signal.action, signal.reason, signal.indicators) == (SignalAction.HOLD, "", {})


def test_index_out_of_range_is_an_index_error() -> None:
    strategy = StrategyRegistry.create("rsi", {})
    candles = candles_from_closes([1, 2, 3])
    with pytest.raises(IndexError, match="candle index 3 out of range for 3 candles"):
        strategy.signal_at(candles, 3)
    with pytest.raises(IndexError):
        strategy.signal_at(candles, -4)
    with pytest.raises(IndexError):
        strategy.signal_at(candles_from_closes([]))
