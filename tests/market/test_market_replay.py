"""ReplaySource and the candle CSV reader: release by the clock, aggregation, validation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tradefleet.config import MarketKind, Settings
from tradefleet.domain import Candle
from tradefleet.market import build_source
from tradefleet.market.base import AcceleratedClock, ManualClock, MarketError, MarketUnavailable
from tradefleet.market.csvfile import CandleFileError, read_candle_csv, write_candle_csv
from tradefleet.market.products import DEFAULT_INCREMENT, POPULAR_SPECS
from tradefleet.market.replay import ReplaySource

T0 = 1_700_000_100  # a multiple of 300 and of 900
HEADER = "timestamp,open,high,low,close,volume\n"


def _candle(i: int, tf: int = 300) -> Candle:
    price = 1.0 + i
    return Candle(T0 + i * tf, price, price + 0.5, price - 0.5, price + 0.25, 10.0 + i)


@pytest.fixture
def replay_dir(tmp_path: Path) -> Path:
    write_candle_csv(tmp_path / "ETH-BTC_5m.csv", [_candle(i) for i in range(12)])
    write_candle_csv(tmp_path / "FOO-BAR_1m.csv", [_candle(i, 60) for i in range(3)])
    (tmp_path / "notes.csv").write_text("not candles\n")
    return tmp_path


async def test_candles_are_released_as_the_clock_passes_their_close(replay_dir: Path) -> None:
    clock = ManualClock(T0)
    source = ReplaySource(replay_dir, clock)
    assert source.start_time() == T0
    assert await source.fetch_candles("ETH-BTC", "5m", None, 10) == []
    assert await source.ticker("ETH-BTC") == Decimal("1.0")  # the first candle's open
    clock.set(T0 + 299)
    assert await source.fetch_candles("ETH-BTC", "5m", None, 10) == []
    clock.set(T0 + 300)
    assert await source.fetch_candles("ETH-BTC", "5m", None, 10) == [_candle(0)]
    assert await source.ticker("ETH-BTC") == Decimal("2.0")  # candle 1 has just opened
    clock.set(T0 + 5 * 300 + 10)
    assert await source.fetch_candles("ETH-BTC", "5m", None, 3) == [_candle(i) for i in (2, 3, 4)]
    assert await source.fetch_candles("ETH-BTC", "5m", T0 + 300, 2) == [_candle(1), _candle(2)]
    assert await source.fetch_candles("ETH-BTC", "5m", T0 + 301, 10) == [
        _candle(i) for i in (2, 3, 4)
    ]
    clock.set(T0 + 100 * 300)  # past the end: the last close stays the price
    assert len(await source.fetch_candles("ETH-BTC", "5m", None, 100)) == 12
    assert await source.ticker("ETH-BTC") == Decimal("12.25")


async def test_ticker_before_the_first_candle_is_unavailable(replay_dir: Path) -> None:
    source = ReplaySource(replay_dir, ManualClock(T0 - 1))
    with pytest.raises(MarketUnavailable, match="starts at 1700000100"):
        await source.ticker("ETH-BTC")


async def test_longer_timeframes_are_aggregated_from_the_file(replay_dir: Path) -> None:
    clock = ManualClock(T0 + 899)
    source = ReplaySource(replay_dir, clock)
    assert await source.fetch_candles("ETH-BTC", "15m", None, 5) == []
    clock.set(T0 + 1800)
    assert await source.fetch_candles("ETH-BTC", "15m", None, 5) == [
        Candle(T0, 1.0, 3.5, 0.5, 3.25, 33.0),
        Candle(T0 + 900, 4.0, 6.5, 3.5, 6.25, 42.0),
    ]
    with pytest.raises(MarketError, match="no replay data for ETH-BTC 1m; files have: 5m"):
        await source.fetch_candles("ETH-BTC", "1m", None, 5)


async def test_products_are_the_files_present(replay_dir: Path) -> None:
    products = {p.product_id: p for p in await ReplaySource(replay_dir).products()}
    assert sorted(products) == ["ETH-BTC", "FOO-BAR"]
    assert products["ETH-BTC"] == POPULAR_SPECS["ETH-BTC"]
    foo = products["FOO-BAR"]
    assert (foo.base_currency, foo.quote_currency) == ("FOO", "BAR")
    assert foo.base_increment == foo.price_increment == DEFAULT_INCREMENT == Decimal("1e-8")


def test_build_source_starts_a_replay_clock_at_the_first_candle(replay_dir: Path) -> None:
    settings = Settings(market=MarketKind.REPLAY, replay_dir=replay_dir, speed=60.0)
    source = build_source(settings)
    assert isinstance(source, ReplaySource)
    assert isinstance(source.clock, AcceleratedClock)
    assert source.clock.speed == 60.0
    assert T0 <= source.clock.now() < T0 + 60


def test_an_empty_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MarketError, match=r"no PRODUCT_TIMEFRAME\.csv files"):
        ReplaySource(tmp_path)
    with pytest.raises(MarketError, match="does not exist"):
        ReplaySource(tmp_path / "missing")


ROWS = [f"{T0 + i * 300},1.0,1.5,0.5,1.25,10\n" for i in range(3)]


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        (
            ROWS[1] + ROWS[0] + ROWS[2],
            3,
            "timestamp 1700000100 is before 1700000400 \\(not sorted\\)",
        ),
        (ROWS[0] + ROWS[1] + ROWS[1], 4, "duplicate timestamp 1700000400"),
        (ROWS[0] + f"{T0 + 300},1.0,1.2,0.5,1.25,10\n", 3, "high 1.2 is below max"),
        (ROWS[0] + f"{T0 + 300},1.0,1.5,1.1,1.25,10\n", 3, "low 1.1 is above min"),
        (ROWS[0] + f"{T0 + 300},1.0,abc,0.5,1.25,10\n", 3, "high 'abc' is not a number"),
        (ROWS[0] + f"{T0 + 300},1.0,1.5,0.5,nan,10\n", 3, "close 'nan' must be a positive"),
        (ROWS[0] + f"{T0 + 300},1.0,1.5,0.5\n", 3, "expected 6 fields, found 4"),
        (f"{T0}000,1.0,1.5,0.5,1.25,10\n", 2, "timestamp 1700000100000 looks like milliseconds"),
        (f"{T0}.5,1.0,1.5,0.5,1.25,10\n", 2, "timestamp '1700000100.5' is not whole unix seconds"),
    ],
    ids=["unsorted", "duplicate", "high", "low", "text", "nan", "short", "ms", "float-time"],
)
def test_bad_files_are_rejected_naming_file_and_line(
    tmp_path: Path, body: str, line: int, message: str
) -> None:
    path = tmp_path / "ETH-BTC_5m.csv"
    path.write_text(HEADER + body)
    with pytest.raises(CandleFileError, match=rf"ETH-BTC_5m\.csv:{line}: {message}"):
        ReplaySource(tmp_path)


def test_header_and_empty_files_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "ETH-BTC_5m.csv"
    path.write_text("time,open,high,low,close,volume\n" + ROWS[0])
    with pytest.raises(CandleFileError, match=r"ETH-BTC_5m\.csv:1: header must be timestamp,"):
        read_candle_csv(path)
    path.write_text(HEADER)
    with pytest.raises(CandleFileError, match="no candles after the header"):
        read_candle_csv(path)


def test_written_files_read_back_exactly(tmp_path: Path) -> None:
    candles = [Candle(T0 + i * 60, 0.1 + i, 0.3 + i, 0.05, 0.2 + i, 1e-8 * i) for i in range(5)]
    path = tmp_path / "XRP-ETH_1m.csv"
    assert write_candle_csv(path, candles) == 5
    arrays = read_candle_csv(path)
    assert [arrays.candle(i) for i in range(len(arrays))] == candles
    assert arrays.time.dtype == np.int64
