"""A candle the exchange publishes a few seconds late is asked for again (1 s, 2 s, 4 s
... apart) and seen seconds late, not a timeframe late; one never published is asked
for no more than 30 s after its close."""

from __future__ import annotations

from market_testkit import NOW

from tradefleet.domain import Candle, ProductSpec
from tradefleet.market.base import ManualClock
from tradefleet.market.cache import CandleCache
from tradefleet.market.simulated import SimulatedSource

TF = 60
CLOSE = NOW // TF * TF  # a 1m close at or just before NOW
DUE = CLOSE - TF  # the candle that closes at CLOSE


class LateSource:
    """The simulated market, except that the candle ``DUE`` is published only from
    ``published_at`` on (clock time)."""

    name = "late"

    def __init__(self, clock: ManualClock, published_at: float) -> None:
        self.inner = SimulatedSource(3, clock)
        self.clock = clock
        self.published_at = published_at
        self.asks: list[float] = []

    async def products(self) -> list[ProductSpec]:
        return await self.inner.products()

    async def fetch_candles(
        self, product_id: str, timeframe: str, since: int | None, limit: int
    ) -> list[Candle]:
        self.asks.append(self.clock.now())
        candles = await self.inner.fetch_candles(product_id, timeframe, since, limit)
        if self.clock.now() < self.published_at:
            candles = [c for c in candles if c.time != DUE]
        return candles

    async def ticker(self, product_id: str):  # type: ignore[no-untyped-def]
        return await self.inner.ticker(product_id)

    async def close(self) -> None:
        return None


async def _newest(cache: CandleCache) -> int:
    return (await cache.get("ETH-BTC", "1m", 10))[-1].time


async def test_a_late_candle_is_asked_for_again_until_it_is_there() -> None:
    clock = ManualClock(CLOSE + 0.5)
    source = LateSource(clock, published_at=CLOSE + 4)
    cache = CandleCache(source, clock)
    assert await _newest(cache) == DUE - TF  # not published yet
    assert cache.next_late_retry() == CLOSE + 1.5  # asked again a second later
    assert await _newest(cache) == DUE - TF and len(source.asks) == 1  # not before then
    clock.set(CLOSE + 1.5)
    assert await _newest(cache) == DUE - TF
    assert cache.next_late_retry() == CLOSE + 3.5  # then 2 s later
    clock.set(CLOSE + 3.5)
    await _newest(cache)
    clock.set(CLOSE + 7.5)  # 4 s later: published meanwhile
    assert await _newest(cache) == DUE
    assert source.asks == [CLOSE + 0.5, CLOSE + 1.5, CLOSE + 3.5, CLOSE + 7.5]
    assert cache.next_late_retry() is None
    await _newest(cache)
    assert len(source.asks) == 4  # there: not asked again before the next close


async def test_a_candle_never_published_stops_being_asked_for() -> None:
    clock = ManualClock(CLOSE + 0.5)
    source = LateSource(clock, published_at=float("inf"))
    cache = CandleCache(source, clock)
    for _ in range(10):
        await _newest(cache)
        retry = cache.next_late_retry()
        if retry is None:
            break
        clock.set(retry)
    # asked at +0.5, then 1, 2, 4 and 8 s later; 16 s more would be past +30 s
    assert [round(t - CLOSE, 1) for t in source.asks] == [0.5, 1.5, 3.5, 7.5, 15.5]
    clock.set(CLOSE + 50)
    await _newest(cache)
    assert len(source.asks) == 5  # until the next close
    clock.set(CLOSE + TF + 0.5)
    await _newest(cache)
    assert len(source.asks) == 6
