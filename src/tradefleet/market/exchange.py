"""Public market data from a real exchange through ccxt's async client (no API keys).

Every call goes through ``retrying`` (exponential backoff) and comes out either as data or
as ``MarketUnavailable`` (network, 5xx, 429) / ``MarketError`` (anything retrying cannot
fix), so callers never see a ccxt exception.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import aiohttp
import ccxt.async_support as ccxt_async
from ccxt.base import errors as ccxt_errors

from tradefleet.domain import Candle, ProductSpec
from tradefleet.market.base import (
    OFFLINE_HINT,
    Clock,
    MarketError,
    MarketUnavailable,
    UnknownProductError,
    WallClock,
    timeframe_seconds,
)
from tradefleet.market.products import DEFAULT_INCREMENT
from tradefleet.money import ZERO, canonical, to_decimal
from tradefleet.redact import redact_text

log = logging.getLogger(__name__)
T = TypeVar("T")

OHLCV_PAGE_LIMIT: dict[str, int] = {"coinbase": 300}
"""Candles per request, per exchange (Coinbase refuses more than ~350)."""
_DEFAULT_PAGE_LIMIT = 300
EXCHANGE_TIME: dict[str, tuple[str, str]] = {
    "coinbase": ("v3PublicGetBrokerageTime", "epochMillis")
}
"""Where an exchange tells its time to the millisecond: (ccxt method, answer field);
ccxt's ``fetch_time`` (Coinbase's: whole seconds) for the others."""
_DECIMAL_PLACES, _TICK_SIZE = 2, 4  # ccxt precision modes


async def retrying(fn: Callable[[], Awaitable[T]], attempts: int = 3, base_delay: float = 0.5) -> T:
    """``await fn()``, retried on MarketUnavailable after base_delay, 2x, 4x ... seconds.

    Only for idempotent reads: the last MarketUnavailable is re-raised, any other error at
    once.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    for attempt in range(attempts - 1):
        try:
            return await fn()
        except MarketUnavailable as exc:
            delay = base_delay * 2**attempt
            log.info("market data unavailable (%s); retry in %.2fs", exc, delay)
            await asyncio.sleep(delay)
    return await fn()


def _is_transient(exc: Exception) -> bool:
    """Network trouble, rate limits and server errors: worth retrying later."""
    if isinstance(exc, ccxt_errors.NetworkError):
        return True
    # A connection cut mid-response surfaces as a plain ExchangeError from aiohttp.
    return isinstance(exc, ccxt_errors.ExchangeError) and isinstance(
        exc.__cause__, aiohttp.ClientError | asyncio.TimeoutError
    )


async def _mapped(fn: Callable[[], Awaitable[T]]) -> T:
    """Translate ccxt's exceptions into this package's two. ccxt's message repeats the URL
    it called, credentials of ``TRADEFLEET_EXCHANGE_API_URL`` included: they are hidden."""
    try:
        return await fn()
    except ccxt_errors.BaseError as exc:
        message = redact_text(f"{type(exc).__name__}: {exc}")
        if _is_transient(exc):
            raise MarketUnavailable(message) from exc
        raise MarketError(message) from exc


def _install_status_hook(client: Any) -> None:
    """Classify 5xx and 429 by status before ccxt's Coinbase class reads the body.

    Coinbase's ``handle_errors`` turns a JSON error body into a plain ExchangeError whatever
    the status, so a 503 would look permanent.  Wrapping it on the instance keeps ccxt's
    own handling for every other status.
    """
    original = client.handle_errors

    def handle_errors(code: int | None, reason: str, url: str, *args: Any) -> Any:
        if code == 429:
            raise ccxt_errors.RateLimitExceeded(f"{client.id} {url} 429 {reason}")
        if code is not None and code >= 500:
            raise ccxt_errors.ExchangeNotAvailable(f"{client.id} {url} {code} {reason}")
        return original(code, reason, url, *args)

    client.handle_errors = handle_errors


