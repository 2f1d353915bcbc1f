"""Page through an exchange's candle endpoint into a candle file, resuming where it stopped.

The period is half-open on candle open times, ``[start, end)``, like a backtest's. A file
that already exists keeps its candles: only what lies before its first candle (the
*head*) and after its last one (the *tail*) is fetched, so a rerun after an interruption
continues after the last candle written. Pages hold at most ``PAGE_CANDLES`` candles (one
request each; Coinbase refuses more than ~350). Coinbase answers newest first and leaves
out intervals without trades: the source sorts each page, and a missing interval stays
missing (a gap; a backtest needs ``--allow-gaps`` for it) rather than being invented.
At the live edge Coinbase serves the newest closed candles only after a delay: those at
the end of a request that reaches the last closed candle are not gaps but candles not
closed yet at the exchange; they are left out and counted apart, and the next run asks
for them again (it continues after the file's last candle).

Every page is checked before it is written (on the timeframe's grid, inside the page,
prices positive, high/low enclosing the body), so the file always reads back cleanly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tradefleet.data.store import CandleSink
from tradefleet.domain import Candle, CandleArrays
from tradefleet.market.base import MarketError, MarketSource, UnknownProductError, timeframe_seconds

PAGE_CANDLES = 300

Progress = Callable[[int, int], None]
"""Called as ``progress(intervals_done, intervals_total)`` after every page."""


@dataclass(frozen=True, slots=True)
class Span:
    """Open times ``start <= t < end`` on the timeframe's grid."""

    start: int
    end: int

    def intervals(self, tf: int) -> int:
        return max(0, (self.end - self.start) // tf)


@dataclass(frozen=True, slots=True)
class DownloadRequest:
    product_id: str
    timeframe: str
    start: int  # first open time wanted (aligned up to the grid)
    end: int  # exclusive: no candle opening at or after it
    live: bool = False  # end is the last closed candle's end: the exchange may lag behind it


@dataclass(frozen=True, slots=True)
class DownloadResult:
    path: Path
    existing: int  # candles the file held before
    added: int  # candles this run wrote
    missing: int  # intervals of the fetched spans the exchange had no candle for (gaps)
    unclosed: int  # newest intervals of a live request the exchange served nothing for yet
    first: int | None  # open time of the file's first and last candle afterwards
    last: int | None


def align(start: int, end: int, tf: int) -> tuple[int, int]:
    """``start`` rounded up and ``end`` rounded up to the grid: the same candle open times."""
    return -(-start // tf) * tf, -(-end // tf) * tf


def missing_spans(
    request: DownloadRequest, existing: CandleArrays | None
) -> tuple[Span | None, Span | None]:
    """(head, tail): the parts of the request before the file's first candle and after its
    last; None where there is nothing to fetch."""
    tf = timeframe_seconds(request.timeframe)
    if existing is None or len(existing) == 0:
        return None, Span(request.start, request.end)
    first, last = int(existing.time[0]), int(existing.time[-1])
    head = Span(request.start, min(request.end, first))
    tail = Span(max(request.start, last + tf), request.end)
    return (head if head.intervals(tf) else None), (tail if tail.intervals(tf) else None)


def check_page(candles: Sequence[Candle], span: Span, tf: int) -> None:
    """Raise MarketError on a candle that would make the file unreadable or wrong."""
    previous: int | None = None
    for c in candles:
        where = f"candle at {c.time}"
        if c.time % tf or not span.start <= c.time < span.end:
            raise MarketError(f"{where}: outside the requested interval or off the {tf} s grid")
        if previous is not None and c.time <= previous:
            raise MarketError(f"{where}: the page is not sorted or repeats a candle")
        previous = c.time
        prices = (c.open, c.high, c.low, c.close)
        if not all(math.isfinite(p) and p > 0 for p in prices) or not 0 <= c.volume < math.inf:
            raise MarketError(f"{where}: prices must be positive and volume not negative")
        if c.high < max(c.open, c.close) or c.low > min(c.open, c.close):
            raise MarketError(f"{where}: high/low do not enclose open and close")


class Downloader:
    """Fetches the missing spans of one request from ``source`` into ``sink``."""

    def __init__(
        self,
        source: MarketSource,
        request: DownloadRequest,
        sink: CandleSink,
        progress: Progress | None = None,
    ) -> None:
        self.source = source
        self.request = request
        self.sink = sink
        self.progress = progress
        self.tf = timeframe_seconds(request.timeframe)
        self.added = 0
        self.missing = 0
        self.unclosed = 0
        self._done = 0
        self._total = 0
        self._written: list[int] = []  # open times of the first and last candle of each page

    async def check_product(self) -> None:
        """UnknownProductError unless the exchange lists the product."""
        listed = {spec.product_id for spec in await self.source.products()}
        if self.request.product_id not in listed:
            raise UnknownProductError(self.request.product_id)

    async def run(self, existing: CandleArrays | None) -> DownloadResult:
        """Fetch the head (written once complete) and the tail (written page by page)."""
        await self.check_product()
        head, tail = missing_spans(self.request, existing)
        spans = [span for span in (head, tail) if span is not None]
        self._total = sum(span.intervals(self.tf) for span in spans)
        self._report()
        if head is not None:
            collected: list[Candle] = []
            await self._fetch(head, collected.extend)
            self.sink.prepend(collected)
            self.added += len(collected)
        if tail is not None:
            newest = await self._fetch(tail, self._append)
            if self.request.live:
                # Nothing after them in the file: not gaps, and the next run asks again.
                since = tail.start if newest is None else newest + self.tf
                self.unclosed = Span(since, tail.end).intervals(self.tf)
                self.missing -= self.unclosed
        return self._result(existing)

    def _append(self, page: Sequence[Candle]) -> None:
        self.sink.append(page)
        self.added += len(page)

    async def _fetch(self, span: Span, keep: Callable[[list[Candle]], None]) -> int | None:
        """Fetch ``span`` page by page; the open time of the newest candle received."""
        newest: int | None = None
        cursor = span.start
        while cursor < span.end:
            count = min(PAGE_CANDLES, (span.end - cursor) // self.tf)
            page_span = Span(cursor, cursor + count * self.tf)
            page = await self.source.fetch_candles(
                self.request.product_id, self.request.timeframe, cursor, count
            )
            check_page(page, page_span, self.tf)
            keep(page)
            self._written.extend(c.time for c in page[:1] + page[-1:])
            newest = page[-1].time if page else newest
            self.missing += count - len(page)
            self._done += count
            self._report()
            cursor = page_span.end
        return newest

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self._done, self._total)

    def _result(self, existing: CandleArrays | None) -> DownloadResult:
        times = list(self._written)
        if existing is not None and len(existing):
            times += [int(existing.time[0]), int(existing.time[-1])]
        return DownloadResult(
            path=self.sink.path,
            existing=0 if existing is None else len(existing),
            added=self.added,
            missing=self.missing,
            unclosed=self.unclosed,
            first=min(times, default=None),
            last=max(times, default=None),
        )
