"""The simulated market: deterministic, order independent, clock bound, and fast."""

from __future__ import annotations

from decimal import Decimal

import pytest
from market_testkit import NOW

from tradefleet.market.base import ManualClock, UnknownProductError
from tradefleet.market.products import POPULAR, simulated_catalog
from tradefleet.market.simulated import SimulatedSource

OPEN_5M = NOW // 300 * 300


def _source(seed: int = 42, at: float = NOW) -> SimulatedSource:
    return SimulatedSource(seed, ManualClock(at))


async def test_same_seed_same_candles_other_seed_others() -> None:
    first = await _source(42).fetch_candles("ETH-BTC", "5m", None, 300)
    again = await _source(42).fetch_candles("ETH-BTC", "5m", None, 300)
    other = await _source(43).fetch_candles("ETH-BTC", "5m", None, 300)
    assert first == again
    assert len(first) == 300
    assert sum(a.close != b.close for a, b in zip(first, other, strict=True)) > 250


async def test_call_order_and_windows_do_not_change_candles() -> None:
    forward, backward = _source(), _source()
    products = ["ETH-BTC", "BTC-USD", "SIM07-USD"]
    timeframes = ["1m", "5m", "1h", "1d"]
    ahead = {
        (p, tf): await forward.fetch_candles(p, tf, None, 120)
        for p in products
        for tf in timeframes
    }
    behind = {
        (p, tf): await backward.fetch_candles(p, tf, None, 120)
        for p in reversed(products)
        for tf in reversed(timeframes)
    }
    assert ahead == behind
    # Pieces fetched with ``since`` are the same candles as one long window.
    whole = ahead[("ETH-BTC", "5m")]
    pieces = []
    for start in range(whole[0].time, whole[-1].time + 1, 40 * 300):
        pieces += await _source().fetch_candles("ETH-BTC", "5m", start, 40)
    assert pieces == whole


async def test_candles_only_up_to_the_clock() -> None:
    clock = ManualClock(OPEN_5M + 299)
    source = SimulatedSource(42, clock)
    candles = await source.fetch_candles("ETH-BTC", "5m", None, 10)
    assert [c.time for c in candles] == list(range(OPEN_5M - 3000, OPEN_5M, 300))
    assert await source.fetch_candles("ETH-BTC", "5m", OPEN_5M, 10) == []
    clock.set(OPEN_5M + 300)  # the forming candle closes
    newest = await source.fetch_candles("ETH-BTC", "5m", OPEN_5M, 10)
    assert [c.time for c in newest] == [OPEN_5M]
    later = await source.fetch_candles("ETH-BTC", "5m", None, 11)
    assert later[:-1] == candles  # history did not change when time moved on
    assert await source.ticker("ETH-BTC") == Decimal(repr(newest[0].close))


async def test_timeframes_share_opens_and_closes() -> None:
    source = _source()
    minutes = {c.time: c for c in await source.fetch_candles("SOL-USD", "1m", None, 600)}
    fives = await source.fetch_candles("SOL-USD", "5m", None, 100)
    hours = {c.time: c for c in await source.fetch_candles("SOL-USD", "1h", None, 48)}
    for candle in fives:
        assert candle.open == minutes[candle.time].open
        assert candle.close == minutes[candle.time + 240].close
    for candle in await source.fetch_candles("SOL-USD", "2h", None, 20):
        assert (candle.open, candle.close) == (
            hours[candle.time].open,
            hours[candle.time + 3600].close,
        )


async def test_prices_are_on_the_tick_and_candles_are_well_formed() -> None:
    source = _source()
    for entry in POPULAR:
        spec = entry.spec
        for candle in await source.fetch_candles(spec.product_id, "15m", None, 200):
            assert candle.low <= min(candle.open, candle.close) <= max(candle.open, candle.close)
            assert max(candle.open, candle.close) <= candle.high
            assert candle.low > 0 and candle.volume > 0
            for price in (candle.open, candle.high, candle.low, candle.close):
                assert Decimal(repr(price)) % spec.price_increment == 0, (spec.product_id, price)
        price = await source.ticker(spec.product_id)
        assert price == price.quantize(spec.price_increment)
        assert 0.2 < float(price) / entry.start_price < 5  # stays near its typical level


async def test_regimes_give_calm_and_wild_days() -> None:
    days = await _source(5).fetch_candles("BTC-USD", "1d", None, 365)
    ranges = sorted((c.high - c.low) / c.open for c in days)
    assert ranges[-10] > 3 * ranges[10]  # volatility is not constant
    assert len({c.time for c in days}) == 365
    assert all(c.time % 86400 == 0 for c in days)


async def test_unknown_product_and_timeframe() -> None:
    source = SimulatedSource(1, ManualClock(NOW), timeframes=["1m", "5m"])
    with pytest.raises(UnknownProductError):
        await source.fetch_candles("DOGE-USD", "5m", None, 5)
    with pytest.raises(ValueError, match="'1h' not simulated; supported: 1m, 5m"):
        await source.fetch_candles("ETH-BTC", "1h", None, 5)
    with pytest.raises(UnknownProductError):
        await source.ticker("DOGE-USD")


async def test_catalogue_has_fifty_products_popular_first() -> None:
    products = await _source().products()
    ids = [p.product_id for p in products]
    assert len(ids) == len(set(ids)) == 50
    assert ids[:14] == [entry.spec.product_id for entry in POPULAR]
    assert ids[14:17] == ["SIM01-USD", "SIM02-BTC", "SIM03-USD"]
    assert [e.spec.product_id for e in simulated_catalog(3)] == ["ETH-BTC", "SOL-BTC", "LINK-BTC"]
    two = await SimulatedSource(1, ManualClock(NOW), POPULAR[:2]).products()
    assert [p.product_id for p in two] == ["ETH-BTC", "SOL-BTC"]
    with pytest.raises(ValueError, match="at least one product"):
        simulated_catalog(0)


async def test_fifty_products_each_serve_300_closed_candles() -> None:
    source = _source()
    ids = [p.product_id for p in await source.products()]
    assert len(ids) == 50
    for product_id in ids:
        assert len(await source.fetch_candles(product_id, "5m", None, 300)) == 300
