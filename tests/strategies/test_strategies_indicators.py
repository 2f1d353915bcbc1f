"""Indicators equal direct TA-Lib calls, and the signal arrays keep their invariants."""

from __future__ import annotations

import numpy as np
import pytest
import talib
from strategies_testkit import random_walk

from tradefleet.strategies import StrategyRegistry

CANDLES = random_walk(600, seed=11)
CLOSE = CANDLES.close


def test_macd_dca_indicators_are_talib_macd() -> None:
    config = {"macd_fast": 8, "macd_slow": 21, "macd_signal": 5}
    result = StrategyRegistry.create("macd_dca", config).compute(CANDLES)
    macd, signal, hist = talib.MACD(CLOSE, fastperiod=8, slowperiod=21, signalperiod=5)
    np.testing.assert_array_equal(result.indicators["macd"], macd)
    np.testing.assert_array_equal(result.indicators["macd_signal"], signal)
    np.testing.assert_array_equal(result.indicators["macd_hist"], hist)
    previous_below = np.concatenate([[False], macd[:-1] <= signal[:-1]])
    np.testing.assert_array_equal(result.buy, previous_below & (macd > signal))


def test_rsi_indicator_is_talib_rsi() -> None:
    result = StrategyRegistry.create("rsi", {"rsi_period": 9}).compute(CANDLES)
    rsi = talib.RSI(CLOSE, timeperiod=9)
    np.testing.assert_array_equal(result.indicators["rsi"], rsi)
    np.testing.assert_array_equal(result.sell, rsi > 70)


def test_bollinger_indicators_are_talib_sma_bands() -> None:
    config = {"bb_period": 14, "bb_std": 1.5}
    result = StrategyRegistry.create("bollinger", config).compute(CANDLES)
    upper, middle, lower = talib.BBANDS(CLOSE, timeperiod=14, nbdevup=1.5, nbdevdn=1.5, matype=0)
    np.testing.assert_array_equal(result.indicators["bb_upper"], upper)
    np.testing.assert_array_equal(result.indicators["bb_middle"], middle)
    np.testing.assert_array_equal(result.indicators["bb_lower"], lower)
    np.testing.assert_allclose(
        result.indicators["percent_b"], (CLOSE - lower) / (upper - lower), rtol=1e-15
    )


def test_ema_cross_indicators_are_talib_emas() -> None:
    config = {"fast_period": 5, "slow_period": 34}
    result = StrategyRegistry.create("ema_cross", config).compute(CANDLES)
    np.testing.assert_array_equal(result.indicators["ema_fast"], talib.EMA(CLOSE, timeperiod=5))
    np.testing.assert_array_equal(result.indicators["ema_slow"], talib.EMA(CLOSE, timeperiod=34))


@pytest.mark.parametrize("strategy_id", ["macd_dca", "rsi", "bollinger", "ema_cross"])
def test_signals_are_exclusive_and_absent_where_indicators_are_nan(strategy_id: str) -> None:
    config = {"rsi": {"oversold": 45.0, "overbought": 55.0}}.get(strategy_id, {})
    result = StrategyRegistry.create(strategy_id, config).compute(CANDLES)
    assert result.buy.sum() > 3 and result.sell.sum() > 3  # the series does trigger both
    assert not np.any(result.buy & result.sell)
    undefined = np.zeros(len(CANDLES), dtype=bool)
    for values in result.indicators.values():
        assert values.shape == (len(CANDLES),)
        undefined |= np.isnan(values)
    assert undefined[0]
    assert not np.any((result.buy | result.sell) & undefined)


def test_strided_close_views_are_accepted() -> None:
    """TA-Lib needs contiguous input; a strided view must still compute the same values."""
    wide = np.repeat(CLOSE, 2)[::2]
    assert not wide.flags["C_CONTIGUOUS"]
    candles = type(CANDLES)(
        time=CANDLES.time,
        open=wide,
        high=wide,
        low=wide,
        close=wide,
        volume=CANDLES.volume,
    )
    result = StrategyRegistry.create("rsi", {}).compute(candles)
    np.testing.assert_array_equal(result.indicators["rsi"], talib.RSI(CLOSE, timeperiod=14))


def test_fewer_candles_than_the_lookback_give_nan_and_no_signal() -> None:
    short = random_walk(10, seed=2)
    for cls in StrategyRegistry.all():
        result = cls({}).compute(short)
        assert result.buy.shape == (10,)
        if cls.definition.id in {"macd_dca", "rsi", "bollinger", "ema_cross"}:
            assert any(np.isnan(v).all() for v in result.indicators.values())
            assert not result.buy.any() and not result.sell.any()
