"""A seeded, random-access price path: the model behind the simulated market.

Every random number is a hash of (seed, product, stream, index), so any stretch of the
path can be computed alone, in any order, with identical results.  The path is built
top-down:

1. Daily anchors: log price = a tapered moving sum of daily shocks over ``WINDOW_DAYS``
   (a random walk on short horizons that reverts over months, so prices never drift
   off to zero or infinity).  Each day's shock has the drift and volatility of its
   *regime* (calm, normal, bull, bear, wild, run-up, crash), switched at random days.
2. Finer levels (6h, 1h, 15m, 5m, 1m, 10s): each interval of the coarser level
   is split by a Brownian bridge between its two known end values.  A Brownian bridge
   refinement of Brownian motion is exact, and the value at a shared time is the same
   whichever timeframe asks, so 5-minute closes equal the matching 1-minute closes.
"""

from __future__ import annotations

import hashlib
import itertools
import math

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from tradefleet.domain import FloatArray, IntArray

UIntArray = npt.NDArray[np.uint64]

LEVELS: tuple[int, ...] = (86400, 21600, 3600, 900, 300, 60, 10)
"""Node spacing (seconds) per level; each divides the one before it.  Every timeframe is a
multiple of some level's spacing (2h = two 1h nodes, 30m = two 15m nodes)."""
DAY = LEVELS[0]
WINDOW_DAYS = 90
BLOCK_DAYS = 64  # daily anchors are computed and memoised per aligned block of days
SWITCH_PROBABILITY = 0.3  # chance a day starts a new regime (mean regime: ~3 days)
MAX_REGIME_DAYS = 32  # a regime also always ends at day numbers divisible by this

