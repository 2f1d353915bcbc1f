"""Timeframes, clocks, the product catalogue and build_source."""

from __future__ import annotations

import itertools
import time
from decimal import Decimal
from pathlib import Path

import pytest
from market_testkit import NOW

from tradefleet.config import MarketKind, Settings
from tradefleet.market import build_source
from tradefleet.market.base import (
    TIMEFRAMES,
    AcceleratedClock,
    ManualClock,
    MarketSource,
    MarketUnavailable,
    WallClock,
    last_closed_open_time,
    timeframe_seconds,
)
from tradefleet.market.exchange import ExchangeSource, make_client, retrying
from tradefleet.market.products import (
    POPULAR,
    POPULAR_PRODUCTS,
    default_spec,
    split_product_id,
    synthetic_entry,
)
from tradefleet.market.replay import ReplaySource
from tradefleet.market.simulated import SimulatedSource


def test_timeframes_are_coinbase_granularities() -> None:
    assert TIMEFRAMES == {
        "1m": 60,
        "5m": 300,
        "15m": 900,
        "30m": 1800,
        "1h": 3600,
        "2h": 7200,
        "6h": 21600,
        "1d": 86400,
    }
    assert timeframe_seconds("6h") == 21600
    with pytest.raises(ValueError, match=r"unsupported timeframe '4h'; supported: 1m, 5m, "):
        timeframe_seconds("4h")


def test_last_closed_open_time() -> None:
    assert last_closed_open_time(NOW, 300) == 1_749_999_600
    assert last_closed_open_time(1_749_999_900, 300) == 1_749_999_600  # closes exactly now
    assert last_closed_open_time(1_749_999_899.9, 300) == 1_749_999_300
    assert last_closed_open_time(NOW, 86400) == 1_749_859_200


async def test_accelerated_clock_runs_speed_times_faster() -> None:
    clock = AcceleratedClock(speed=100.0, start=1000.0)
    assert 1000.0 <= clock.now() < 1001.0
    started = time.monotonic()
    await clock.sleep_until(1005.0)  # 5 simulated seconds = 0.05 real seconds
    elapsed = time.monotonic() - started
    assert clock.now() >= 1005.0
    assert 0.045 <= elapsed < 0.5
    started = time.monotonic()
    await clock.sleep_until(900.0)  # the past: no wait
    assert time.monotonic() - started < 0.25
    with pytest.raises(ValueError, match="speed must be positive"):
        AcceleratedClock(0, 0)


async def test_wall_and_manual_clocks() -> None:
    assert abs(WallClock().now() - time.time()) < 0.1
    await WallClock().sleep_until(time.time() - 1)
    clock = ManualClock(100)
    await clock.sleep_until(160)
    assert clock.now() == 160
    await clock.sleep_until(120)  # never backwards
    assert clock.now() == 160
    clock.advance(5)
    assert clock.now() == 165
    with pytest.raises(ValueError, match="cannot go backwards"):
        clock.set(1)


async def test_retrying_backs_off_then_gives_up() -> None:
    calls: list[float] = []

    async def flaky() -> str:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise MarketUnavailable("down")
        return "ok"

    assert await retrying(flaky, attempts=3, base_delay=0.02) == "ok"
    gaps = [later - earlier for earlier, later in itertools.pairwise(calls)]
    assert 0.02 <= gaps[0] < 0.2 and 0.04 <= gaps[1] < 0.3
    calls.clear()
    with pytest.raises(MarketUnavailable):
        await retrying(flaky, attempts=2, base_delay=0.001)
    assert len(calls) == 2

    async def broken() -> str:
        calls.append(0.0)
        raise KeyError("bug")

    calls.clear()
    with pytest.raises(KeyError):
        await retrying(broken, attempts=5, base_delay=0.001)
    assert len(calls) == 1


