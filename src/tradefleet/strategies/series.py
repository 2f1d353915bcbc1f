"""Array helpers shared by the strategies: crossings, levels and warm-up lengths.

Crossings are defined on consecutive candles, so a signal fires on exactly one candle:
"a crosses above b at i" means ``a[i-1] <= b[i-1]`` and ``a[i] > b[i]``; "crosses below"
means ``a[i-1] >= b[i-1]`` and ``a[i] < b[i]``. Every comparison with NaN is false, so no
signal fires where an indicator is not yet defined.
"""

from __future__ import annotations

import math

import numpy as np

from tradefleet.domain import BoolArray, CandleArrays, FloatArray

# An EMA-family indicator started late differs from the full-history one by its start error
# times (1 - alpha)^n after n candles; a warm-up shrinks that factor below this, which keeps
# the last value equal to the full-history one far beyond 1e-9 of the price level.
SETTLE_FACTOR = 1e-11


def close_of(candles: CandleArrays) -> FloatArray:
    """The closes as the contiguous float64 array TA-Lib requires (no copy when already so)."""
    return np.ascontiguousarray(candles.close, dtype=np.float64)


def _prev_and_current(b: FloatArray | float) -> tuple[FloatArray | float, FloatArray | float]:
    if isinstance(b, np.ndarray):
        return b[:-1], b[1:]
    return b, b


def crosses_above(a: FloatArray, b: FloatArray | float) -> BoolArray:
    """True where ``a`` goes from at or below ``b`` to strictly above it."""
    out = np.zeros(a.shape[0], dtype=np.bool_)
    if a.shape[0] > 1:
        previous, current = _prev_and_current(b)
        np.logical_and(a[:-1] <= previous, a[1:] > current, out=out[1:])
    return out


def crosses_below(a: FloatArray, b: FloatArray | float) -> BoolArray:
    """True where ``a`` goes from at or above ``b`` to strictly below it."""
    out = np.zeros(a.shape[0], dtype=np.bool_)
    if a.shape[0] > 1:
        previous, current = _prev_and_current(b)
        np.logical_and(a[:-1] >= previous, a[1:] < current, out=out[1:])
    return out


def no_signals(size: int) -> BoolArray:
    return np.zeros(size, dtype=np.bool_)


def settle_candles(alpha: float) -> int:
    """Candles after which an exponential smoother with ``alpha`` forgets its start."""
    return math.ceil(math.log(SETTLE_FACTOR) / math.log1p(-alpha))


def ema_settle(period: int) -> int:
    """Settling length of TA-Lib's EMA (alpha = 2 / (period + 1))."""
    return settle_candles(2.0 / (period + 1))


def wilder_settle(period: int) -> int:
    """Settling length of Wilder's smoothing, as in RSI (alpha = 1 / period)."""
    return settle_candles(1.0 / period)
