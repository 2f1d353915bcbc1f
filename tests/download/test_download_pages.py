"""The downloader against the fake Coinbase, through the real ccxt client: exact rows,
page boundaries, empty intervals, resuming, merging before the first candle, Parquet."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from download_testkit import T0, TF, add_eth_btc, candle, candle_requests
from tests.fakes.coinbase_server import FakeCoinbase

from tradefleet.backtest.parquet import read_candle_parquet
from tradefleet.data.download import Downloader, DownloadRequest, DownloadResult
from tradefleet.data.store import CsvSink, ParquetSink, read_existing
from tradefleet.domain import Candle, CandleArrays
from tradefleet.market.base import MarketError, MarketUnavailable, UnknownProductError
from tradefleet.market.csvfile import read_candle_csv
from tradefleet.market.exchange import ExchangeSource

Factory = Callable[..., ExchangeSource]
PAGE = 300 * TF


def _request(first: int, end: int) -> DownloadRequest:
    """Candles ``first`` .. ``end - 1`` (indices from T0)."""
    return DownloadRequest("ETH-BTC", "5m", T0 + first * TF, T0 + end * TF)


async def _download(
    source: ExchangeSource, path: Path, first: int, end: int, **options: object
) -> DownloadResult:
    existing = read_existing(path, "5m")
    sink = CsvSink(path)
    downloader = Downloader(source, _request(first, end), sink, **options)  # type: ignore[arg-type]
    return await downloader.run(existing)


def _times(candles: CandleArrays) -> list[int]:
    return [int(t) for t in candles.time]


def _same(candles: CandleArrays, indices: range | list[int]) -> None:
    expected = CandleArrays.from_candles([candle(i) for i in indices])
    for name in ("time", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(candles, name), getattr(expected, name))


async def test_rows_are_written_exactly_as_the_exchange_sent_them(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory, tmp_path: Path
) -> None:
    fake_coinbase.add_product("ETH-BTC")
    fake_coinbase.set_candles("ETH-BTC", TF, [
        Candle(T0, 0.05123, 0.0513, 0.0511, 0.05127, 12.5),
        Candle(T0 + 300, 0.05127, 0.0514, 0.0512, 0.0513, 0.0),
        Candle(T0 + 600, 0.0513, 0.0513, 0.0509, 0.05101, 3.25),
        Candle(T0 + 900, 0.05101, 0.0511, 0.051, 0.0511, 1.0),  # after --to: not written
    ])  # fmt: skip
    path = tmp_path / "ETH-BTC_5m.csv"
    result = await _download(exchange_factory(), path, 0, 3)
    assert path.read_text() == (
        "timestamp,open,high,low,close,volume\n"
        "1704067200,0.05123,0.0513,0.0511,0.05127,12.5\n"
        "1704067500,0.05127,0.0514,0.0512,0.0513,0.0\n"
        "1704067800,0.0513,0.0513,0.0509,0.05101,3.25\n"
    )
    assert (result.existing, result.added, result.missing) == (0, 3, 0)
    assert (result.first, result.last) == (T0, T0 + 600)


async def test_pages_of_300_cover_the_period_without_overlap(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory, tmp_path: Path
) -> None:
    add_eth_btc(fake_coinbase, range(800))
    path = tmp_path / "ETH-BTC_5m.csv"
    seen: list[tuple[int, int]] = []
    result = await _download(
        exchange_factory(), path, 0, 700, progress=lambda d, t: seen.append((d, t))
    )
    assert candle_requests(fake_coinbase) == [
        (T0, T0 + PAGE),
        (T0 + PAGE, T0 + 2 * PAGE),
        (T0 + 2 * PAGE, T0 + 2 * PAGE + 100 * TF),
    ]
    assert seen == [(0, 700), (300, 700), (600, 700), (700, 700)]
    _same(read_candle_csv(path), range(700))
    assert (result.added, result.last) == (700, T0 + 699 * TF)


async def test_empty_intervals_stay_gaps(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory, tmp_path: Path
) -> None:
    present = [i for i in range(400) if i not in (0, 1, 150, 299, 300, 301)]
    add_eth_btc(fake_coinbase, present)
    path = tmp_path / "ETH-BTC_5m.csv"
    result = await _download(exchange_factory(), path, 0, 400)
    _same(read_candle_csv(path), present)
    assert (result.added, result.missing) == (394, 6)
    assert (result.first, result.last) == (T0 + 2 * TF, T0 + 399 * TF)


async def test_at_the_live_edge_the_newest_unserved_intervals_are_not_gaps(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory, tmp_path: Path
) -> None:
    add_eth_btc(fake_coinbase, [i for i in range(290) if i != 7])  # served up to 289 of 400
    path = tmp_path / "ETH-BTC_5m.csv"
    live = DownloadRequest("ETH-BTC", "5m", T0, T0 + 400 * TF, live=True)
    result = await Downloader(exchange_factory(), live, CsvSink(path)).run(None)
    # 7 is a gap; 290 .. 399 (110, across the page boundary at 300) are not closed yet.
    assert (result.added, result.missing, result.unclosed) == (289, 1, 110)
    past = await _download(exchange_factory(), tmp_path / "past.csv", 0, 400)
    assert (past.added, past.missing, past.unclosed) == (289, 111, 0)  # an old --to: gaps
    nothing_new = await Downloader(exchange_factory(), live, CsvSink(path)).run(
        read_existing(path, "5m")
    )
    assert (nothing_new.added, nothing_new.missing, nothing_new.unclosed) == (0, 0, 110)


async def test_a_failing_network_leaves_a_valid_file_and_a_rerun_resumes(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory, tmp_path: Path
) -> None:
    add_eth_btc(fake_coinbase, range(650))
    path = tmp_path / "ETH-BTC_5m.csv"

    def break_after_first_page(done: int, _total: int) -> None:
        if done == 300:
            fake_coinbase.fail(503, times=50, path="/candles")

    with pytest.raises(MarketUnavailable):
        await _download(exchange_factory(attempts=3), path, 0, 650, progress=break_after_first_page)
    _same(read_candle_csv(path), range(300))  # the first page, whole and valid
    assert len(candle_requests(fake_coinbase)) == 4  # one page, then three failed attempts
    fake_coinbase.heal()
    fake_coinbase.requests.clear()
    result = await _download(exchange_factory(), path, 0, 650)
    assert candle_requests(fake_coinbase) == [
        (T0 + PAGE, T0 + 2 * PAGE),
        (T0 + 2 * PAGE, T0 + 2 * PAGE + 50 * TF),
    ]
    _same(read_candle_csv(path), range(650))
    assert (result.existing, result.added) == (300, 350)


async def test_a_complete_file_is_left_alone_and_earlier_candles_are_merged_in(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory, tmp_path: Path
) -> None:
    add_eth_btc(fake_coinbase, range(400))
    path = tmp_path / "ETH-BTC_5m.csv"
    await _download(exchange_factory(), path, 100, 200)
    fake_coinbase.requests.clear()
    result = await _download(exchange_factory(), path, 0, 350)
    assert candle_requests(fake_coinbase) == [(T0, T0 + 100 * TF), (T0 + 200 * TF, T0 + 350 * TF)]
    _same(read_candle_csv(path), range(350))
    assert (result.existing, result.added, result.first) == (100, 250, T0)
    fake_coinbase.requests.clear()
    again = await _download(exchange_factory(), path, 10, 300)  # inside the file: nothing to do
    assert candle_requests(fake_coinbase) == []
    assert (again.added, again.first, again.last) == (0, T0, T0 + 349 * TF)


async def test_a_file_without_a_final_newline_is_continued_cleanly(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory, tmp_path: Path
) -> None:
    add_eth_btc(fake_coinbase, range(5))
    path = tmp_path / "ETH-BTC_5m.csv"
    c = candle(0)
    path.write_text(
        f"timestamp,open,high,low,close,volume\n{c.time},{c.open},{c.high},{c.low},{c.close},0"
    )
    await _download(exchange_factory(), path, 0, 3)
    assert _times(read_candle_csv(path)) == [T0, T0 + TF, T0 + 2 * TF]


async def test_parquet_output_resumes_too(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory, tmp_path: Path
) -> None:
    pytest.importorskip("pyarrow")
    add_eth_btc(fake_coinbase, range(500))
    path = tmp_path / "ETH-BTC_5m.parquet"
    sink = ParquetSink(path, None, checkpoint=200)
    fake_coinbase.fail(503, times=3, path="/candles")
    with pytest.raises(MarketUnavailable):  # the first page fails: no file yet
        await Downloader(exchange_factory(), _request(0, 500), sink).run(None)
    sink.close()
    assert not path.exists()
    sink = ParquetSink(path, None, checkpoint=200)

    def break_second_page(done: int, _total: int) -> None:
        if done == 300:
            fake_coinbase.fail(503, times=3, path="/candles")

    with pytest.raises(MarketUnavailable):
        await Downloader(exchange_factory(), _request(0, 500), sink, break_second_page).run(None)
    assert _times(read_candle_parquet(path)) == [T0 + i * TF for i in range(300)]  # checkpoint
    existing = read_existing(path, "5m")
    sink = ParquetSink(path, existing)
    result = await Downloader(exchange_factory(), _request(0, 500), sink).run(existing)
    sink.close()
    _same(read_candle_parquet(path), range(500))
    assert (result.existing, result.added) == (300, 200)


async def test_an_unknown_product_fetches_nothing(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory, tmp_path: Path
) -> None:
    add_eth_btc(fake_coinbase, range(10))
    path = tmp_path / "DOGE-BTC_5m.csv"
    request = DownloadRequest("DOGE-BTC", "5m", T0, T0 + 10 * TF)
    with pytest.raises(UnknownProductError, match="DOGE-BTC"):
        await Downloader(exchange_factory(), request, CsvSink(path)).run(None)
    assert candle_requests(fake_coinbase) == []
    assert not path.exists()


async def test_a_broken_candle_stops_the_download_before_it_is_written(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory, tmp_path: Path
) -> None:
    bad = Candle(T0 + 310 * TF, 0.05, 0.049, 0.048, 0.0495, 1.0)  # high below the open
    add_eth_btc(fake_coinbase, range(400))
    fake_coinbase.candles[("ETH-BTC", TF)][bad.time] = bad
    path = tmp_path / "ETH-BTC_5m.csv"
    with pytest.raises(MarketError, match="high/low do not enclose"):
        await _download(exchange_factory(), path, 0, 400)
    _same(read_candle_csv(path), range(300))
