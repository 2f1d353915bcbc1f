"""Candle files for backtests: every problem names the file and the line or row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.backtest.backtest_testkit import HOUR, MINUTE, minute_rows, row, write_csv

from tradefleet.backtest import parquet as parquet_module
from tradefleet.backtest.data import (
    BacktestDataError,
    load_candles,
    load_period,
    parse_time,
    select_period,
)


def _error(path: Path, timeframe: str = "1m", **options: object) -> str:
    with pytest.raises(BacktestDataError) as caught:
        load_period(path, timeframe, **options)  # type: ignore[arg-type]
    return str(caught.value)


def test_a_clean_csv_loads_exactly(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [row(HOUR, 1.5, 2.0, 1.0, 1.25), row(HOUR + 60)])
    candles = load_candles(path)
    assert candles.time.tolist() == [HOUR, HOUR + 60]
    assert candles.open.tolist() == [1.5, 100.0]
    assert candles.close.tolist() == [1.25, 100.0]
    data = load_period(path, "1m")
    assert (data.start, data.skipped, data.gaps, len(data.candles)) == (0, 0, 0, 2)


def test_a_missing_file_and_a_directory_are_named(tmp_path: Path) -> None:
    assert _error(tmp_path / "nope.csv") == f"{tmp_path / 'nope.csv'}: no such file"
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    assert _error(folder) == f"{folder}: is a directory, not a candle file"


def test_binary_garbage_and_unknown_types_are_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "g.csv"
    garbage.write_bytes(b"\xff\xfe\x00\x81 not text")
    assert _error(garbage).startswith(f"{garbage}: not a readable CSV text file")
    other = tmp_path / "c.json"
    other.write_text("{}")
    assert _error(other) == f"{other}: unknown candle file type '.json' (use .csv or .parquet)"


def test_unsorted_duplicate_and_inconsistent_rows_name_their_line(tmp_path: Path) -> None:
    unsorted = write_csv(tmp_path / "u.csv", [row(HOUR + 60), row(HOUR)])
    assert _error(unsorted) == f"{unsorted}:3: timestamp {HOUR} is before {HOUR + 60} (not sorted)"
    twice = write_csv(tmp_path / "d.csv", [row(HOUR), row(HOUR)])
    assert _error(twice) == f"{twice}:3: duplicate timestamp {HOUR}"
    high = write_csv(tmp_path / "h.csv", [row(HOUR), row(HOUR + 60, 100.0, 99.5, 99.0, 99.2)])
    assert _error(high) == f"{high}:3: high 99.5 is below max(open, close)"
    low = write_csv(tmp_path / "l.csv", [row(HOUR, 100.0, 101.0, 100.5, 100.8)])
    assert _error(low) == f"{low}:2: low 100.5 is above min(open, close)"
    text = write_csv(tmp_path / "t.csv", [row(HOUR), f"{HOUR + 60},abc,1,1,1,1"])
    assert _error(text) == f"{text}:3: open 'abc' is not a number"


def test_a_long_bad_field_is_repeated_only_in_part(tmp_path: Path) -> None:
    """A backtest run's error is shown by the API: it repeats 40 characters of a field."""
    long = write_csv(tmp_path / "x.csv", [f"{'9' * 30}{'s' * 70},1,1,1,1,1"])
    expected = "'" + "9" * 30 + "s" * 10 + "…'"
    assert _error(long) == f"{long}:2: timestamp {expected} is not whole unix seconds"
    price = write_csv(tmp_path / "p.csv", [f"{HOUR},{'x' * 41},1,1,1,1"])
    assert _error(price) == f"{price}:2: open '{'x' * 40}…' is not a number"