def make_client(exchange_id: str, api_url: str | None, *, rate_limit: bool = True) -> Any:
    """A public (keyless) async ccxt client, optionally pointed at another base URL.

    ``rate_limit`` keeps ccxt's own throttle (Coinbase allows ~10 public requests/s per IP);
    only a test against a local fake turns it off.
    """
    factory = getattr(ccxt_async, exchange_id, None)
    if factory is None or exchange_id not in ccxt_async.exchanges:
        raise ValueError(f"unknown ccxt exchange {exchange_id!r}")
    client = factory({"enableRateLimit": rate_limit, "timeout": 15000})
    if api_url is not None:
        api = client.urls.get("api")
        if not isinstance(api, dict) or "rest" not in api:
            raise ValueError(f"{exchange_id}: api_url override needs a single REST base URL")
        api["rest"] = api_url.rstrip("/")
    _install_status_hook(client)
    return client


def decimal_field(value: Any) -> Decimal | None:
    """Exact Decimal from an exchange field (string or float), None when absent or blank."""
    if value is None or value == "":
        return None
    return canonical(to_decimal(value))


def _first(*values: Any) -> Decimal:
    for value in values:
        parsed = decimal_field(value)
        if parsed is not None:
            return parsed
    raise ValueError("no value")


def market_to_spec(market: dict[str, Any], precision_mode: int = _TICK_SIZE) -> ProductSpec:
    """A ccxt market as a ProductSpec; Coinbase's exact string fields win over ccxt's floats."""
    info = market.get("info") or {}
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}

    def tick(value: Any) -> Any:
        if value is None or precision_mode == _TICK_SIZE:
            return value
        if precision_mode == _DECIMAL_PLACES:
            return Decimal(1).scaleb(-int(value))
        return None  # significant digits give no fixed increment

    amount_tick, price_tick = tick(precision.get("amount")), tick(precision.get("price"))
    base_increment = _first(info.get("base_increment"), amount_tick, DEFAULT_INCREMENT)
    quote_increment = _first(info.get("quote_increment"), price_tick, DEFAULT_INCREMENT)
    return ProductSpec(
        product_id=f"{market['base']}-{market['quote']}",
        base_currency=market["base"],
        quote_currency=market["quote"],
        base_increment=base_increment,
        quote_increment=quote_increment,
        price_increment=_first(info.get("price_increment"), quote_increment),
        base_min_size=_first(
            info.get("base_min_size"), (limits.get("amount") or {}).get("min"), base_increment
        ),
        quote_min_size=_first(
            info.get("quote_min_size"), (limits.get("cost") or {}).get("min"), ZERO
        ),
    )


