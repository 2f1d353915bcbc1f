"""``MarketService``: one source behind its caches, as the engine and the API use it.

It implements ``tradefleet.engine.protocols.MarketView``.  All caches share one
``SourceHealth``, so a failing source is paused for every kind of request at once.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

from tradefleet.domain import Candle, ProductSpec
from tradefleet.market.base import Clock, MarketSource, MarketUnavailable
from tradefleet.market.cache import DEFAULT_MAX_CANDLES, CandleCache, PriceCache, SourceHealth
from tradefleet.redact import redact_text

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 5.0  # a probe not answered by then counts as an outage


class MarketService:
    """Cached products, candles and last prices of one market source."""

    def __init__(
        self,
        source: MarketSource,
        clock: Clock,
        *,
        max_candles: int = DEFAULT_MAX_CANDLES,
        price_ttl: float = 10.0,
        products_ttl: float = 3600.0,
    ) -> None:
        self.source = source
        self.clock = clock
        hint = getattr(source, "unreachable_hint", None)  # the exchange's OFFLINE_HINT
        self.health_record = SourceHealth(source.name, since=clock.now(), hint=hint)
        self.candle_cache = CandleCache(
            source, clock, max_candles=max_candles, health=self.health_record
        )
        self.price_cache = PriceCache(source, clock, price_ttl, health=self.health_record)
        self.products_ttl = products_ttl
        self._products: dict[str, ProductSpec] | None = None
        self._products_at = 0.0

    @property
    def fetch_count(self) -> int:
        """Candle requests sent to the source so far (the benchmark watches this)."""
        return self.candle_cache.fetch_count

    async def _catalog(self) -> dict[str, ProductSpec]:
        """Products by id, refreshed hourly; the last list is kept while the source is down
        (increments change rarely, and bots must still load)."""
        now = self.clock.now()
        if self._products is None or now >= self._products_at + self.products_ttl:
            try:
                listed = await self.health_record.call(self.clock, self.source.products)
            except MarketUnavailable:
                if self._products is None:
                    raise
                return self._products
            self._products = {spec.product_id: spec for spec in listed}
            self._products_at = now
        return self._products

    async def products(self) -> list[ProductSpec]:
        return list((await self._catalog()).values())

    async def product(self, product_id: str) -> ProductSpec | None:
        return (await self._catalog()).get(product_id)

    async def candles(self, product_id: str, timeframe: str, limit: int) -> list[Candle]:
        """The newest ``limit`` closed candles, oldest first; MarketUnavailable when the source
        cannot bring them up to date."""
        return await self.candle_cache.get(product_id, timeframe, limit)

    def cached_candles(self, product_id: str, timeframe: str, limit: int) -> list[Candle]:
        """Whatever is held, without asking the source (for charts while it is down)."""
        return self.candle_cache.cached(product_id, timeframe, limit)

    async def last_price(self, product_id: str) -> Decimal:
        return await self.price_cache.get(product_id)

    @property
    def can_probe(self) -> bool:
        """Whether the source can be asked, cheaply, if it is up (the exchange can)."""
        return callable(getattr(self.source, "probe", None))

    async def probe(self, timeout: float = PROBE_TIMEOUT) -> None:
        """Ask the source if it is up, waiting at most ``timeout`` seconds; the answer goes
        to health (an outage shows between candle closes too, not only when a fetch
        happens to fail)."""
        probe = getattr(self.source, "probe", None)
        if not callable(probe):
            return
        try:
            await asyncio.wait_for(self.health_record.call(self.clock, probe), timeout)
        except TimeoutError:
            silent = MarketUnavailable(f"no answer within {timeout:.3g} s")
            self.health_record.record_failure(silent, self.clock.now())
        except MarketUnavailable:
            pass  # recorded by the health record, which /api/health shows
        except Exception as error:  # a probe must never stop the engine's loop
            log.warning("probing %s failed: %s", self.source.name, redact_text(str(error)))

    def next_late_retry(self) -> float | None:
        """When a candle the exchange has not published yet is to be asked for again."""
        return self.candle_cache.next_late_retry()

    def after_trade(self, product_id: str) -> None:
        """A trade happened: the next price asked for is fetched, not taken from the cache."""
        self.price_cache.invalidate(product_id)

    def health(self) -> dict[str, Any]:
        return {**self.health_record.as_dict(), "candle_fetches": self.fetch_count}

    async def close(self) -> None:
        await self.source.close()