# (drift per day, volatility per day, weight); weighted drift is exactly zero.
REGIMES: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.015, 0.25),  # calm
    (0.0, 0.03, 0.30),  # normal
    (0.012, 0.03, 0.15),  # bull
    (-0.012, 0.035, 0.15),  # bear
    (0.0, 0.07, 0.10),  # wild
    (0.03, 0.05, 0.025),  # run-up
    (-0.03, 0.06, 0.025),  # crash
)
_DRIFTS = np.array([r[0] for r in REGIMES])
_VOLS = np.array([r[1] for r in REGIMES])
_CUM_WEIGHTS = np.cumsum([r[2] for r in REGIMES])
_CUM_WEIGHTS /= _CUM_WEIGHTS[-1]
_FACTORS = [coarse // fine for coarse, fine in itertools.pairwise(LEVELS)]
_FRACTIONS = [np.empty(0), *(np.arange(1, k + 1) / k for k in _FACTORS)]  # per level
_TAPER = 1.0 - np.arange(WINDOW_DAYS)[::-1] / WINDOW_DAYS  # oldest day weighs least

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_STREAM_DAY, _STREAM_SWITCH, _STREAM_REGIME = 1, 2, 3
_STREAM_LEVEL, _STREAM_WICK, _STREAM_VOLUME = 10, 1000, 3000


def _mix_int(x: int) -> int:
    """SplitMix64's finaliser on a Python int."""
    x &= _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


_S27, _S30, _S31 = np.uint64(27), np.uint64(30), np.uint64(31)
_M1, _M2, _GOLDEN64 = (
    np.uint64(0xBF58476D1CE4E5B9),
    np.uint64(0x94D049BB133111EB),
    np.uint64(_GOLDEN),
)


def _mix(x: UIntArray) -> UIntArray:
    """SplitMix64's finaliser, vectorised and in place (uint64 arithmetic wraps, as intended)."""
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


class PathModel:
    """The log-price path of one product: ``log(price / start_price)`` at any node."""

    def __init__(self, seed: int, product_id: str, volatility: float) -> None:
        digest = hashlib.blake2b(f"{seed}:{product_id}".encode(), digest_size=8).digest()
        self._key = int.from_bytes(digest, "little")
        self._volatility = volatility
        self._blocks: dict[int, tuple[FloatArray, FloatArray]] = {}
        self._stream_keys: dict[int, np.uint64] = {}

    # -- random numbers -------------------------------------------------------------

    def _bits(self, stream: int, index: IntArray) -> UIntArray:
        """64 random bits per index, fixed by (seed, product, stream, index)."""
        stream_key = self._stream_keys.get(stream)
        if stream_key is None:
            stream_key = np.uint64(_mix_int(self._key ^ ((stream * _GOLDEN) & _MASK)))
            self._stream_keys[stream] = stream_key
        state = index.astype(np.uint64)
        state *= _GOLDEN64
        state += stream_key
        return _mix(state)

    def _halves(self, stream: int, index: IntArray) -> FloatArray:
        """Two uniforms in (0, 1) per index (columns), from the 32-bit halves of one hash."""
        halves = self._bits(stream, index).view(np.uint32).reshape(-1, 2).astype(np.float64)
        halves += 0.5
        halves *= 1.0 / (1 << 32)
        return halves

    def uniform(self, stream: int, index: IntArray) -> FloatArray:
        """Uniforms in (0, 1), one per index."""
        return self._halves(stream, index)[:, 0]

    def normal(self, stream: int, index: IntArray) -> FloatArray:
        """Standard normals by Box-Muller."""
        halves = self._halves(stream, index)
        radius = np.sqrt(-2.0 * np.log(halves[:, 0]))
        result: FloatArray = radius * np.cos((2.0 * math.pi) * halves[:, 1])
        return result

    def exponentials(self, stream: int, index: IntArray) -> FloatArray:
        """Two independent Exp(1) variates per index (columns)."""
        result: FloatArray = -np.log(self._halves(stream, index))
        return result

    # -- regimes and daily anchors --------------------------------------------------

    def regimes(self, first: int, last: int) -> IntArray:
        """Regime index of days ``first..last``: the one drawn on the latest switching day.

        Every day divisible by MAX_REGIME_DAYS switches, so a day's regime depends only on
        the days since the last such day, whatever range is asked for.
        """
        start = first - first % MAX_REGIME_DAYS
        days = np.arange(start, last + 1, dtype=np.int64)
        flags = self.uniform(_STREAM_SWITCH, days) < SWITCH_PROBABILITY
        flags[days % MAX_REGIME_DAYS == 0] = True
        switched = np.maximum.accumulate(np.where(flags, days, start))
        draw = self.uniform(_STREAM_REGIME, switched[first - start :])
        return np.searchsorted(_CUM_WEIGHTS, draw, side="right").astype(np.int64)

    def daily_volatility(self, days: IntArray) -> FloatArray:
        """Volatility per day of the regime of each day, times the product's factor."""
        low = int(days.min())
        return self._days(low, int(days.max()), 1)[days - low]

    def _block(self, block: int) -> tuple[FloatArray, FloatArray]:
        """(anchors, volatilities) of days block*BLOCK_DAYS .. +BLOCK_DAYS-1, memoised.

        Always computed over the same aligned range, so results are bit-identical
        whichever request first needed them.
        """
        cached = self._blocks.get(block)
        if cached is not None:
            return cached
        first = block * BLOCK_DAYS
        days = np.arange(first - WINDOW_DAYS + 1, first + BLOCK_DAYS, dtype=np.int64)
        regime = self.regimes(int(days[0]), int(days[-1]))
        vols = _VOLS[regime] * self._volatility
        shocks = _DRIFTS[regime] * self._volatility + vols * self.normal(_STREAM_DAY, days)
        anchors: FloatArray = (sliding_window_view(shocks, WINDOW_DAYS) * _TAPER).sum(axis=1)
        if len(self._blocks) >= 32:  # bounded memory; 32 blocks cover 5 years of days
            self._blocks.clear()
        result = (anchors, vols[WINDOW_DAYS - 1 :])
        self._blocks[block] = result
        return result

    def _days(self, first: int, last: int, column: int) -> FloatArray:
        """Column 0 (anchors) or 1 (volatilities) of days ``first..last``."""
        blocks = range(first // BLOCK_DAYS, last // BLOCK_DAYS + 1)
        offset = first - blocks[0] * BLOCK_DAYS
        if len(blocks) == 1:
            return self._block(blocks[0])[column][offset : offset + last - first + 1]
        joined = np.concatenate([self._block(b)[column] for b in blocks])
        return joined[offset : offset + last - first + 1]

    # -- refinement -----------------------------------------------------------------

    def values(self, level: int, first: int, last: int) -> FloatArray:
        """Log offsets at nodes ``first..last`` (inclusive) of ``level`` (node = time / spacing)."""
        if level == 0:
            return self._days(first, last, 0)
        k = LEVELS[level - 1] // LEVELS[level]
        p_first = first // k
        p_last = max(-(-last // k), p_first + 1)  # at least one interval
        parent = self.values(level - 1, p_first, p_last)
        count = p_last - p_first
        children = np.arange(p_first * k, p_last * k, dtype=np.int64)
        shocks = self.normal(_STREAM_LEVEL + level, children).reshape(count, k)
        days = np.arange(p_first, p_last, dtype=np.int64) * LEVELS[level - 1] // DAY
        sigma = self.daily_volatility(days) * math.sqrt(LEVELS[level] / DAY)
        walk = np.cumsum(shocks, axis=1) * sigma[:, None]
        start, end = parent[:-1], parent[1:]
        # Linear interpolation plus a Brownian bridge (the walk pinned to zero at the end).
        refined = walk + start[:, None]
        refined += (end - start - walk[:, -1])[:, None] * _FRACTIONS[level]
        refined[:, -1] = end  # exactly the parent's value, whichever level asks
        out = np.empty(count * k + 1)
        out[0] = parent[0]
        out[1:] = refined.ravel()
        return out[first - p_first * k : last - p_first * k + 1]

    def candles(self, tf: int, first: int, last: int) -> tuple[FloatArray, ...]:
        """Log offsets (open, high, low, close) and volume factors of candles first..last.

        Opens and closes are path nodes; highs and lows are the extremes of the next finer
        level inside the candle, widened by a random wick.
        """
        node_level = next(i for i, spacing in enumerate(LEVELS) if tf % spacing == 0)
        finer = node_level + 1
        k = tf // LEVELS[finer]
        count = last - first + 1
        fine = self.values(finer, first * k, (last + 1) * k)
        inner = fine[:-1].reshape(count, k)
        opens, closes = inner[:, 0], fine[k::k]
        indices = np.arange(first, last + 1, dtype=np.int64)
        stream = tf // 60  # wicks and volumes differ per timeframe
        sigma = self.daily_volatility(indices * tf // DAY) * math.sqrt(LEVELS[finer] / DAY)
        wicks = self.exponentials(_STREAM_WICK + stream, indices) * (0.35 * sigma)[:, None]
        highs = np.maximum(inner.max(axis=1), closes) + wicks[:, 0]
        lows = np.minimum(inner.min(axis=1), closes) - wicks[:, 1]
        activity = np.minimum(np.abs(closes - opens) / (4.0 * sigma), 10.0)
        volume = self.exponentials(_STREAM_VOLUME + stream, indices)[:, 0] * (1.0 + activity)
        return opens, highs, lows, closes, volume
