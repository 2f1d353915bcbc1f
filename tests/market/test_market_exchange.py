"""ExchangeSource against the fake Coinbase server, through the real ccxt client."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from market_testkit import NOW
from tests.fakes.coinbase_server import RATE_LIMIT_HTML, FakeCoinbase

from tradefleet.domain import Candle, ProductSpec
from tradefleet.market.base import (
    ManualClock,
    MarketError,
    MarketUnavailable,
    UnknownProductError,
)
from tradefleet.market.exchange import ExchangeSource, market_to_spec
from tradefleet.market.service import MarketService

Factory = Callable[..., ExchangeSource]
OPEN = NOW // 300 * 300  # 1_749_999_900: the 5-minute candle still forming at NOW


def _eth_btc(index: int) -> Candle:
    """Candle ``index`` steps before the forming one, with values that identify it."""
    price = 0.05 + index * 0.00001
    return Candle(OPEN - index * 300, price, price + 0.0002, price - 0.0001, price + 0.00005, index)


def _add_products(fake: FakeCoinbase) -> None:
    fake.add_product(
        "ETH-BTC",
        base_increment="0.00000001",
        quote_increment="0.00001",
        price_increment="0.00001",
        base_min_size="0.00022",
        quote_min_size="0.00001",
        price="0.05123",
    )
    fake.add_product("BTC-USD", quote_increment="0.01", quote_min_size="1", price="65000.12")
    fake.add_product(
        "XLM-USD",
        base_increment="1",
        quote_increment="0.0001",
        price_increment="0.000001",
        base_min_size="1",
        quote_min_size="0.1",
    )
    fake.add_product("OLD-USD", trading_disabled=True)
    fake.set_candles("ETH-BTC", 300, [_eth_btc(i) for i in range(0, 701)])


async def test_products_keep_coinbase_increments_exactly(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory
) -> None:
    _add_products(fake_coinbase)
    products = {p.product_id: p for p in await exchange_factory().products()}
    assert sorted(products) == ["BTC-USD", "ETH-BTC", "XLM-USD"]  # disabled one left out
    assert products["ETH-BTC"] == ProductSpec(
        "ETH-BTC", "ETH", "BTC", Decimal("0.00000001"), Decimal("0.00001"),
        Decimal("0.00001"), Decimal("0.00022"), Decimal("0.00001"),
    )  # fmt: skip
    assert str(products["ETH-BTC"].base_min_size) == "0.00022"
    xlm = products["XLM-USD"]
    assert (xlm.base_increment, xlm.quote_increment, xlm.price_increment) == (
        Decimal(1),
        Decimal("0.0001"),
        Decimal("0.000001"),
    )
    assert xlm.quote_min_size == Decimal("0.1")
    assert products["BTC-USD"].symbol == "BTC/USD"
    # load_markets asks for spot products, futures and the v2 currency lists, once each.
    assert fake_coinbase.count("/market/products") == 2
    assert fake_coinbase.count("/v2/currencies") == 2


async def test_products_are_listed_again_each_time_they_are_asked_for(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory
) -> None:
    """New listings, delistings and changed increments show without a restart (the
    market service asks hourly); candles of a delisted product are refused."""
    fake_coinbase.add_product("ETH-BTC", base_increment="0.00000001")
    fake_coinbase.add_product("BTC-USD")
    source = exchange_factory()
    assert sorted(p.product_id for p in await source.products()) == ["BTC-USD", "ETH-BTC"]
    del fake_coinbase.products["BTC-USD"]
    fake_coinbase.add_product("SOL-USD")
    fake_coinbase.add_product("ETH-BTC", base_increment="0.0001")
    products = {p.product_id: p for p in await source.products()}
    assert sorted(products) == ["ETH-BTC", "SOL-USD"]
    assert products["ETH-BTC"].base_increment == Decimal("0.0001")
    with pytest.raises(UnknownProductError):
        await source.fetch_candles("BTC-USD", "5m", None, 3)
    fake_coinbase.fail(503, times=10, path="/market/products")
    with pytest.raises(MarketUnavailable):
        await source.products()
    fake_coinbase.heal()
    assert (await source.ticker("SOL-USD")) > 0  # the last good list still serves


def test_market_to_spec_falls_back_to_ccxt_precision_and_limits() -> None:
    market = {
        "base": "ABC",
        "quote": "USD",
        "precision": {"amount": 0.001, "price": 0.0005},
        "limits": {"amount": {"min": 0.01}, "cost": {"min": 5.0}},
        "info": {},
    }
    spec = market_to_spec(market)
    assert spec == ProductSpec(
        "ABC-USD", "ABC", "USD", Decimal("0.001"), Decimal("0.0005"), Decimal("0.0005"),
        Decimal("0.01"), Decimal(5),
    )  # fmt: skip
    decimal_places = market_to_spec({**market, "precision": {"amount": 3, "price": 2}}, 2)
    assert (decimal_places.base_increment, decimal_places.price_increment) == (
        Decimal("0.001"),
        Decimal("0.01"),
    )


async def test_candles_page_sort_and_drop_the_forming_candle(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory
) -> None:
    _add_products(fake_coinbase)
    candles = await exchange_factory().fetch_candles("ETH-BTC", "5m", None, 650)
    assert len(candles) == 650
    assert candles[0] == _eth_btc(650)
    assert candles[-1] == _eth_btc(1)  # the forming candle (index 0) is not there
    assert [c.time for c in candles] == list(range(OPEN - 650 * 300, OPEN, 300))
    pages = [r.query for r in fake_coinbase.requests if r.path.endswith("/candles")]
    assert [int(p["start"]) for p in pages] == [
        OPEN - 650 * 300,
        OPEN - 350 * 300,
        OPEN - 50 * 300,
    ]
    assert all(int(p["end"]) - int(p["start"]) <= 300 * 300 for p in pages)
    assert {p["granularity"] for p in pages} == {"FIVE_MINUTE"}


async def test_candles_since_is_aligned_and_limited(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory
) -> None:
    _add_products(fake_coinbase)
    source = exchange_factory()
    candles = await source.fetch_candles("ETH-BTC", "5m", OPEN - 10 * 300 + 1, 5)
    assert [c.time for c in candles] == [OPEN - i * 300 for i in (9, 8, 7, 6, 5)]
    tail = await source.fetch_candles("ETH-BTC", "5m", OPEN - 2 * 300, 100)
    assert tail == [_eth_btc(2), _eth_btc(1)]


async def test_forming_candle_is_returned_once_closed(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory, clock: ManualClock
) -> None:
    _add_products(fake_coinbase)
    source = exchange_factory()
    assert (await source.fetch_candles("ETH-BTC", "5m", None, 2))[-1] == _eth_btc(1)
    clock.set(OPEN + 300)
    assert await source.fetch_candles("ETH-BTC", "5m", None, 2) == [_eth_btc(1), _eth_btc(0)]


async def test_missing_candles_leave_gaps(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory
) -> None:
    _add_products(fake_coinbase)
    fake_coinbase.set_candles("ETH-BTC", 300, [_eth_btc(i) for i in (1, 2, 4)])
    candles = await exchange_factory().fetch_candles("ETH-BTC", "5m", None, 4)
    assert candles == [_eth_btc(4), _eth_btc(2), _eth_btc(1)]


async def test_ticker_is_the_exact_last_trade_price(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory
) -> None:
    _add_products(fake_coinbase)
    source = exchange_factory()
    assert str(await source.ticker("ETH-BTC")) == "0.05123"
    assert await source.ticker("BTC-USD") == Decimal("65000.12")


async def test_unknown_product_and_timeframe(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory
) -> None:
    _add_products(fake_coinbase)
    source = exchange_factory()
    with pytest.raises(UnknownProductError, match="DOGE-BTC"):
        await source.fetch_candles("DOGE-BTC", "5m", None, 3)
    with pytest.raises(ValueError, match="unsupported timeframe '3m'"):
        await source.fetch_candles("ETH-BTC", "3m", None, 3)
    assert fake_coinbase.count("/candles") == 0


@pytest.mark.parametrize(
    "inject",
    [
        lambda fake: fake.fail(503, times=3, path="/ticker"),
        lambda fake: fake.fail(500, times=3, path="/ticker",
                               body='{"error": "internal_server_error", "message": "boom"}'),
        lambda fake: fake.fail(429, times=3, path="/ticker", body=RATE_LIMIT_HTML,
                               content_type="text/html"),
        lambda fake: fake.cut_response(times=3, path="/ticker"),
        lambda fake: fake.reset_connection(times=6, path="/ticker"),
    ],
    ids=["503", "500-json", "429-html", "cut-mid-body", "reset"],
)  # fmt: skip
async def test_transient_failures_become_market_unavailable(
    fake_coinbase: FakeCoinbase,
    exchange_factory: Factory,
    inject: Callable[[FakeCoinbase], None],
) -> None:
    _add_products(fake_coinbase)
    source = exchange_factory(attempts=3)
    await source.products()
    inject(fake_coinbase)
    with pytest.raises(MarketUnavailable):
        await source.ticker("BTC-USD")
    assert fake_coinbase.failures == []  # every attempt was made (3, aiohttp resends resets)
    assert await source.ticker("BTC-USD") == Decimal("65000.12")


async def test_retries_hide_a_short_outage(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory
) -> None:
    _add_products(fake_coinbase)
    source = exchange_factory(attempts=3)
    await source.products()
    fake_coinbase.fail(503, times=2, path="/ticker")
    assert await source.ticker("BTC-USD") == Decimal("65000.12")
    assert fake_coinbase.count("/ticker") == 3


async def test_a_rejected_request_is_not_retried(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory
) -> None:
    _add_products(fake_coinbase)
    source = exchange_factory(attempts=3)
    await source.products()
    body = '{"error": "INVALID_ARGUMENT", "message": "bad granularity"}'
    fake_coinbase.fail(400, times=3, path="/candles", body=body)
    with pytest.raises(MarketError, match="bad granularity") as caught:
        await source.fetch_candles("ETH-BTC", "5m", None, 3)
    assert not isinstance(caught.value, MarketUnavailable)
    assert fake_coinbase.count("/candles") == 1


async def test_outage_shows_in_health_and_recovers(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory, clock: ManualClock
) -> None:
    _add_products(fake_coinbase)
    service = MarketService(exchange_factory(attempts=1), clock)
    assert len(await service.candles("ETH-BTC", "5m", 3)) == 3
    clock.set(OPEN + 300)  # a new candle closed: the cache must ask again
    fake_coinbase.fail(503, times=10, path="/candles")
    with pytest.raises(MarketUnavailable):
        await service.candles("ETH-BTC", "5m", 3)
    health = service.health()
    assert health["ok"] is False
    assert "503" in health["last_error"]
    assert (health["since"], health["next_retry"]) == (OPEN + 300, OPEN + 301)
    asked = fake_coinbase.count("/candles")
    with pytest.raises(MarketUnavailable, match="next try"):
        await service.candles("ETH-BTC", "5m", 3)  # in the pause: the source is left alone
    assert fake_coinbase.count("/candles") == asked
    assert service.cached_candles("ETH-BTC", "5m", 3)[-1] == _eth_btc(1)  # last good data kept
    fake_coinbase.heal()
    clock.advance(1)
    assert (await service.candles("ETH-BTC", "5m", 3))[-1] == _eth_btc(0)
    assert service.health()["ok"] is True
    assert service.health()["since"] == OPEN + 301