def test_popular_products_have_coinbase_like_increments() -> None:
    ids = [spec.product_id for spec in POPULAR_PRODUCTS]
    assert ids == [
        "ETH-BTC", "SOL-BTC", "LINK-BTC", "MATIC-BTC", "AVAX-BTC", "DOT-BTC", "UNI-BTC",
        "ATOM-BTC", "LTC-BTC", "XLM-BTC", "BTC-USD", "ETH-USD", "SOL-USD", "USDC-USD",
    ]  # fmt: skip
    eth = POPULAR_PRODUCTS[0]
    assert (eth.base_currency, eth.quote_currency) == ("ETH", "BTC")
    assert (eth.base_increment, eth.quote_increment, eth.price_increment) == (
        Decimal("0.00000001"),
        Decimal("0.00001"),
        Decimal("0.00001"),
    )
    assert (eth.base_min_size, eth.quote_min_size) == (Decimal("0.00022"), Decimal("0.00001"))
    assert default_spec("XLM-BTC").base_increment == Decimal(1)
    assert default_spec("BTC-USD").quote_min_size == Decimal(1)
    assert all(entry.start_price > 0 for entry in POPULAR)


def test_default_spec_and_product_ids() -> None:
    spec = default_spec("ABC-XYZ")
    assert (spec.base_currency, spec.quote_currency, spec.quote_min_size) == (
        "ABC",
        "XYZ",
        Decimal("1e-8"),
    )
    assert split_product_id("ETH-BTC") == ("ETH", "BTC")
    for bad in ("ETHBTC", "ETH-BTC-X", "eth-btc", "-BTC"):
        with pytest.raises(ValueError, match="must look like 'ETH-BTC'"):
            split_product_id(bad)


def test_synthetic_products() -> None:
    usd, btc = synthetic_entry(1), synthetic_entry(2)
    assert (usd.spec.product_id, usd.spec.quote_min_size) == ("SIM01-USD", Decimal(1))
    assert (btc.spec.product_id, btc.spec.quote_min_size) == ("SIM02-BTC", Decimal("0.00001"))
    assert usd.start_price == 20.0  # (1 + 1) * 10 ** (7 % 5 - 1)
    assert usd.spec.price_increment == Decimal("0.001")  # five significant digits at 20
    assert btc.start_price == pytest.approx(3e-6)  # (1 + 2) * 10 ** -(14 % 5 + 2)
    assert btc.spec.price_increment == Decimal("1e-8")  # never finer than a satoshi


async def test_build_source_picks_the_configured_market() -> None:
    exchange = build_source(Settings(exchange_api_url="http://127.0.0.1:9/"))
    try:
        assert isinstance(exchange, ExchangeSource)
        assert exchange._client.urls["api"]["rest"] == "http://127.0.0.1:9"
        assert isinstance(exchange.clock, WallClock)
    finally:
        await exchange.close()
    settings = Settings(market=MarketKind.SIMULATED, simulated_seed=7, speed=30.0)
    simulated = build_source(settings)
    assert isinstance(simulated, SimulatedSource)
    assert simulated.seed == 7
    assert isinstance(simulated.clock, AcceleratedClock) and simulated.clock.speed == 30.0
    manual = ManualClock(NOW)
    same = build_source(settings, manual)
    assert isinstance(same, SimulatedSource) and same.clock is manual
    assert await same.fetch_candles("ETH-BTC", "1h", None, 3) == await SimulatedSource(
        7, manual
    ).fetch_candles("ETH-BTC", "1h", None, 3)


def test_unknown_exchange_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown ccxt exchange 'nope'"):
        make_client("nope", None)


def test_sources_satisfy_the_protocol(tmp_path: Path) -> None:
    (tmp_path / "ETH-BTC_5m.csv").write_text("timestamp,open,high,low,close,volume\n0,1,1,1,1,0\n")
    assert isinstance(SimulatedSource(1, ManualClock(NOW)), MarketSource)
    assert isinstance(ReplaySource(tmp_path), MarketSource)
    assert not isinstance(object(), MarketSource)
