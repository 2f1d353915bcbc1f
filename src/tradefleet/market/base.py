"""The contract every market data source honours, its errors, timeframes and clocks.

Sources (exchange, simulated, replay) differ only in where candles come from; the cache,
the engine and the API see this one interface.  Time always comes from a ``Clock`` so a
simulated or replayed market can run faster than the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from tradefleet.domain import Candle, ProductSpec

TIMEFRAMES: dict[str, int] = {
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "6h": 21600,
    "1d": 86400,
}
"""Coinbase Advanced Trade's candle granularities, in seconds."""


async def _sleep(seconds: float) -> None:
    """``asyncio.sleep``: asyncio loads with the first clock that waits, not with every
    reader of timeframes (``tradefleet backtest`` never needs it)."""
    import asyncio  # noqa: PLC0415

    await asyncio.sleep(seconds)


class MarketError(Exception):
    """A market data request failed for a reason retrying will not fix (bad input, bad data)."""


class UnknownProductError(MarketError):
    """The source does not list this product."""

    def __init__(self, product_id: str) -> None:
        super().__init__(f"unknown product {product_id!r}")
        self.product_id = product_id


class MarketUnavailable(Exception):  # noqa: N818 - the name other packages catch
    """The source cannot be reached right now (network down, 5xx, 429): try again later.

    ``hint`` (set by ``SourceHealth``) is what a user can do about it, when the source
    knows (the exchange's: ``OFFLINE_HINT``)."""

    hint: str | None = None


OFFLINE_HINT = (
    "the exchange's market data is unreachable; to try tradefleet offline set "
    "TRADEFLEET_MARKET=simulated"
)


def timeframe_seconds(timeframe: str) -> int:
    """Seconds in a timeframe; ValueError naming the supported ones for anything else."""
    try:
        return TIMEFRAMES[timeframe]
    except KeyError:
        supported = ", ".join(TIMEFRAMES)
        raise ValueError(f"unsupported timeframe {timeframe!r}; supported: {supported}") from None


def last_closed_open_time(now: float, tf_seconds: int) -> int:
    """Open time of the newest candle that is closed at ``now`` (closed when now >= t + tf)."""
    return int(now // tf_seconds) * tf_seconds - tf_seconds


@runtime_checkable
class MarketSource(Protocol):
    """Public market data.  Candles are closed only, oldest first, ``time`` = open time (UTC s).

    ``fetch_candles(since=None)`` answers the newest ``limit`` closed candles; with ``since``
    it answers up to ``limit`` closed candles whose open time is >= ``since``.
    """

    name: str

    async def products(self) -> list[ProductSpec]: ...

    async def fetch_candles(
        self, product_id: str, timeframe: str, since: int | None, limit: int
    ) -> list[Candle]: ...

    async def ticker(self, product_id: str) -> Decimal: ...

    async def close(self) -> None: ...


class Clock(Protocol):
    """Where "now" comes from, so markets can be simulated or replayed faster than real time."""

    def now(self) -> float:
        """Unix seconds (UTC) in this clock's time."""
        ...

    async def sleep_until(self, t: float) -> None:
        """Return once ``now() >= t``."""
        ...


class WallClock:
    """Real time."""

    def now(self) -> float:
        return time.time()

    async def sleep_until(self, t: float) -> None:
        while (remaining := t - self.now()) > 0:
            await _sleep(remaining)


class ExchangeClock:
    """The exchange's time: this machine's clock corrected by the skew last measured
    against the exchange's own (``measure``: the exchange's "now" in unix seconds).

    Candle closes are the exchange's. On a machine whose clock is a minute behind, the
    candle that "just closed" here closed a minute ago there, and on one a minute ahead
    every request would be for a candle the exchange has not closed yet: the bots would
    see nothing. The skew is measured at start (``measure``) and again before a wait when
    the last measurement is older than ``every`` seconds; a failed measurement keeps the
    last skew and says why in ``health``. The error of one measurement is at most half
    the request's round trip.
    """

    def __init__(self, measure: Callable[[], Awaitable[float]], every: float = 600.0) -> None:
        self._measure = measure
        self._every = every
        self.skew = 0.0  # the exchange's clock minus this machine's, in seconds
        self.measured_at: float | None = None  # this machine's time of the last success
        self._tried_at: float | None = None
        self.last_error: str | None = None

    def now(self) -> float:
        return time.time() + self.skew

    async def measure(self, timeout: float | None = None) -> None:
        """Measure the skew again, waiting at most ``timeout`` seconds (start-up must not
        hang on an exchange that drops packets); never raises: a failure is kept in
        ``last_error``."""
        import asyncio  # noqa: PLC0415

        before = time.time()
        self._tried_at = before
        try:
            exchange_now = await asyncio.wait_for(self._measure(), timeout)
        except TimeoutError:
            self.last_error = f"the exchange did not tell its time within {timeout:g} s"
            return
        except Exception as error:  # the last skew stays; health says what happened
            from tradefleet.redact import said  # noqa: PLC0415

            self.last_error = said(error)
            return
        after = time.time()
        self.skew = exchange_now - (before + after) / 2
        self.measured_at, self.last_error = after, None

    async def sleep_until(self, t: float) -> None:
        if self._tried_at is None or time.time() - self._tried_at >= self._every:
            await self.measure()
        while (remaining := t - self.now()) > 0:
            await _sleep(min(remaining, self._every))
            if time.time() - (self._tried_at or 0.0) >= self._every:
                await self.measure()

    def health(self) -> dict[str, Any]:
        return {
            "clock": "exchange",
            "skew_seconds": round(self.skew, 3),
            "measured_at": self.measured_at,
            "last_error": self.last_error,
        }


class AcceleratedClock:
    """Simulated time starting at ``start`` and running ``speed`` times faster than wall time.

    Measured with the monotonic clock, so a wall-clock jump (NTP) cannot move it backwards.
    """

    def __init__(self, speed: float, start: float) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self.speed = speed
        self.start = start
        self._real_start = time.monotonic()

    def now(self) -> float:
        return self.start + (time.monotonic() - self._real_start) * self.speed

    async def sleep_until(self, t: float) -> None:
        while (remaining := t - self.now()) > 0:
            await _sleep(remaining / self.speed)


class ManualClock:
    """Time that moves only when told: tests, and runs that should go as fast as possible.

    ``sleep_until`` jumps straight to the target (never backwards) and yields once to the
    event loop, so a loop driven by it steps candle by candle without waiting.
    """

    def __init__(self, start: float) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def set(self, t: float) -> None:
        if t < self._now:
            raise ValueError(f"a clock cannot go backwards ({t} < {self._now})")
        self._now = float(t)

    def advance(self, seconds: float) -> None:
        self.set(self._now + seconds)

    async def sleep_until(self, t: float) -> None:
        if t > self._now:
            self._now = float(t)
        await _sleep(0)
