"""A deterministic simulated market: seeded random-walk candles for any product and time.

Same seed and same clock time give the same candles whatever was asked before, so a demo
or a test can be re-run exactly.  The path model lives in ``randomwalk``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

import numpy as np

from tradefleet.domain import Candle, FloatArray, ProductSpec
from tradefleet.market.base import TIMEFRAMES, Clock, UnknownProductError, timeframe_seconds
from tradefleet.market.products import CatalogEntry, simulated_catalog
from tradefleet.market.randomwalk import LEVELS, PathModel

_TICKER_LEVEL = len(LEVELS) - 1  # the 10-second nodes
VOLUME_PER_MINUTE = 10.0  # base units traded per minute, before noise and moves


class _Product:
    """One simulated product: spec, path model and the rounding of its prices."""

    def __init__(self, entry: CatalogEntry, seed: int) -> None:
        self.spec = entry.spec
        self.start_price = entry.start_price
        self.model = PathModel(seed, entry.spec.product_id, entry.volatility)
        tick = entry.spec.price_increment.normalize()
        exponent = tick.as_tuple().exponent
        self.tick = float(tick)
        self.decimals = (
            -exponent if isinstance(exponent, int) and tick.as_tuple().digits == (1,) else None
        )

    def prices(self, log_offsets: FloatArray) -> FloatArray:
        """Prices from log offsets, rounded to the price increment and never below one tick."""
        raw = self.start_price * np.exp(log_offsets)
        if self.decimals is not None:
            rounded: FloatArray = np.round(raw, max(self.decimals, 0))
        else:
            rounded = np.round(raw / self.tick) * self.tick
        return np.maximum(rounded, self.tick)


class SimulatedSource:
    """Seeded random-walk candles for ``products`` (the popular ones plus synthetic SIMnn).

    A candle with open time t is closed, and so returned, once ``clock.now() >= t + tf``.
    """

    name = "simulated"

    def __init__(
        self,
        seed: int,
        clock: Clock,
        products: Sequence[CatalogEntry] | None = None,
        timeframes: Iterable[str] = TIMEFRAMES,
    ) -> None:
        entries = simulated_catalog() if products is None else products
        self.seed = seed
        self.clock = clock
        self._products = {e.spec.product_id: _Product(e, seed) for e in entries}
        self._timeframes = {tf: timeframe_seconds(tf) for tf in timeframes}

    def bind_clock(self, clock: Clock) -> None:
        """Switch to another clock (e.g. one restored from a saved position)."""
        self.clock = clock

    def _product(self, product_id: str) -> _Product:
        product = self._products.get(product_id)
        if product is None:
            raise UnknownProductError(product_id)
        return product

    def _seconds(self, timeframe: str) -> int:
        seconds = self._timeframes.get(timeframe)
        if seconds is None:
            supported = ", ".join(self._timeframes)
            raise ValueError(f"timeframe {timeframe!r} not simulated; supported: {supported}")
        return seconds

    async def products(self) -> list[ProductSpec]:
        return [p.spec for p in self._products.values()]

    async def fetch_candles(
        self, product_id: str, timeframe: str, since: int | None, limit: int
    ) -> list[Candle]:
        product = self._product(product_id)
        tf = self._seconds(timeframe)
        last = int(self.clock.now() // tf) - 1  # index of the newest closed candle
        first = max(last - limit + 1 if since is None else -(-since // tf), 0)
        last = min(last, first + limit - 1)
        if last < first:
            return []
        return candles_between(product, tf, first, last)

    async def ticker(self, product_id: str) -> Decimal:
        """The path's value at the latest 10-second node: equals a candle's close at its end."""
        product = self._product(product_id)
        node = int(self.clock.now() // LEVELS[_TICKER_LEVEL])
        price = product.prices(product.model.values(_TICKER_LEVEL, node, node))[0]
        return Decimal(repr(float(price))).quantize(product.spec.price_increment)

    async def close(self) -> None:
        """Nothing to release; present for the MarketSource contract."""


def candles_between(product: _Product, tf: int, first: int, last: int) -> list[Candle]:
    """Candles ``first..last`` (indices = open time / tf) of one product."""
    opens, highs, lows, closes, volume = product.model.candles(tf, first, last)
    o, h, lo, c = product.prices(np.stack((opens, highs, lows, closes)))
    h = np.maximum(h, np.maximum(o, c))
    lo = np.minimum(lo, np.minimum(o, c))
    v = np.round(volume * (VOLUME_PER_MINUTE * tf / 60), 8)
    times = np.arange(first, last + 1, dtype=np.int64) * tf
    rows = zip(
        times.tolist(), o.tolist(), h.tolist(), lo.tolist(), c.tolist(), v.tolist(), strict=True
    )
    return [Candle(t, a, b, d, e, f) for t, a, b, d, e, f in rows]