class ExchangeSource:
    """Closed candles, products and last prices from ``exchange_id`` (Coinbase by default)."""

    unreachable_hint = OFFLINE_HINT  # what /api/health and a 503 suggest while it is down

    def __init__(
        self,
        exchange_id: str = "coinbase",
        api_url: str | None = None,
        *,
        clock: Clock | None = None,
        attempts: int = 3,
        base_delay: float = 0.5,
        rate_limit: bool = True,
    ) -> None:
        self.name = exchange_id
        self.clock: Clock = clock if clock is not None else WallClock()
        self._client = make_client(exchange_id, api_url, rate_limit=rate_limit)
        self._attempts = attempts
        self._base_delay = base_delay
        self._page_limit = OHLCV_PAGE_LIMIT.get(exchange_id, _DEFAULT_PAGE_LIMIT)
        self._markets: dict[str, dict[str, Any]] | None = None
        self._specs: dict[str, ProductSpec] = {}
        self._load_lock = asyncio.Lock()

    def bind_clock(self, clock: Clock) -> None:
        self.clock = clock

    async def _call(self, fn: Callable[[], Awaitable[T]]) -> T:
        return await retrying(lambda: _mapped(fn), self._attempts, self._base_delay)

    async def _load(self, *, fresh: bool = False) -> dict[str, dict[str, Any]]:
        """The markets, downloaded once (concurrent first callers share the download), or
        again when ``fresh``; a failed download leaves the last list in place."""
        async with self._load_lock:
            if self._markets is None or fresh:
                raw = await self._call(lambda: self._client.load_markets(reload=fresh))
                markets: dict[str, dict[str, Any]] = {}
                specs: dict[str, ProductSpec] = {}
                for market in raw.values():
                    if market.get("spot") and market.get("active") is not False:
                        spec = market_to_spec(market, self._client.precisionMode)
                        markets[spec.product_id] = market
                        specs[spec.product_id] = spec
                self._markets, self._specs = markets, specs
            return self._markets

    async def _symbol(self, product_id: str) -> str:
        market = (await self._load()).get(product_id)
        if market is None:
            raise UnknownProductError(product_id)
        return str(market["symbol"])

    async def products(self) -> list[ProductSpec]:
        """The exchange's list as it is now: each call after the first downloads it again
        (``MarketService`` asks hourly), so new listings, delistings and changed
        increments are seen without a restart."""
        await self._load(fresh=self._markets is not None)
        return list(self._specs.values())

    async def fetch_candles(
        self, product_id: str, timeframe: str, since: int | None, limit: int
    ) -> list[Candle]:
        tf = timeframe_seconds(timeframe)
        symbol = await self._symbol(product_id)
        now = self.clock.now()
        current_open = int(now // tf) * tf  # the candle still forming
        start = current_open - limit * tf if since is None else -(-since // tf) * tf
        end = min(start + limit * tf, current_open)  # open times in [start, end)
        candles: dict[int, Candle] = {}
        while start < end:
            count = min(self._page_limit, (end - start) // tf)
            page = await self._page(symbol, timeframe, start, count)
            for candle in page:
                if start <= candle.time < end and candle.time + tf <= now:
                    candles[candle.time] = candle
            start += count * tf
        return [candles[t] for t in sorted(candles)]

    async def _page(self, symbol: str, timeframe: str, start: int, count: int) -> list[Candle]:
        rows = await self._call(
            lambda: self._client.fetch_ohlcv(symbol, timeframe, since=start * 1000, limit=count)
        )
        page = []
        for row in rows:
            if len(row) < 6 or any(value is None for value in row[:6]):
                raise MarketError(f"malformed candle for {symbol}: {row!r}")
            time_ms, open_, high, low, close, volume = row[:6]
            page.append(
                Candle(
                    int(time_ms) // 1000,
                    float(open_),
                    float(high),
                    float(low),
                    float(close),
                    float(volume),
                )
            )
        return page

    async def ticker(self, product_id: str) -> Decimal:
        """The last trade price (Coinbase's exact string when present)."""
        symbol = await self._symbol(product_id)
        ticker = await self._call(lambda: self._client.fetch_ticker(symbol))
        info = ticker.get("info") or {}
        price = decimal_field(info.get("price") if isinstance(info, dict) else None)
        if price is None:
            price = decimal_field(ticker.get("last") or ticker.get("close"))
        if price is None or price <= 0:
            raise MarketError(f"no last price for {product_id}")
        return price

    async def exchange_time(self) -> float:
        """The exchange's own "now" in unix seconds (Coinbase's ``/time`` in milliseconds;
        another exchange's ``fetch_time``)."""
        method, field_name = EXCHANGE_TIME.get(self.name, (None, None))
        if method is None or field_name is None:
            return float(await self._call(self._client.fetch_time)) / 1000
        answer = await self._call(getattr(self._client, method))
        return int(answer[field_name]) / 1000

    async def probe(self) -> None:
        """A cheap request that says whether the exchange answers (its time)."""
        await self.exchange_time()

    async def close(self) -> None:
        await self._client.close()