def test_zero_volume_loads_but_negative_volume_and_zero_prices_are_named(tmp_path: Path) -> None:
    quiet = write_csv(tmp_path / "q.csv", [f"{HOUR},100,100,100,100,0"])
    assert load_candles(quiet).volume.tolist() == [0.0]
    negative = write_csv(tmp_path / "v.csv", [row(HOUR), f"{HOUR + 60},100,101,99,100,-1"])
    assert _error(negative) == f"{negative}:3: volume '-1' must be a non-negative number"
    zero = write_csv(tmp_path / "z.csv", [f"{HOUR},100,101,0,100,1"])
    assert _error(zero) == f"{zero}:2: low '0' must be a positive number"


def test_a_gap_is_an_error_naming_the_first_one(tmp_path: Path) -> None:
    rows = [row(HOUR), row(HOUR + 60), row(HOUR + 240), row(HOUR + 300), row(HOUR + 600)]
    path = write_csv(tmp_path / "gap.csv", rows)
    assert _error(path) == (
        f"{path}:4: 2 missing 1m candle(s) between 2023-11-14 22:01 UTC and "
        "2023-11-14 22:04 UTC (first of 2 gap(s)); pass --allow-gaps to backtest anyway"
    )
    data = load_period(path, "1m", allow_gaps=True)
    assert (data.gaps, len(data.candles)) == (2, 5)


def test_candles_off_the_timeframe_grid_are_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", minute_rows(3))
    assert _error(path, "5m") == (
        f"{path}:3: timestamp {HOUR + 60} is not on the 5m grid (not a multiple of 300 s): "
        "is --timeframe right?"
    )
    late = write_csv(tmp_path / "c.csv", [row(HOUR), row(HOUR + 300), row(HOUR + 360)])
    assert _error(late, "5m", allow_gaps=True).startswith(f"{late}:4: timestamp {HOUR + 360}")
    five = write_csv(tmp_path / "f.csv", [row(HOUR + 300 * i) for i in range(5)])
    assert _error(five, "1m", allow_gaps=True) == (
        f"{five}: no two candles are 60 s (1m) apart, the closest are 300 s: is --timeframe right?"
    )
    shifted = write_csv(tmp_path / "s.csv", [row(HOUR + 30), row(HOUR + 90)])
    assert _error(shifted).startswith(f"{shifted}:2: timestamp {HOUR + 30} is not on the 1m grid")


