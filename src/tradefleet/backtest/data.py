"""Candle files for backtests: CSV (the shared format) and Parquet, strictly validated.

A backtest over silently broken data gives a confidently wrong answer, so every problem
is an error naming the file and the line (CSV) or row (Parquet): unreadable, unsorted,
duplicate, non-numeric or non-positive values, a high/low that does not enclose the
body, a timestamp off the timeframe's grid (which also catches a wrong timeframe), and
gaps (a missing candle). Gaps are accepted with ``allow_gaps``: an order then
waits for the next candle present, exactly as a live bot on a market that skipped
candles would.

Periods are half-open, ``[start, end)`` on candle open times, UTC: ``--from 2024-01-01
--to 2024-02-01`` is all of January. Every traded candle has the strategy's warm-up
history before it, as a live bot's indicators would: candles before ``--from`` serve
as that history, and where the file starts too late, trading starts later.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from tradefleet.backtest.parquet import read_candle_parquet
from tradefleet.domain import CandleArrays
from tradefleet.market.base import timeframe_seconds
from tradefleet.market.csvfile import CandleFileError, read_candle_csv


class BacktestDataError(ValueError):
    """Candle data a backtest cannot trust; the message names the file and line or row."""


@dataclass(frozen=True, slots=True)
class CandleData:
    """Candles to backtest: ``candles[start:]`` are traded, ``candles[:start]`` only warm up
    the strategy's indicators (the history a live bot would also have had)."""

    candles: CandleArrays
    start: int
    skipped: int  # candles after --from not traded: the file lacks their warm-up history
    gaps: int  # missing-candle stretches inside the selected candles


def load_candles(path: Path) -> CandleArrays:
    """Every candle of a ``.csv`` or ``.parquet`` file, validated row by row."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return read_candle_parquet(path)
        if suffix == ".csv":
            return read_candle_csv(path)
    except CandleFileError as error:
        raise BacktestDataError(str(error)) from None
    except FileNotFoundError:
        raise BacktestDataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BacktestDataError(f"{path}: is a directory, not a candle file") from None
    except OSError as error:
        raise BacktestDataError(f"{path}: cannot read ({error.strerror or error})") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise BacktestDataError(f"{path}: not a readable CSV text file ({error})") from None
    raise BacktestDataError(f"{path}: unknown candle file type {suffix!r} (use .csv or .parquet)")


def parse_time(text: str) -> int:
    """Unix seconds from whole unix seconds or an ISO date/date-time (UTC unless it says)."""
    raw = text.strip()
    if raw.isdigit():
        return int(raw)
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is neither unix seconds nor an ISO date (2024-01-31 or 2024-01-31T12:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def select_period(
    candles: CandleArrays, start: int | None, end: int | None, warmup: int
) -> tuple[CandleArrays, int, int]:
    """Candles with ``start <= time < end`` that have ``warmup - 1`` candles of history,
    plus that history: (candles, index of the first traded candle, candles after
    ``start`` not traded because the file has too little history before them)."""
    if start is not None and end is not None and start >= end:
        raise ValueError(f"--from ({start}) must be before --to ({end})")
    first = 0 if start is None else int(np.searchsorted(candles.time, start, side="left"))
    stop = len(candles) if end is None else int(np.searchsorted(candles.time, end, side="left"))
    span = f"the data covers {_iso(int(candles.time[0]))} .. {_iso(int(candles.time[-1]))}"
    if first >= stop:
        raise ValueError(f"no candles in the requested period ({span})")
    history = max(warmup - 1, 0)
    tradable = max(first, history)
    if tradable >= stop:
        raise ValueError(
            f"too few candles: the strategy needs {warmup} for its indicators, "
            f"the period has {stop - first} with {first} before it ({span})"
        )
    lead = tradable - history
    skipped = 0 if start is None else tradable - first
    return slice_candles(candles, lead, stop), history, skipped


def slice_candles(candles: CandleArrays, begin: int, end: int) -> CandleArrays:
    """``candles[begin:end]`` as views (no copy)."""
    return CandleArrays(
        time=candles.time[begin:end],
        open=candles.open[begin:end],
        high=candles.high[begin:end],
        low=candles.low[begin:end],
        close=candles.close[begin:end],
        volume=candles.volume[begin:end],
    )


def check_spacing(path: Path, candles: CandleArrays, timeframe: str, *, allow_gaps: bool) -> int:
    """Raise on candles off the timeframe's grid or (unless ``allow_gaps``) missing;
    returns how many gaps there are."""
    tf = timeframe_seconds(timeframe)
    times = candles.time
    off_grid = np.flatnonzero(times % tf)
    if off_grid.size:
        at = int(times[off_grid[0]])
        raise BacktestDataError(
            f"{_where(path, at)}: timestamp {at} is not on the {timeframe} grid "
            f"(not a multiple of {tf} s): is --timeframe right?"
        )
    steps = np.diff(times)  # sorted, unique and on the grid: every step is >= tf
    if steps.size > 1 and int(steps.min()) > tf:  # not one pair of neighbours: wrong timeframe
        raise BacktestDataError(
            f"{path}: no two candles are {tf} s ({timeframe}) apart, the closest are "
            f"{int(steps.min())} s: is --timeframe right?"
        )
    gaps = np.flatnonzero(steps > tf)
    if gaps.size and not allow_gaps:
        index = int(gaps[0])
        before, after = int(times[index]), int(times[index + 1])
        missing = (after - before) // tf - 1
        raise BacktestDataError(
            f"{_where(path, after)}: {missing} missing {timeframe} candle(s) between "
            f"{_iso(before)} and {_iso(after)} (first of {gaps.size} gap(s)); "
            "pass --allow-gaps to backtest anyway"
        )
    return int(gaps.size)


def load_period(
    path: Path,
    timeframe: str,
    *,
    start: int | None = None,
    end: int | None = None,
    warmup: int = 1,
    allow_gaps: bool = False,
) -> CandleData:
    """Load, select ``[start, end)`` with its warm-up history, and check the spacing there.

    Every traded candle has the ``warmup`` candles of history a live bot's indicators
    use; where the file starts too late for that, trading starts later (``skipped``).
    """
    timeframe_seconds(timeframe)  # an unsupported timeframe fails before reading the file
    everything = load_candles(path)
    try:
        candles, first, skipped = select_period(everything, start, end, warmup)
    except ValueError as error:
        raise BacktestDataError(f"{path}: {error}") from None
    gaps = check_spacing(path, candles, timeframe, allow_gaps=allow_gaps)
    return CandleData(candles=candles, start=first, skipped=skipped, gaps=gaps)


def _iso(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _where(path: Path, timestamp: int) -> str:
    """``file:line`` of the CSV row holding ``timestamp``, ``file row N`` for Parquet."""
    if path.suffix.lower() == ".parquet":
        times = read_candle_parquet(path).time
        return f"{path} row {int(np.searchsorted(times, timestamp)) + 1}"
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        for row in reader:
            if row and row[0].strip() == str(timestamp):
                return f"{path}:{reader.line_num}"
    return str(path)
