"""Candle Parquet files: the CSV format's columns, checked with the same rules.

``timestamp`` holds unix seconds (integers) or a Parquet timestamp type; prices and
volume are numbers. pyarrow is an optional dependency (``pip install 'tradefleet[data]'``).
Errors name the file and the 1-based data row.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np

from tradefleet.domain import BoolArray, CandleArrays, FloatArray, IntArray
from tradefleet.market.csvfile import HEADER, CandleFileError

_MILLISECONDS = 10**11  # as in the CSV reader: larger "seconds" are milliseconds


def _pyarrow(path: Path, module: str = "pyarrow") -> Any:
    """pyarrow (or one of its modules), imported on first use: it is an optional extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise CandleFileError(
            f"{path}: reading Parquet needs pyarrow: pip install 'tradefleet[data]'"
        ) from None


def read_candle_parquet(path: Path) -> CandleArrays:
    """All candles of a Parquet file, validated like ``read_candle_csv``."""
    parquet = _pyarrow(path, "pyarrow.parquet")
    try:
        table = parquet.read_table(path)
    except OSError:
        raise
    except Exception as error:  # pyarrow raises its own ArrowInvalid for a damaged file
        raise CandleFileError(f"{path}: not a readable Parquet file ({error})") from None
    missing = [name for name in HEADER if name not in table.column_names]
    if missing:
        raise CandleFileError(f"{path}: Parquet columns {', '.join(missing)} are missing")
    if table.num_rows == 0:
        raise CandleFileError(f"{path}: no candles")
    times = _times(path, table.column("timestamp"))
    values = [_floats(path, name, table.column(name)) for name in HEADER[1:]]
    candles = CandleArrays(times, *values)
    _check_rows(path, candles)
    return candles


def _first(path: Path, mask: BoolArray, message: str) -> None:
    """Raise naming the first row where ``mask`` is true."""
    bad = np.flatnonzero(mask)
    if bad.size:
        raise CandleFileError(f"{path} row {int(bad[0]) + 1}: {message}")


def _times(path: Path, column: Any) -> IntArray:
    pa = _pyarrow(path)
    _first(path, np.asarray(column.is_null()), "timestamp is empty")
    kind = column.type
    if pa.types.is_timestamp(kind):
        column = column.cast(pa.timestamp("s", tz=kind.tz)).cast(pa.int64())
    elif not pa.types.is_integer(kind):
        raise CandleFileError(f"{path}: timestamp column has type {kind}, not whole unix seconds")
    times: IntArray = np.asarray(column.to_numpy(), dtype=np.int64)
    _first(path, times >= _MILLISECONDS, "timestamp looks like milliseconds")
    return times


def _floats(path: Path, name: str, column: Any) -> FloatArray:
    pa = _pyarrow(path)
    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        raise CandleFileError(f"{path}: {name} column has type {column.type}, not numbers")
    _first(path, np.asarray(column.is_null()), f"{name} is empty")
    values: FloatArray = np.asarray(column.to_numpy(), dtype=np.float64)
    finite = np.isfinite(values)
    volume = name == "volume"  # zero volume (no trades) is fine, a zero price is not
    allowed = values >= 0 if volume else values > 0
    kind = "non-negative" if volume else "positive"
    _first(path, ~(finite & allowed), f"{name} must be a {kind} number")
    return values


def _check_rows(path: Path, c: CandleArrays) -> None:
    steps = np.diff(c.time)
    duplicate = np.concatenate(([False], steps == 0))
    _first(path, duplicate, "duplicate timestamp")
    unsorted = np.concatenate(([False], steps < 0))
    _first(path, unsorted, "timestamp is before the previous row's (not sorted)")
    _first(path, c.high < np.maximum(c.open, c.close), "high is below max(open, close)")
    _first(path, c.low > np.minimum(c.open, c.close), "low is above min(open, close)")