def test_period_selection_keeps_the_warmup_history(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", minute_rows(10))
    data = load_period(path, "1m", start=HOUR + 5 * MINUTE, end=HOUR + 8 * MINUTE, warmup=3)
    # Traded: minutes 5, 6, 7; minutes 3 and 4 warm the indicators up.
    assert data.candles.time.tolist() == [HOUR + m * MINUTE for m in (3, 4, 5, 6, 7)]
    assert (data.start, data.skipped) == (2, 0)
    early = load_period(path, "1m", start=HOUR + MINUTE, warmup=4)
    # Minute 1 has only one candle of history; trading starts at minute 3.
    assert early.candles.time[early.start] == HOUR + 3 * MINUTE
    assert (early.start, early.skipped, len(early.candles)) == (3, 2, 10)
    whole = load_period(path, "1m", warmup=4)
    assert (whole.start, whole.skipped) == (3, 0)


def test_a_gap_outside_the_period_does_not_matter(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "g.csv", [row(HOUR), *minute_rows(4, HOUR + 600)])
    data = load_period(path, "1m", start=HOUR + 600)
    assert (data.gaps, data.candles.time[0]) == (0, HOUR + 600)


def test_empty_or_too_short_periods_are_errors(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", minute_rows(5))
    assert "no candles in the requested period" in _error(path, start=HOUR + 3600)
    assert "the strategy needs 9 for its indicators, the period has 5" in _error(path, warmup=9)
    with pytest.raises(ValueError, match="must be before --to"):
        select_period(load_candles(path), HOUR + 120, HOUR + 60, 1)


def test_parse_time_reads_unix_seconds_and_iso_dates_as_utc() -> None:
    assert parse_time("1700000000") == 1_700_000_000
    assert parse_time("2024-01-31") == 1_706_659_200
    assert parse_time("2024-01-31T12:30") == 1_706_704_200
    assert parse_time("2024-01-31T12:30Z") == 1_706_704_200
    assert parse_time("2024-01-31T14:30+02:00") == 1_706_704_200
    with pytest.raises(ValueError, match="neither unix seconds nor an ISO date"):
        parse_time("yesterday")


def _parquet(path: Path, times: list[int], **columns: list[float]) -> Path:
    count = len(times)
    data = {
        "timestamp": pa.array(times, pa.int64()),
        "open": columns.get("open", [100.0] * count),
        "high": columns.get("high", [101.0] * count),
        "low": columns.get("low", [99.0] * count),
        "close": columns.get("close", [100.0] * count),
        "volume": columns.get("volume", [1.0] * count),
    }
    pq.write_table(pa.table(data), path)
    return path


def test_parquet_loads_like_csv(tmp_path: Path) -> None:
    path = _parquet(tmp_path / "c.parquet", [HOUR, HOUR + 60], close=[100.0, 100.5])
    candles = load_period(path, "1m").candles
    assert candles.time.tolist() == [HOUR, HOUR + 60]
    assert candles.close.tolist() == [100.0, 100.5]
    stamped = tmp_path / "t.parquet"
    table = pa.table(
        {
            "timestamp": pa.array(np.array([HOUR * 1000], dtype="datetime64[ms]")),
            **{name: [100.0] for name in ("open", "high", "low", "close", "volume")},
        }
    )
    pq.write_table(table, stamped)
    assert load_candles(stamped).time.tolist() == [HOUR]


def test_parquet_problems_name_the_row(tmp_path: Path) -> None:
    twice = _parquet(tmp_path / "d.parquet", [HOUR, HOUR + 60, HOUR + 60])
    assert _error(twice) == f"{twice} row 3: duplicate timestamp"
    unsorted = _parquet(tmp_path / "u.parquet", [HOUR + 60, HOUR])
    assert (
        _error(unsorted) == f"{unsorted} row 2: timestamp is before the previous row's (not sorted)"
    )
    high = _parquet(tmp_path / "h.parquet", [HOUR, HOUR + 60], high=[101.0, 99.0])
    assert _error(high) == f"{high} row 2: high is below max(open, close)"
    zero = _parquet(tmp_path / "z.parquet", [HOUR], low=[0.0])
    assert _error(zero) == f"{zero} row 1: low must be a positive number"
    negative = _parquet(tmp_path / "v.parquet", [HOUR, HOUR + 60], volume=[0.0, -1.0])
    assert _error(negative) == f"{negative} row 2: volume must be a non-negative number"
    gap = _parquet(tmp_path / "g.parquet", [HOUR, HOUR + 180])
    assert _error(gap).startswith(f"{gap} row 2: 2 missing 1m candle(s)")
    pq.write_table(pa.table({"timestamp": [HOUR], "open": [1.0]}), tmp_path / "x.parquet")
    assert _error(tmp_path / "x.parquet") == (
        f"{tmp_path / 'x.parquet'}: Parquet columns high, low, close, volume are missing"
    )
    broken = tmp_path / "b.parquet"
    broken.write_bytes(b"PAR1 not really")
    assert _error(broken).startswith(f"{broken}: not a readable Parquet file")


def test_a_wrong_header_is_named(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("time,open,high,low,close,volume\n1,1,1,1,1,1\n")
    assert _error(path) == f"{path}:1: header must be timestamp,open,high,low,close,volume"


def test_parquet_without_pyarrow_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _parquet(tmp_path / "c.parquet", [HOUR])

    def missing(name: str) -> object:
        raise ImportError(name)

    monkeypatch.setattr(parquet_module.importlib, "import_module", missing)
    assert _error(path) == f"{path}: reading Parquet needs pyarrow: pip install 'tradefleet[data]'"
