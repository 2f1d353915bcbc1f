"""CandleCache, TTL caches, SourceHealth and MarketService over a recording source."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from market_testkit import NOW

from tradefleet.domain import Candle, ProductSpec
from tradefleet.market.base import ManualClock, MarketUnavailable, UnknownProductError
from tradefleet.market.cache import (
    BalanceCache,
    CandleCache,
    PriceCache,
    SourceHealth,
    TTLCache,
)
from tradefleet.market.products import POPULAR_SPECS
from tradefleet.market.service import MarketService
from tradefleet.market.simulated import SimulatedSource

OPEN_5M = NOW // 300 * 300  # the 5-minute candle forming at NOW


class RecordingSource:
    """A simulated source that logs every call and can be switched off."""

    name = "recording"

    def __init__(self, clock: ManualClock) -> None:
        self.inner = SimulatedSource(3, clock)
        self.calls: list[tuple[str, str, int | None, int]] = []
        self.tickers = 0
        self.product_lists = 0
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise MarketUnavailable("HTTP 503")

    async def products(self) -> list[ProductSpec]:
        self.product_lists += 1
        self._check()
        return await self.inner.products()

    async def fetch_candles(
        self, product_id: str, timeframe: str, since: int | None, limit: int
    ) -> list[Candle]:
        self.calls.append((product_id, timeframe, since, limit))
        await asyncio.sleep(0.001)  # let concurrent callers pile up
        self._check()
        return await self.inner.fetch_candles(product_id, timeframe, since, limit)

    async def ticker(self, product_id: str) -> Decimal:
        self.tickers += 1
        self._check()
        return await self.inner.ticker(product_id)

    async def close(self) -> None:
        return None


@pytest.fixture
def source(clock: ManualClock) -> RecordingSource:
    return RecordingSource(clock)


async def test_hundred_concurrent_callers_share_one_fetch(
    source: RecordingSource, clock: ManualClock
) -> None:
    cache = CandleCache(source, clock)
    results = await asyncio.gather(*(cache.get("ETH-BTC", "5m", 50) for _ in range(100)))
    assert cache.fetch_count == 1
    assert source.calls == [("ETH-BTC", "5m", None, 50)]
    expected = await source.inner.fetch_candles("ETH-BTC", "5m", None, 50)
    assert all(result == expected for result in results)
    assert results[0][-1].time == OPEN_5M - 300


async def test_next_closed_candle_is_fetched_incrementally_once(
    source: RecordingSource, clock: ManualClock
) -> None:
    cache = CandleCache(source, clock)
    await cache.get("ETH-BTC", "5m", 50)
    clock.set(OPEN_5M + 299)  # still the same candle forming: no fetch
    await cache.get("ETH-BTC", "5m", 50)
    assert cache.fetch_count == 1
    clock.set(OPEN_5M + 300)
    results = await asyncio.gather(*(cache.get("ETH-BTC", "5m", 50) for _ in range(20)))
    assert cache.fetch_count == 2
    assert source.calls[1] == ("ETH-BTC", "5m", OPEN_5M, 1000)  # only what is new
    assert results[0] == await source.inner.fetch_candles("ETH-BTC", "5m", None, 50)
    assert results[0][-1].time == OPEN_5M


async def test_keys_are_independent_and_smaller_limits_reuse_the_cache(
    source: RecordingSource, clock: ManualClock
) -> None:
    cache = CandleCache(source, clock)
    await asyncio.gather(
        cache.get("ETH-BTC", "5m", 100),
        cache.get("ETH-BTC", "1h", 10),
        cache.get("SOL-BTC", "5m", 10),
    )
    assert cache.fetch_count == 3
    short = await cache.get("ETH-BTC", "5m", 20)
    assert cache.fetch_count == 3
    assert [c.time for c in short] == list(range(OPEN_5M - 20 * 300, OPEN_5M, 300))
    longer = await cache.get("ETH-BTC", "5m", 300)  # deeper history: one full fetch
    assert cache.fetch_count == 4
    assert source.calls[-1] == ("ETH-BTC", "5m", None, 300)
    assert len(longer) == 300


async def test_long_absence_refetches_the_window_and_trims(
    source: RecordingSource, clock: ManualClock
) -> None:
    cache = CandleCache(source, clock, max_candles=100)
    await cache.get("ETH-BTC", "1m", 100)
    clock.advance(60 * 150)  # more new candles than the cache holds
    candles = await cache.get("ETH-BTC", "1m", 100)
    assert source.calls[-1] == ("ETH-BTC", "1m", None, 100)
    assert len(candles) == 100
    assert candles[-1].time == int(clock.now() // 60) * 60 - 60
    clock.advance(60)
    await cache.get("ETH-BTC", "1m", 10)
    assert source.calls[-1][2] == candles[-1].time + 60
    assert len(cache.cached("ETH-BTC", "1m", 1000)) == 100


async def test_limit_and_timeframe_are_checked(source: RecordingSource, clock: ManualClock) -> None:
    cache = CandleCache(source, clock, max_candles=100)
    with pytest.raises(ValueError, match="between 1 and 100"):
        await cache.get("ETH-BTC", "5m", 101)
    with pytest.raises(ValueError, match="unsupported timeframe"):
        await cache.get("ETH-BTC", "4h", 10)
    with pytest.raises(UnknownProductError):
        await cache.get("NOPE-BTC", "5m", 10)
    assert cache.health()["ok"] is True  # a bad request is not an outage


async def test_outage_backoff_doubles_and_is_capped(
    source: RecordingSource, clock: ManualClock
) -> None:
    cache = CandleCache(source, clock)
    source.down = True
    retries = []
    for _ in range(8):
        with pytest.raises(MarketUnavailable):
            await cache.get("ETH-BTC", "5m", 10)
        health = cache.health()
        retries.append(health["next_retry"] - clock.now())
        calls = len(source.calls)
        with pytest.raises(MarketUnavailable, match="next try"):
            await cache.get("ETH-BTC", "5m", 10)  # paused: the source is not asked
        assert len(source.calls) == calls
        clock.set(health["next_retry"])
    assert retries == [1, 2, 4, 8, 16, 32, 60, 60]
    assert cache.health()["failures"] == 8
    source.down = False
    assert len(await cache.get("ETH-BTC", "5m", 10)) == 10
    assert cache.health() == {
        "source": "recording",
        "ok": True,
        "message": None,
        "last_error": "HTTP 503",
        "since": clock.now(),
        "next_retry": None,
        "failures": 0,
    }


def test_health_counts_one_failure_per_retry_window() -> None:
    health = SourceHealth("x", since=0.0)
    health.record_failure(MarketUnavailable("a"), 10.0)
    health.record_failure(MarketUnavailable("b"), 10.5)  # a concurrent caller, same window
    assert (health.failures, health.next_retry, health.last_error) == (1, 11.0, "a")
    health.record_failure(MarketUnavailable("c"), 11.0)
    assert (health.failures, health.next_retry, health.since) == (2, 13.0, 10.0)


async def test_ttl_cache_loads_once_per_ttl_and_invalidates(clock: ManualClock) -> None:
    loads: list[str] = []

    async def loader(key: str) -> int:
        loads.append(key)
        await asyncio.sleep(0.001)
        return len(loads)

    cache: TTLCache[str, int] = BalanceCache(loader, clock)
    assert cache.ttl == 60.0
    assert await asyncio.gather(*(cache.get("BTC") for _ in range(10))) == [1] * 10
    clock.advance(59.9)
    assert await cache.get("BTC") == 1
    clock.advance(0.1)
    assert await cache.get("BTC") == 2
    assert await cache.get("ETH") == 3
    cache.invalidate("BTC")
    assert await cache.get("BTC") == 4
    assert await cache.get("ETH") == 3
    cache.invalidate()
    assert await cache.get("ETH") == 5
    assert loads == ["BTC", "BTC", "ETH", "BTC", "ETH"]


async def test_price_cache_ttl_and_failures(source: RecordingSource, clock: ManualClock) -> None:
    health = SourceHealth("recording", since=clock.now())
    prices = PriceCache(source, clock, health=health)
    first = await prices.get("BTC-USD")
    assert first == await source.inner.ticker("BTC-USD")
    assert first == first.quantize(Decimal("0.01"))
    clock.advance(9)
    await prices.get("BTC-USD")
    assert source.tickers == 1
    clock.advance(1)
    source.down = True
    with pytest.raises(MarketUnavailable):
        await prices.get("BTC-USD")
    assert health.ok is False


async def test_service_implements_market_view(source: RecordingSource, clock: ManualClock) -> None:
    service = MarketService(source, clock)
    assert (await service.product("ETH-BTC")) == POPULAR_SPECS["ETH-BTC"]
    assert await service.product("NOPE-USD") is None
    assert len(await service.products()) == 50
    assert source.product_lists == 1  # one list for all three calls
    candles = await service.candles("ETH-BTC", "15m", 4)
    assert [c.time for c in candles] == [NOW // 900 * 900 - i * 900 for i in (4, 3, 2, 1)]
    assert await service.last_price("ETH-BTC") == await source.inner.ticker("ETH-BTC")
    assert service.health()["candle_fetches"] == 1 == service.fetch_count


async def test_service_keeps_the_product_list_while_the_source_is_down(
    source: RecordingSource, clock: ManualClock
) -> None:
    service = MarketService(source, clock, products_ttl=60)
    source.down = True
    with pytest.raises(MarketUnavailable):
        await service.products()
    source.down = False
    clock.advance(1)  # past the first pause
    assert len(await service.products()) == 50
    source.down = True
    clock.advance(60)
    assert len(await service.products()) == 50  # stale but usable
    assert source.product_lists == 3
    assert service.health()["ok"] is False
