"""Candle builders shared by the strategy tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tradefleet.domain import Candle, CandleArrays

FIVE_MINUTES = 300


def candles_from_closes(
    closes: Sequence[float], start: int = 1_700_000_000, step: int = FIVE_MINUTES
) -> CandleArrays:
    """Candles whose open, high, low and close all equal the given closes."""
    return CandleArrays.from_candles(
        [
            Candle(time=start + i * step, open=c, high=c, low=c, close=c, volume=1.0)
            for i, c in enumerate(closes)
        ]
    )


def random_walk(size: int, seed: int, start_price: float = 0.05) -> CandleArrays:
    """A geometric random walk with 1 % steps, priced like an X/BTC pair."""
    rng = np.random.default_rng(seed)
    close = start_price * np.exp(np.cumsum(rng.normal(0.0, 0.01, size)))
    time = 1_600_000_000 + np.arange(size, dtype=np.int64) * FIVE_MINUTES
    return CandleArrays(
        time=time,
        open=close.copy(),
        high=close * 1.001,
        low=close * 0.999,
        close=close,
        volume=np.ones(size),
    )


def window(candles: CandleArrays, start: int, end: int) -> CandleArrays:
    """Candles ``[start, end)`` as views, as the live engine's trailing window would be."""
    return CandleArrays(
        time=candles.time[start:end],
        open=candles.open[start:end],
        high=candles.high[start:end],
        low=candles.low[start:end],
        close=candles.close[start:end],
        volume=candles.volume[start:end],
    )


def indices(mask: np.ndarray) -> list[int]:
    return [int(i) for i in np.flatnonzero(mask)]
