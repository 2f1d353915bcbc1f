"""Replay recorded candles (``PRODUCT_TIMEFRAME.csv`` files) as if they were live.

A candle is released once the clock passes its close, so bots see history unfold in
order; with an AcceleratedClock starting at ``start_time()`` a day of 5-minute candles
replays in minutes.  A timeframe with no file of its own is aggregated from the finest
file of the product whose timeframe divides it (15m from 5m, 1h from 1m, ...).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import numpy as np

from tradefleet.domain import Candle, CandleArrays, ProductSpec
from tradefleet.market.base import (
    TIMEFRAMES,
    Clock,
    MarketError,
    MarketUnavailable,
    UnknownProductError,
    WallClock,
    timeframe_seconds,
)
from tradefleet.market.csvfile import parse_file_name, read_candle_csv
from tradefleet.market.products import default_spec

log = logging.getLogger(__name__)


def aggregate(candles: CandleArrays, tf: int) -> CandleArrays:
    """Candles merged into ``tf``-second buckets aligned to the epoch (UTC)."""
    buckets = candles.time // tf * tf
    times, starts = np.unique(buckets, return_index=True)
    ends = np.append(starts[1:], len(buckets)) - 1
    return CandleArrays(
        time=times.astype(np.int64),
        open=candles.open[starts],
        high=np.maximum.reduceat(candles.high, starts),
        low=np.minimum.reduceat(candles.low, starts),
        close=candles.close[ends],
        volume=np.add.reduceat(candles.volume, starts),
    )


def load_directory(directory: Path) -> dict[tuple[str, str], CandleArrays]:
    """Every ``PRODUCT_TIMEFRAME.csv`` in ``directory``, validated; other files are skipped."""
    if not directory.is_dir():
        raise MarketError(f"replay directory {directory} does not exist")
    series: dict[tuple[str, str], CandleArrays] = {}
    for path in sorted(directory.glob("*.csv")):
        key = parse_file_name(path)
        if key is None:
            log.warning("replay: skipping %s (not named PRODUCT_TIMEFRAME.csv)", path)
            continue
        series[key] = read_candle_csv(path)
    if not series:
        raise MarketError(f"replay directory {directory} has no PRODUCT_TIMEFRAME.csv files")
    return series


class ReplaySource:
    """Recorded candles released by the clock; products are the files present."""

    name = "replay"

    def __init__(self, directory: Path, clock: Clock | None = None) -> None:
        self.directory = directory
        self._series = load_directory(directory)
        self._aggregates: dict[tuple[str, str], CandleArrays] = {}
        self._specs = {product: default_spec(product) for product, _ in self._series}
        self._first_time = min(int(arrays.time[0]) for arrays in self._series.values())
        self.clock: Clock = clock if clock is not None else WallClock()

    def bind_clock(self, clock: Clock) -> None:
        self.clock = clock

    def start_time(self) -> int:
        """Open time of the earliest candle of any file: where a replay clock should start."""
        return self._first_time

    def _arrays(self, product_id: str, timeframe: str) -> CandleArrays:
        """The file for (product, timeframe), else an aggregate of a finer file (memoised)."""
        tf = timeframe_seconds(timeframe)
        if product_id not in self._specs:
            raise UnknownProductError(product_id)
        found = self._series.get((product_id, timeframe)) or self._aggregates.get(
            (product_id, timeframe)
        )
        if found is not None:
            return found
        finer = [t for p, t in self._series if p == product_id and tf % TIMEFRAMES[t] == 0]
        if not finer:
            have = ", ".join(sorted(t for p, t in self._series if p == product_id))
            raise MarketError(f"no replay data for {product_id} {timeframe}; files have: {have}")
        source = min(finer, key=TIMEFRAMES.__getitem__)
        arrays = aggregate(self._series[(product_id, source)], tf)
        self._aggregates[(product_id, timeframe)] = arrays
        return arrays

    async def products(self) -> list[ProductSpec]:
        return list(self._specs.values())

    async def fetch_candles(
        self, product_id: str, timeframe: str, since: int | None, limit: int
    ) -> list[Candle]:
        arrays = self._arrays(product_id, timeframe)
        tf = TIMEFRAMES[timeframe]
        closed = int(np.searchsorted(arrays.time, self.clock.now() - tf, side="right"))
        if since is None:
            first = max(closed - limit, 0)
        else:
            first = int(np.searchsorted(arrays.time, since, side="left"))
        last = min(closed, first + max(limit, 0))
        return [arrays.candle(i) for i in range(first, last)]

    async def ticker(self, product_id: str) -> Decimal:
        """The latest price known at ``now``: the open of the candle in progress, or the close
        of the last candle once it has closed (what the paper fill model also uses)."""
        if product_id not in self._specs:
            raise UnknownProductError(product_id)
        timeframe = min((t for p, t in self._series if p == product_id), key=TIMEFRAMES.__getitem__)
        arrays = self._series[(product_id, timeframe)]
        now = self.clock.now()
        index = int(np.searchsorted(arrays.time, now, side="right")) - 1
        if index < 0:
            raise MarketUnavailable(f"replay of {product_id} starts at {int(arrays.time[0])}")
        closed = arrays.time[index] + TIMEFRAMES[timeframe] <= now
        price = arrays.close[index] if closed else arrays.open[index]
        return Decimal(repr(float(price)))

    async def close(self) -> None:
        """Files are read at start; nothing to release."""
