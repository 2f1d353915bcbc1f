"""Candle CSV files (``timestamp,open,high,low,close,volume``): strict reading and writing.

A bad file fails loudly with its name and line, because a silently skipped or reordered
candle would make a replay or a backtest quietly wrong.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from tradefleet.domain import Candle, CandleArrays
from tradefleet.market.base import TIMEFRAMES, MarketError

HEADER = ("timestamp", "open", "high", "low", "close", "volume")
_NAME = re.compile(r"^(?P<product>[A-Z0-9]+-[A-Z0-9]+)_(?P<timeframe>\w+)\.csv$")
_MILLISECONDS = 10**11  # unix seconds stay below this until the year 5138
_BOM = "\ufeff".encode()
_HEADER_BYTES = ",".join(HEADER).encode("ascii")
_PLAIN_BYTES = b"0123456789+-.eE,\n"
_HEADER_LETTERS = _HEADER_BYTES.translate(None, _PLAIN_BYTES)
_ROW = np.dtype([("timestamp", np.int64)] + [(name, np.float64) for name in HEADER[1:]])


class CandleFileError(MarketError, ValueError):
    """A candle file that cannot be trusted; the message names the file and line."""


def parse_file_name(path: Path) -> tuple[str, str] | None:
    """(product, timeframe) from ``ETH-BTC_5m.csv``; None for any other name."""
    match = _NAME.match(path.name)
    if match is None or match["timeframe"] not in TIMEFRAMES:
        return None
    return match["product"], match["timeframe"]


def _shown(text: str, limit: int = 40) -> str:
    """A field as a message repeats it: quoted, and cut short (an API run shows it)."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _row_values(path: Path, line: int, row: list[str]) -> tuple[int, list[float]]:
    where = f"{path}:{line}"
    if len(row) != len(HEADER):
        raise CandleFileError(f"{where}: expected {len(HEADER)} fields, found {len(row)}")
    try:
        timestamp = int(row[0])
    except ValueError:
        raise CandleFileError(
            f"{where}: timestamp {_shown(row[0])} is not whole unix seconds"
        ) from None
    if timestamp >= _MILLISECONDS:
        raise CandleFileError(f"{where}: timestamp {timestamp} looks like milliseconds")
    values = []
    for name, text in zip(HEADER[1:], row[1:], strict=True):
        try:
            value = float(text)
        except ValueError:
            raise CandleFileError(f"{where}: {name} {_shown(text)} is not a number") from None
        if not math.isfinite(value) or value < 0 or (value == 0 and name != "volume"):
            # volume may be zero (an interval without trades), prices may not
            kind = "non-negative" if name == "volume" else "positive"
            raise CandleFileError(f"{where}: {name} {_shown(text)} must be a {kind} number")
        values.append(value)
    return timestamp, values


def _check_candle(where: str, previous: int | None, timestamp: int, values: list[float]) -> None:
    open_, high, low, close, _ = values
    if previous is not None and timestamp == previous:
        raise CandleFileError(f"{where}: duplicate timestamp {timestamp}")
    if previous is not None and timestamp < previous:
        raise CandleFileError(f"{where}: timestamp {timestamp} is before {previous} (not sorted)")
    if high < max(open_, close):
        raise CandleFileError(f"{where}: high {high} is below max(open, close)")
    if low > min(open_, close):
        raise CandleFileError(f"{where}: low {low} is above min(open, close)")


def read_candle_csv(path: Path) -> CandleArrays:
    """All candles of a file, validated: sorted, unique, numeric, high/low enclosing the body.

    A plain, valid file is parsed and checked in bulk; anything else (a bad row, quoting,
    spaces, a BOM-less oddity) goes through the row-by-row reader, which finds the first
    offending line for the message. Both accept exactly the same files.
    """
    fast = _read_fast(path)
    return fast if fast is not None else _read_slow(path)


def _read_fast(path: Path) -> CandleArrays | None:
    """The candles of a plain valid file parsed by numpy; None if not plainly valid."""
    text = path.read_bytes().removeprefix(_BOM)
    if b"\r" in text:  # csv.writer ends lines with "\r\n"
        text = text.replace(b"\r\n", b"\n")
    # Digits, signs, points, exponents, commas and newlines only after the header: no
    # spaces, quotes, "nan" or stray "\r", whose csv/float() readings numpy might not share.
    # More commas than the header's: there is a row to parse.
    if (
        not text.startswith(_HEADER_BYTES + b"\n")
        or text.translate(None, _PLAIN_BYTES) != _HEADER_LETTERS
        or text.count(b",") <= _HEADER_BYTES.count(b",")
    ):
        return None
    try:
        rows = np.loadtxt(
            io.BytesIO(text), dtype=_ROW, delimiter=",", comments=None, skiprows=1, ndmin=1
        )
    except (ValueError, OverflowError):
        return None
    candles = CandleArrays(*(np.ascontiguousarray(rows[name]) for name in HEADER))
    return candles if _plainly_valid(candles) else None


def _plainly_valid(c: CandleArrays) -> bool:
    """Every check of ``_row_values`` and ``_check_candle``, on whole columns at once."""
    prices = (c.open, c.high, c.low, c.close)
    return (
        all(bool(np.isfinite(column).all() and (column > 0).all()) for column in prices)
        and bool(np.isfinite(c.volume).all() and (c.volume >= 0).all())
        and bool((c.time < _MILLISECONDS).all() and (np.diff(c.time) > 0).all())
        and bool((c.high >= np.maximum(c.open, c.close)).all())
        and bool((c.low <= np.minimum(c.open, c.close)).all())
    )


def _read_slow(path: Path) -> CandleArrays:
    """Row by row with the csv module: the reference reading, and the precise messages."""
    columns: list[list[float]] = [[] for _ in HEADER]
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(field.strip() for field in header) != HEADER:
            raise CandleFileError(f"{path}:1: header must be {','.join(HEADER)}")
        previous: int | None = None
        for row in reader:
            if not row:
                continue
            line = reader.line_num
            timestamp, values = _row_values(path, line, row)
            _check_candle(f"{path}:{line}", previous, timestamp, values)
            previous = timestamp
            columns[0].append(timestamp)
            for column, value in zip(columns[1:], values, strict=True):
                column.append(value)
    if previous is None:
        raise CandleFileError(f"{path}: no candles after the header")
    floats = [np.array(column, dtype=np.float64) for column in columns[1:]]
    return CandleArrays(np.array(columns[0], dtype=np.int64), *floats)


def write_candle_csv(path: Path, candles: Iterable[Candle]) -> int:
    """Write candles (oldest first) in the shared format; returns how many were written."""
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for c in candles:
            writer.writerow(
                [c.time, repr(c.open), repr(c.high), repr(c.low), repr(c.close), repr(c.volume)]
            )
            count += 1
    return count
