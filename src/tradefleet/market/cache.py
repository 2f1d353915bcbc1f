"""Caches in front of a market source, and the source's health.

Hundreds of bots may watch the same product and timeframe: the ``CandleCache`` asks the
source at most once per closed candle for each (product, timeframe), however many bots
ask and however concurrently, and then only for the candles it lacks.  When the source
is unreachable the caches keep what they have, ``SourceHealth`` says so, and the source
is left alone for an exponentially growing pause (1 s, 2 s, 4 s ... 60 s).

An exchange may publish a closed candle a few seconds late. When an answer lacks the
candle that should have closed, the series is asked again 1 s, 2 s, 4 s, 8 s ... later,
for up to ``LATE_WINDOW`` seconds after its close, and ``next_late_retry`` tells the
engine when to wake for it: a late candle is processed seconds late, not a whole
timeframe late. A candle never published (no trades in that minute) costs those few
asks (four, at most), then the series waits for the next close as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

from tradefleet.domain import Candle
from tradefleet.market.base import (
    Clock,
    MarketSource,
    MarketUnavailable,
    last_closed_open_time,
    timeframe_seconds,
)
from tradefleet.redact import redact_text

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")

DEFAULT_MAX_CANDLES = 1000
LATE_WINDOW = 30.0  # seconds after a close during which a missing candle is asked again


@dataclass(slots=True)
class SourceHealth:
    """Whether the source answers; after a failure, when it will be tried again."""

    source: str
    since: float  # when the current state (ok or failing) began
    hint: str | None = None  # what a user can do while the source is down (the exchange's)
    ok: bool = True
    last_error: str | None = None
    next_retry: float | None = None
    failures: int = 0
    min_delay: float = 1.0
    max_delay: float = 60.0

    def blocked(self, now: float) -> bool:
        """True while a failed source is being left alone."""
        return self.next_retry is not None and now < self.next_retry

    def record_failure(self, error: Exception, now: float) -> None:
        """Mark the source down; the pause doubles once per retry window, not per caller."""
        if self.blocked(now):
            return
        if self.ok:
            self.ok, self.since = False, now
        self.failures += 1
        delay = min(self.min_delay * 2 ** (self.failures - 1), self.max_delay)
        self.last_error = redact_text(str(error) or type(error).__name__)  # shown by /health
        self.next_retry = now + delay

    def record_success(self, now: float) -> None:
        if not self.ok:
            self.ok, self.since = True, now
        self.failures = 0
        self.next_retry = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "ok": self.ok,
            "message": None if self.ok else (self.hint or f"{self.source} is unavailable"),
            "last_error": self.last_error,
            "since": self.since,
            "next_retry": self.next_retry,
            "failures": self.failures,
        }

    async def call(self, clock: Clock, fn: Callable[[], Awaitable[T]]) -> T:
        """Run a source call unless in a pause; record how it went."""
        if self.blocked(clock.now()):
            error = MarketUnavailable(
                f"{self.source} unavailable ({self.last_error}); next try at {self.next_retry:.0f}"
            )
            error.hint = self.hint
            raise error
        try:
            result = await fn()
        except MarketUnavailable as exc:
            self.record_failure(exc, clock.now())
            exc.hint = self.hint
            raise
        self.record_success(clock.now())
        return result


@dataclass(slots=True)
class _Series:
    """Cached candles of one (product, timeframe), oldest first."""

    candles: list[Candle] = field(default_factory=list)
    depth: int = 0  # the longest history asked for: known complete that far back
    checked: int | None = None  # newest closed open time the source answered with
    missing: int | None = None  # a closed candle the source has not published yet
    retry_at: float | None = None  # when to ask for it again
    misses: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def waiting(self, due: int, now: float) -> bool:
        """True while the missing ``due`` candle is not to be asked for yet."""
        return self.missing == due and self.retry_at is not None and now < self.retry_at


class CandleCache:
    """Closed candles per (product, timeframe), fetched once per closed candle.

    ``get`` raises MarketUnavailable when it cannot bring a series up to date; the cached
    candles stay for the next attempt (``cached`` reads them without fetching).
    """

    def __init__(
        self,
        source: MarketSource,
        clock: Clock,
        *,
        max_candles: int = DEFAULT_MAX_CANDLES,
        health: SourceHealth | None = None,
    ) -> None:
        self.source = source
        self.clock = clock
        self.max_candles = max_candles
        self.health_record = health or SourceHealth(source.name, since=clock.now())
        self.fetch_count = 0
        self._series: dict[tuple[str, str], _Series] = {}

    def health(self) -> dict[str, Any]:
        return self.health_record.as_dict()

    def cached(self, product_id: str, timeframe: str, limit: int) -> list[Candle]:
        """What is held now, without asking the source (possibly stale or empty)."""
        series = self._series.get((product_id, timeframe))
        return list(series.candles[-limit:]) if series is not None and limit > 0 else []

    async def get(self, product_id: str, timeframe: str, limit: int) -> list[Candle]:
        """The newest ``limit`` closed candles (fewer if the source has fewer), oldest first."""
        tf = timeframe_seconds(timeframe)
        if not 1 <= limit <= self.max_candles:
            raise ValueError(f"limit must be between 1 and {self.max_candles}, got {limit}")
        series = self._series.setdefault((product_id, timeframe), _Series())
        async with series.lock:
            now = self.clock.now()
            due = last_closed_open_time(now, tf)
            stale = series.checked is None or series.checked < due or series.depth < limit
            if stale and (series.depth < limit or not series.waiting(due, now)):
                await self._refresh(series, product_id, timeframe, limit, due)
                self._note_missing(series, due, tf, now)
            return series.candles[-limit:]

    def next_late_retry(self) -> float | None:
        """The soonest time to come (clock time) a series will ask for a late candle."""
        now = self.clock.now()
        times = [s.retry_at for s in self._series.values() if s.retry_at and s.retry_at > now]
        return min(times, default=None)

    def _note_missing(self, series: _Series, due: int, tf: int, now: float) -> None:
        if series.candles and series.candles[-1].time >= due:
            series.checked, series.missing, series.retry_at, series.misses = due, None, None, 0
            return
        if series.missing != due:
            series.missing, series.misses = due, 0
        retry_at = now + 2.0**series.misses
        closed_at = due + tf
        if retry_at > closed_at + LATE_WINDOW:  # not coming: the next close, as before
            series.checked, series.retry_at = due, None
            return
        series.retry_at = retry_at
        series.misses += 1

    async def _refresh(
        self, series: _Series, product_id: str, timeframe: str, limit: int, due: int
    ) -> None:
        """Fetch the whole window when history is short or too old, else only what is new."""
        tf = timeframe_seconds(timeframe)
        newest = series.candles[-1].time if series.candles else None
        depth = max(limit, series.depth)
        if newest is None or series.depth < limit or (due - newest) // tf >= self.max_candles:
            fresh = await self._fetch(product_id, timeframe, None, depth)
            series.candles = fresh[-self.max_candles :]
        else:
            fresh = await self._fetch(product_id, timeframe, newest + tf, self.max_candles)
            series.candles.extend(c for c in fresh if c.time > newest)
            del series.candles[: -self.max_candles]
        series.depth = depth  # ``checked`` is _note_missing's: whether the due one came

    async def _fetch(
        self, product_id: str, timeframe: str, since: int | None, limit: int
    ) -> list[Candle]:
        self.fetch_count += 1
        return await self.health_record.call(
            self.clock, lambda: self.source.fetch_candles(product_id, timeframe, since, limit)
        )


class TTLCache(Generic[K, V]):
    """Values loaded on demand and kept ``ttl`` seconds of clock time; one load per key at a
    time.  ``invalidate`` drops entries (e.g. balances after a trade)."""

    def __init__(self, loader: Callable[[K], Awaitable[V]], clock: Clock, ttl: float) -> None:
        self._loader = loader
        self._clock = clock
        self.ttl = ttl
        self.load_count = 0
        self._entries: dict[K, tuple[float, V]] = {}
        self._locks: dict[K, asyncio.Lock] = {}

    def _fresh(self, key: K) -> tuple[float, V] | None:
        entry = self._entries.get(key)
        if entry is not None and self._clock.now() < entry[0] + self.ttl:
            return entry
        return None

    async def get(self, key: K) -> V:
        entry = self._fresh(key)
        if entry is not None:
            return entry[1]
        async with self._locks.setdefault(key, asyncio.Lock()):
            entry = self._fresh(key)
            if entry is not None:
                return entry[1]
            started = self._clock.now()
            self.load_count += 1
            value = await self._loader(key)
            self._entries[key] = (started, value)
            return value

    def invalidate(self, key: K | None = None) -> None:
        """Forget one key, or everything."""
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)


class PriceCache(TTLCache[str, Decimal]):
    """Last prices per product, 10 s by default; failures go through the source's health."""

    def __init__(
        self,
        source: MarketSource,
        clock: Clock,
        ttl: float = 10.0,
        health: SourceHealth | None = None,
    ) -> None:
        record = health or SourceHealth(source.name, since=clock.now())

        async def load(product_id: str) -> Decimal:
            return await record.call(clock, lambda: source.ticker(product_id))

        super().__init__(load, clock, ttl)


class BalanceCache(TTLCache[K, V]):
    """Account balances (or any slow lookup) for 60 s by default; the broker invalidates
    after each trade so a fill is never hidden by a stale balance."""

    def __init__(
        self, loader: Callable[[K], Awaitable[V]], clock: Clock, ttl: float = 60.0
    ) -> None:
        super().__init__(loader, clock, ttl)
