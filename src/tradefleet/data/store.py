"""Files of the local candle store: their names, the candles already in them, and writers
that grow them without ever leaving a broken file behind.

The store is a folder of ``PRODUCT_TIMEFRAME.csv`` (or ``.parquet``) files in the shared
format (``timestamp,open,high,low,close,volume``, open time in unix seconds, UTC). A CSV
grows by appending one page of candles with a single ``write`` call, so a download killed
at any moment leaves whole rows only; a Parquet file cannot be appended to, so it is
rewritten (to a temporary file, then renamed over the old one) at checkpoints and at the
end. Candles before a file's first row are merged in the same way.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Protocol

import numpy as np

from tradefleet.backtest.data import BacktestDataError, check_spacing, load_candles
from tradefleet.domain import Candle, CandleArrays
from tradefleet.market.base import timeframe_seconds
from tradefleet.market.csvfile import HEADER
from tradefleet.market.products import split_product_id

CANDLE_SUFFIXES = (".csv", ".parquet")
PARQUET_CHECKPOINT = 50_000  # candles held in memory before a Parquet file is rewritten
_HEADER_LINE = ",".join(HEADER) + "\n"


class CandleStoreError(ValueError):
    """An existing candle file that cannot be trusted or extended; the message says why."""


def store_file_name(product_id: str, timeframe: str, suffix: str = ".csv") -> str:
    """``ETH-BTC_5m.csv``; ValueError unless the product id and timeframe are well-formed,
    so the name is a plain file name and never a path out of the store."""
    split_product_id(product_id)
    timeframe_seconds(timeframe)
    return f"{product_id}_{timeframe}{suffix}"


def store_path(directory: Path, product_id: str, timeframe: str, suffix: str = ".csv") -> Path:
    """The file's place in the store; ValueError for a name that would leave ``directory``
    (the name's own rules forbid that; this check keeps it so whatever changes them)."""
    path = directory / store_file_name(product_id, timeframe, suffix)
    if os.path.dirname(os.path.normpath(path)) != os.path.normpath(directory):
        raise ValueError(f"{product_id!r}: not a file name inside the candle store")
    return path


def find_candle_file(directory: Path, product_id: str, timeframe: str) -> Path | None:
    """The store's file for a product and timeframe (CSV before Parquet), None if absent."""
    for suffix in CANDLE_SUFFIXES:
        path = store_path(directory, product_id, timeframe, suffix)
        if path.is_file():
            return path
    return None


def candle_row(candle: Candle) -> str:
    """One CSV line; ``repr`` keeps every digit the exchange sent (as ``write_candle_csv``)."""
    c = candle
    return f"{c.time},{c.open!r},{c.high!r},{c.low!r},{c.close!r},{c.volume!r}\n"


def _header_only(path: Path) -> bool:
    if path.suffix.lower() != ".csv" or path.stat().st_size > 4 * len(_HEADER_LINE):
        return False
    return path.read_text(encoding="utf-8-sig").strip() == _HEADER_LINE.strip()


def read_existing(path: Path, timeframe: str) -> CandleArrays | None:
    """The candles already in ``path`` (None: no file, an empty one or a bare header),
    validated as a backtest would read them and checked to be on ``timeframe``'s grid."""
    if not path.exists() or path.stat().st_size == 0 or _header_only(path):
        return None
    try:
        candles = load_candles(path)
        check_spacing(path, candles, timeframe, allow_gaps=True)
    except BacktestDataError as error:
        raise CandleStoreError(str(error)) from None
    return candles


class CandleSink(Protocol):
    """Where downloaded candles go; every call leaves a complete, valid file."""

    path: Path

    def append(self, candles: Sequence[Candle]) -> None:
        """Add candles later than everything in the file (oldest first)."""
        ...

    def prepend(self, candles: Sequence[Candle]) -> None:
        """Add candles earlier than everything in the file (oldest first)."""
        ...

    def close(self) -> None: ...


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class CsvSink:
    """Appends pages to a CSV file; the header is written with the first candle."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _needs(self) -> tuple[bool, bool]:
        """(write the header first, write a newline first: the file lacks a final one)."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return True, False
        with self.path.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return False, handle.read(1) != b"\n"

    def append(self, candles: Sequence[Candle]) -> None:
        if not candles:
            return
        header, newline = self._needs()
        text = ("\n" if newline else "") + (_HEADER_LINE if header else "")
        data = (text + "".join(candle_row(c) for c in candles)).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            _write_all(fd, data)  # one write: a killed run leaves whole rows
        finally:
            os.close(fd)

    def prepend(self, candles: Sequence[Candle]) -> None:
        if not candles:
            return
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("w", encoding="utf-8", newline="") as out:
            out.write(_HEADER_LINE)
            out.writelines(candle_row(c) for c in candles)
            if self.path.exists():
                with self.path.open(encoding="utf-8-sig", newline="") as old:
                    next(old, None)  # its header
                    for line in old:
                        out.write(line if line.endswith("\n") else line + "\n")
        os.replace(temporary, self.path)

    def close(self) -> None:
        """Nothing is buffered: every page is on disk already."""


def pyarrow_modules() -> tuple[ModuleType, ModuleType]:
    """(pyarrow, pyarrow.parquet); ImportError with the install hint when missing."""
    try:
        return importlib.import_module("pyarrow"), importlib.import_module("pyarrow.parquet")
    except ImportError:
        raise ImportError("Parquet files need pyarrow: pip install 'tradefleet[data]'") from None


def _columns(candles: Sequence[Candle]) -> CandleArrays:
    return CandleArrays.from_candles(list(candles))


def _concat(parts: Sequence[CandleArrays]) -> CandleArrays:
    return CandleArrays(
        *(
            np.concatenate([getattr(part, name) for part in parts])
            for name in ("time", "open", "high", "low", "close", "volume")
        )
    )


class ParquetSink:
    """Keeps the file's candles in memory and rewrites the file at checkpoints and close."""

    def __init__(
        self, path: Path, existing: CandleArrays | None, checkpoint: int = PARQUET_CHECKPOINT
    ) -> None:
        self.path = path
        self._pa, self._pq = pyarrow_modules()
        self._saved = existing
        self._pending: list[Candle] = []
        self._checkpoint = checkpoint

    def append(self, candles: Sequence[Candle]) -> None:
        self._pending.extend(candles)
        if len(self._pending) >= self._checkpoint:
            self._flush()

    def prepend(self, candles: Sequence[Candle]) -> None:
        if candles:
            parts = [_columns(candles), *([self._saved] if self._saved is not None else [])]
            self._saved = _concat(parts)
            self._flush()

    def close(self) -> None:
        if self._pending:
            self._flush()

    def _flush(self) -> None:
        parts = [part for part in (self._saved,) if part is not None]
        if self._pending:
            parts.append(_columns(self._pending))
        if not parts:
            return
        candles = _concat(parts)
        table = self._pa.table(
            {name: getattr(candles, "time" if name == "timestamp" else name) for name in HEADER}
        )
        temporary = self.path.with_name(self.path.name + ".tmp")
        self._pq.write_table(table, temporary)
        os.replace(temporary, self.path)
        self._saved, self._pending = candles, []


def open_sink(path: Path, existing: CandleArrays | None) -> CandleSink:
    """The writer for ``path``'s type (``.csv`` or ``.parquet``)."""
    if path.suffix.lower() == ".parquet":
        return ParquetSink(path, existing)
    return CsvSink(path)
