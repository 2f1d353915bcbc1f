"""A ``warmup()``-long trailing window gives the last candle the full-history decision.

The live engine computes on trailing windows; the backtester on the whole history. EMA
and Wilder smoothers remember their start, so the window must be long enough for that
memory to fade: the indicators must agree to 1e-9 relative (with an absolute floor of
1e-12 of the price level, for values that pass through zero such as the MACD histogram).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from strategies_testkit import random_walk, window

from tradefleet.strategies import StrategyRegistry

HISTORY = random_walk(4000, seed=5)
# Ends spread over the series; each is checked with a window of exactly warmup() candles.
STEP = 53

CASES: list[tuple[str, dict[str, Any]]] = [
    ("macd_dca", {}),
    ("macd_dca", {"macd_fast": 30, "macd_slow": 90, "macd_signal": 20}),
    ("rsi", {}),
    ("rsi", {"rsi_period": 50, "oversold": 45, "overbought": 55}),
    ("bollinger", {}),
    ("bollinger", {"bb_period": 60, "bb_std": 1.0, "lower_threshold": 0.3}),
    ("ema_cross", {}),
    ("ema_cross", {"fast_period": 20, "slow_period": 100}),
    ("simple_dca", {"interval_minutes": 15}),
    ("grid", {}),
]


@pytest.mark.parametrize(("strategy_id", "config"), CASES)
def test_last_candle_of_a_warmup_window_matches_full_history(
    strategy_id: str, config: dict[str, Any]
) -> None:
    strategy = StrategyRegistry.create(strategy_id, config)
    warmup = strategy.warmup()
    assert warmup < len(HISTORY) // 2
    full = strategy.compute(HISTORY)
    ends = range(warmup + 200, len(HISTORY) + 1, STEP)
    signals = 0
    for end in ends:
        last = strategy.compute(window(HISTORY, end - warmup, end))
        assert bool(last.buy[-1]) == bool(full.buy[end - 1]), end
        assert bool(last.sell[-1]) == bool(full.sell[end - 1]), end
        signals += int(full.buy[end - 1] or full.sell[end - 1])
        floor = 1e-12 * (100.0 if strategy_id == "rsi" else float(HISTORY.close[end - 1]))
        for name, values in full.indicators.items():
            np.testing.assert_allclose(last.indicators[name][-1], values[end - 1], 1e-9, floor)
    if strategy_id != "grid":
        assert signals > 0  # the comparison did cover candles with signals


def test_a_window_much_shorter_than_warmup_would_differ() -> None:
    """Guards the test itself: a too-short window is caught at this tolerance."""
    strategy = StrategyRegistry.create("rsi", {})
    full = strategy.compute(HISTORY)
    short = strategy.compute(window(HISTORY, len(HISTORY) - 40, len(HISTORY)))
    difference = abs(short.indicators["rsi"][-1] - full.indicators["rsi"][-1])
    assert difference > 1e-9 * 100


def test_warmup_lengths_of_the_defaults() -> None:
    """Known lengths the engine must fetch: lookback + settling of each smoother."""
    warmups = {cls.definition.id: cls({}).warmup() for cls in StrategyRegistry.all()}
    assert warmups == {
        "bollinger": 21,  # SMA window 20 + the previous candle
        "ema_cross": 288,  # 21 + 1 + EMA(21) settling 266
        "grid": 1,
        "macd_dca": 479,  # 26 + 9 + EMA(26) settling 330 + EMA(9) settling 114
        "rsi": 358,  # 14 + 2 + Wilder(14) settling 342
        "simple_dca": 2,
    }
