"""``tradefleet download-data`` end to end on a fake Coinbase: the file, the store location,
resuming, exit code 2 on bad input and exit code 1 when the network stays down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from download_testkit import NOW, T0, TF, add_eth_btc, candle, candle_requests
from tests.fakes.coinbase_server import FakeCoinbase
from typer.testing import CliRunner, Result

from tradefleet.backtest.parquet import read_candle_parquet
from tradefleet.cli import app
from tradefleet.config import get_settings
from tradefleet.data import command
from tradefleet.data.store import candle_row
from tradefleet.market.csvfile import read_candle_csv

HEADER = "timestamp,open,high,low,close,volume\n"


@pytest.fixture
def store(
    threaded_fake: FakeCoinbase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """The candle store folder; the CLI talks to the fake with quick retries."""
    folder = tmp_path / "candles"
    monkeypatch.setenv("TRADEFLEET_CANDLE_DIR", str(folder))
    monkeypatch.setenv("TRADEFLEET_EXCHANGE_API_URL", threaded_fake.url)
    monkeypatch.setattr(command, "RETRY_DELAY", 0.001)
    monkeypatch.setattr(command, "ATTEMPTS", 2)
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["download-data", "--product", "ETH-BTC", *args])


def _one_line(result: Result) -> str:
    return " ".join(result.output.split())


def test_downloads_into_the_store_and_a_rerun_has_nothing_to_do(
    threaded_fake: FakeCoinbase, store: Path
) -> None:
    add_eth_btc(threaded_fake, [i for i in range(14) if i != 5])
    done = _invoke("--timeframe", "5m", "--from", "2024-01-01", "--to", "2024-01-01T01:00")
    assert done.exit_code == 0, done.output
    path = store / "ETH-BTC_5m.csv"
    assert path.read_text() == HEADER + "".join(candle_row(candle(i)) for i in range(12) if i != 5)
    text = _one_line(done)
    assert f"ETH-BTC 5m: 11 new candle(s) in {path} (0 were there)" in text
    assert "it covers 2024-01-01 00:00 UTC .. 2024-01-01 00:55 UTC" in text
    assert "note: 1 interval(s) have no candle" in text
    assert candle_requests(threaded_fake) == [(T0, T0 + 12 * TF)]
    again = _invoke("--timeframe", "5m", "--from", str(T0), "--to", str(T0 + 12 * TF))
    assert again.exit_code == 0, again.output
    assert "already holds the period; nothing to download" in _one_line(again)
    assert len(candle_requests(threaded_fake)) == 1


def test_output_and_data_dir_choose_the_file(
    threaded_fake: FakeCoinbase, store: Path, tmp_path: Path
) -> None:
    add_eth_btc(threaded_fake, range(4))
    period = ("--timeframe", "5m", "--from", str(T0), "--to", str(T0 + 3 * TF))
    own = tmp_path / "mine.csv"
    assert _invoke(*period, "--output", str(own)).exit_code == 0
    assert read_candle_csv(own).time.tolist() == [T0, T0 + TF, T0 + 2 * TF]
    elsewhere = tmp_path / "other" / "store"
    assert _invoke(*period, "--data-dir", str(elsewhere)).exit_code == 0
    assert (elsewhere / "ETH-BTC_5m.csv").read_text() == own.read_text()
    parquet = tmp_path / "mine.parquet"
    assert _invoke(*period, "--output", str(parquet)).exit_code == 0
    from_parquet, from_csv = read_candle_parquet(parquet), read_candle_csv(own)
    for name in ("time", "open", "high", "low", "close", "volume"):
        assert getattr(from_parquet, name).tolist() == getattr(from_csv, name).tolist()
    assert not store.exists()


def test_a_network_outage_exits_1_and_keeps_what_was_fetched(
    threaded_fake: FakeCoinbase, store: Path
) -> None:
    add_eth_btc(threaded_fake, range(20))
    period = ("--timeframe", "5m", "--from", str(T0), "--to", str(T0 + 20 * TF))
    store.mkdir()
    path = store / "ETH-BTC_5m.csv"
    path.write_text(HEADER + "".join(candle_row(candle(i)) for i in range(8)))
    threaded_fake.fail(503, times=2, path="/candles")
    failed = _invoke(*period)
    assert failed.exit_code == 1
    text = _one_line(failed)
    assert "coinbase unreachable after 2 attempts" in text
    assert f"{path} keeps the 8 candle(s) fetched so far: run the same command again" in text
    assert read_candle_csv(path).time.tolist() == [T0 + i * TF for i in range(8)]
    resumed = _invoke(*period)
    assert resumed.exit_code == 0, resumed.output
    assert read_candle_csv(path).time.tolist() == [T0 + i * TF for i in range(20)]
    assert candle_requests(threaded_fake)[-1] == (T0 + 8 * TF, T0 + 20 * TF)


def test_an_outage_before_any_candle_says_no_file_was_written(
    threaded_fake: FakeCoinbase, store: Path, tmp_path: Path
) -> None:
    add_eth_btc(threaded_fake, range(20))
    period = ("--timeframe", "5m", "--from", str(T0), "--to", str(T0 + 20 * TF))
    for output in (store / "ETH-BTC_5m.csv", tmp_path / "ETH-BTC_5m.parquet"):
        threaded_fake.fail(503, times=2, path="/candles")
        failed = _invoke(*period, "--output", str(output))
        assert failed.exit_code == 1
        [line] = failed.stderr.splitlines()
        assert line.startswith("error: coinbase unreachable after 2 attempts (")
        assert line.endswith(
            "); no candle was fetched and no file was written: run the same command again"
        )
        assert not output.exists()


def test_an_empty_period_says_no_file_was_written(threaded_fake: FakeCoinbase, store: Path) -> None:
    add_eth_btc(threaded_fake, [30])
    done = _invoke("--timeframe", "5m", "--from", str(T0), "--to", str(T0 + 20 * TF))
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines() == [
        "ETH-BTC 5m: the exchange served no candle for the period; no file was written"
    ]
    assert done.stderr.splitlines() == [
        "note: 20 interval(s) have no candle: the exchange leaves out intervals without trades "
        "(backtest such data with --allow-gaps)"
    ]
    assert not (store / "ETH-BTC_5m.csv").exists()


def test_newest_candles_the_exchange_has_not_closed_yet_are_not_gaps(
    threaded_fake: FakeCoinbase, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The command's clock says NOW: the candle opening at `forming` is still forming, so the
    # period ends there. The exchange serves 10 of the 12 candles before it: index 4 is an
    # interval without trades (a gap), the newest two it has not closed yet.
    monkeypatch.setattr(command, "time", SimpleNamespace(time=lambda: NOW))
    forming = NOW // TF * TF
    first = (forming - 12 * TF - T0) // TF
    served = [first + i for i in range(10) if i != 4] + [first + 12]  # + the forming one
    add_eth_btc(threaded_fake, served)
    done = _invoke("--timeframe", "5m", "--from", str(T0 + first * TF))
    assert done.exit_code == 0, done.output
    path = store / "ETH-BTC_5m.csv"
    assert done.stdout.splitlines() == [
        f"ETH-BTC 5m: 9 new candle(s) in {path} (0 were there); it covers "
        "2025-06-15 14:05 UTC .. 2025-06-15 14:50 UTC"
    ]
    assert done.stderr.splitlines() == [
        "note: 1 interval(s) have no candle: the exchange leaves out intervals without trades "
        "(backtest such data with --allow-gaps)",
        "note: 2 candle(s) not closed yet at the exchange were left out: it serves the newest "
        "candles with a delay; run again later to fetch them",
    ]
    assert candle_requests(threaded_fake) == [(forming - 12 * TF, forming)]
    # Once the exchange has them, the next run fetches exactly those two.
    add_eth_btc(threaded_fake, [*served, first + 10, first + 11])
    again = _invoke("--timeframe", "5m", "--from", str(T0 + first * TF))
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == [
        f"ETH-BTC 5m: 2 new candle(s) in {path} (9 were there); it covers "
        "2025-06-15 14:05 UTC .. 2025-06-15 15:00 UTC"
    ]
    assert again.stderr == ""
    assert candle_requests(threaded_fake)[-1] == (forming - 2 * TF, forming)
    expected = [first + i for i in range(12) if i != 4]
    assert read_candle_csv(path).time.tolist() == [T0 + i * TF for i in expected]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timeframe", "3m", "--from", "2024-01-01"], "--timeframe: unsupported timeframe '3m'"),
        (["--timeframe", "5m", "--from", "2024-02-01", "--to", "2024-01-01"],
         "--from (2024-02-01) must be before --to (2024-01-01)"),
        (["--timeframe", "5m", "--from", "2024-01-01", "--to", "2024-01-01"],
         "must be before --to"),
        (["--timeframe", "5m", "--from", "yesterday"],
         "--from: 'yesterday' is neither unix seconds nor an ISO date"),
        (["--timeframe", "5m", "--from", "2024-01-01", "--to", "31/01/2024"],
         "--to: '31/01/2024' is neither"),
        (["--timeframe", "5m", "--from", "2999-01-01"], "must be before --to (now)"),
        (["--timeframe", "5m", "--from", "2024-01-01", "--output", "x.json"],
         "use a .csv or .parquet file name"),
        (["--timeframe", "5m", "--from", "2024-01-01", "--output", "a.csv", "--data-dir", "d"],
         "give --output or --data-dir, not both"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_before_touching_the_network(
    threaded_fake: FakeCoinbase, store: Path, args: list[str], message: str
) -> None:
    result = _invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in _one_line(result)
    assert threaded_fake.requests == []
    assert not store.exists()


def test_bad_product_exits_2(threaded_fake: FakeCoinbase, store: Path) -> None:
    add_eth_btc(threaded_fake, range(3))
    period = ["--timeframe", "5m", "--from", str(T0), "--to", str(T0 + 3 * TF)]
    malformed = CliRunner().invoke(app, ["download-data", "--product", "eth/btc", *period])
    assert malformed.exit_code == 2
    assert "--product: product id must look like 'ETH-BTC'" in _one_line(malformed)
    unknown = CliRunner().invoke(app, ["download-data", "--product", "DOGE-BTC", *period])
    assert unknown.exit_code == 2
    assert "--product: coinbase lists no product 'DOGE-BTC'" in _one_line(unknown)
    assert candle_requests(threaded_fake) == []
    assert not (store / "DOGE-BTC_5m.csv").exists()


def test_an_invalid_existing_file_exits_2_and_is_left_as_it_was(
    threaded_fake: FakeCoinbase, store: Path
) -> None:
    store.mkdir()
    path = store / "ETH-BTC_5m.csv"
    unsorted = HEADER + candle_row(candle(1)) + candle_row(candle(0))
    path.write_text(unsorted)
    period = ("--timeframe", "5m", "--from", str(T0), "--to", str(T0 + 3 * TF))
    result = _invoke(*period)
    assert result.exit_code == 2
    text = _one_line(result)
    assert f"{path}:3: timestamp {T0} is before {T0 + TF} (not sorted)" in text
    assert "(fix or delete the file, or choose another --output)" in text
    valid = HEADER + "".join(candle_row(candle(i)) for i in range(3))
    path.write_text(valid)
    one_minute = _invoke(
        "--timeframe", "1m", "--from", str(T0), "--to", str(T0 + 600), "--output", str(path)
    )
    assert one_minute.exit_code == 2
    assert "no two candles are 60 s (1m) apart" in _one_line(one_minute)
    assert threaded_fake.requests == []
    assert path.read_text() == valid
