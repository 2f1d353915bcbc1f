"""A fake Coinbase Advanced Trade REST server for tests, driven by the real ccxt client.

It answers the documented public shapes (string fields, candles newest first) from
in-memory data a test sets, plus the v2 currency endpoints ccxt's ``load_markets`` also
calls, and can fail on demand: an HTTP error (e.g. 503, or 429 with an HTML body), a
connection reset before any response, or a response cut off mid-body.

Other tests may add routes to ``fake.app`` before ``start()`` (private endpoints).

    async with running_fake_coinbase() as fake:
        fake.add_product("ETH-BTC", base_increment="0.00000001", quote_increment="0.00001")
        client_url = fake.url  # for ExchangeSource(api_url=...) or ccxt urls["api"]["rest"]
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tradefleet.domain import Candle

V3 = "/api/v3/brokerage"
GRANULARITIES = {
    "ONE_MINUTE": 60,
    "FIVE_MINUTE": 300,
    "FIFTEEN_MINUTE": 900,
    "THIRTY_MINUTE": 1800,
    "ONE_HOUR": 3600,
    "TWO_HOUR": 7200,
    "SIX_HOUR": 21600,
    "ONE_DAY": 86400,
}
MAX_CANDLES_PER_REQUEST = 350
UNAVAILABLE_BODY = json.dumps({"error": "UNAVAILABLE", "message": "service unavailable"})
RATE_LIMIT_HTML = "<html><body><h1>429 Too Many Requests</h1></body></html>"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class Failure:
    """One injected failure: ``kind`` is "status", "reset", "cut" or "hang", before the
    request is handled, or "after-status", "after-reset", "after-cut" or "after-hang":
    handled (an order is made), then its answer lost; "none" lets one request through
    untouched. A hang holds the answer for ``seconds``, past the client's timeout."""

    kind: str
    status: int = 503
    body: str = UNAVAILABLE_BODY
    content_type: str = "application/json"
    path: str | None = None  # only requests whose path contains this
    headers: dict[str, str] | None = None  # sent with a "status" failure
    method: str | None = None  # only requests of this method
    seconds: float = 0.0  # how long a "hang" holds the answer


@dataclass(slots=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    at: float = field(default_factory=time.monotonic)  # when it arrived


def _error(status: int, code: str, message: str) -> web.Response:
    body = {"error": code, "error_details": message, "message": message}
    return web.json_response(body, status=status)


def product_fields(product_id: str, **fields: Any) -> dict[str, Any]:
    """A full product object as Coinbase lists it; ``fields`` override the defaults."""
    base, quote = product_id.split("-")
    product: dict[str, Any] = {
        "product_id": product_id,
        "price": "1",
        "price_percentage_change_24h": "0",
        "volume_24h": "0",
        "volume_percentage_change_24h": "0",
        "base_increment": "0.00000001",
        "quote_increment": "0.01",
        "quote_min_size": "1",
        "quote_max_size": "10000000",
        "base_min_size": "0.00000001",
        "base_max_size": "1000000",
        "base_name": base,
        "quote_name": quote,
        "watched": False,
        "is_disabled": False,
        "new": False,
        "status": "online",
        "cancel_only": False,
        "limit_only": False,
        "post_only": False,
        "trading_disabled": False,
        "auction_mode": False,
        "product_type": "SPOT",
        "quote_currency_id": quote,
        "base_currency_id": base,
        "fcm_trading_session_details": None,
        "mid_market_price": "",
        "alias": "",
        "alias_to": [],
        "base_display_symbol": base,
        "quote_display_symbol": quote,
        "view_only": False,
        "price_increment": fields.get("quote_increment", "0.01"),
        "display_name": product_id,
        "product_venue": "CBE",
    }
    product.update(fields)
    return product


@dataclass
class FakeCoinbase:
    """In-memory exchange state plus the aiohttp app serving it."""

    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    candles: dict[tuple[str, int], dict[int, Candle]] = field(default_factory=dict)
    prices: dict[str, str] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    time_source: Callable[[], float] = time.time  # the fake's clock (unix seconds)
    app: web.Application = field(init=False)
    url: str = field(init=False, default="")
    _runner: web.AppRunner | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.app = web.Application(middlewares=[self._middleware])
        self.app.router.add_get(f"{V3}/market/products", self._list_products)
        self.app.router.add_get(f"{V3}/market/products/{{product_id}}", self._get_product)
        self.app.router.add_get(f"{V3}/market/products/{{product_id}}/candles", self._candles)
        self.app.router.add_get(f"{V3}/market/products/{{product_id}}/ticker", self._ticker)
        self.app.router.add_get(f"{V3}/time", self._time)
        self.app.router.add_get("/v2/currencies", self._fiat_currencies)
        self.app.router.add_get("/v2/currencies/crypto", self._crypto_currencies)
        self.app.router.add_get("/v2/exchange-rates", self._exchange_rates)

    # -- test controls ------------------------------------------------------------

    def add_product(self, product_id: str, **fields: Any) -> dict[str, Any]:
        product = product_fields(product_id, **fields)
        self.products[product_id] = product
        self.prices.setdefault(product_id, str(product["price"]))
        return product

    def set_candles(self, product_id: str, granularity: int, candles: Iterable[Candle]) -> None:
        """Replace the candles of one product and granularity (seconds)."""
        self.candles[(product_id, granularity)] = {c.time: c for c in candles}

    def fail(
        self,
        status: int = 503,
        *,
        times: int = 1,
        body: str = UNAVAILABLE_BODY,
        content_type: str = "application/json",
        path: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` and ``body``."""
        self.failures.extend(
            Failure("status", status, body, content_type, path, headers) for _ in range(times)
        )

    def reset_connection(self, *, times: int = 1, path: str | None = None) -> None:
        """Close the socket before answering the next ``times`` matching requests."""
        self.failures.extend(Failure("reset", path=path) for _ in range(times))

    def cut_response(self, *, times: int = 1, path: str | None = None) -> None:
        """Send headers and half a body, then close the socket."""
        self.failures.extend(Failure("cut", path=path) for _ in range(times))

    def lose_answer(
        self, kind: str = "cut", *, times: int = 1, path: str | None = None, status: int = 504
    ) -> None:
        """Handle the next ``times`` matching requests (the exchange acts), then lose the
        answer: ``kind`` "cut" (half a body), "reset" (no answer) or "status" (``status``
        with an HTML body, as a gateway in front of the exchange would send)."""
        body = f"<html><body><h1>{status} Gateway Time-out</h1></body></html>"
        self.failures.extend(
            Failure(f"after-{kind}", status, body, "text/html", path) for _ in range(times)
        )

    def hang(
        self,
        seconds: float,
        *,
        times: int = 1,
        path: str | None = None,
        acted: bool = True,
        method: str | None = None,
    ) -> None:
        """Hold the answer to the next ``times`` matching requests for ``seconds`` (a
        server that stopped answering), after acting on them unless ``acted`` is false;
        the answer then comes, when the client has long given up."""
        kind = "after-hang" if acted else "hang"
        self.failures.extend(
            Failure(kind, path=path, seconds=seconds, method=method) for _ in range(times)
        )

    def heal(self) -> None:
        self.failures.clear()

    def count(self, path_part: str) -> int:
        """How many requests had ``path_part`` in their path."""
        return sum(1 for r in self.requests if path_part in r.path)

    # -- lifecycle ----------------------------------------------------------------

    async def start(self) -> str:
        self._runner = web.AppRunner(self.app, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- middleware and handlers --------------------------------------------------

    def _next_failure(self, path: str, method: str) -> Failure | None:
        for index, failure in enumerate(self.failures):
            if (failure.path is None or failure.path in path) and (
                failure.method is None or failure.method == method
            ):
                return self.failures.pop(index)
        return None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append(RecordedRequest(request.method, request.path, dict(request.query)))
        failure = self._next_failure(request.path, request.method)
        if failure is None:
            return await handler(request)
        if failure.kind == "none":  # this request meets no fault (a place in a sequence)
            return await handler(request)
        if failure.kind == "hang":  # acted on only once the client has given up
            await request.read()  # it arrived whole (read now: the client will be gone)
            await asyncio.sleep(failure.seconds)  # aiohttp lets a handler run on
            return await handler(request)
        if failure.kind.startswith("after-"):
            answer = await handler(request)  # the exchange acted; now its answer is lost
            if failure.kind == "after-hang":
                await asyncio.sleep(failure.seconds)
                return answer
            failure.kind = failure.kind.removeprefix("after-")
        if failure.kind == "status":
            return web.Response(
                status=failure.status,
                text=failure.body,
                content_type=failure.content_type,
                headers=failure.headers,
            )
        transport = request.transport
        if failure.kind == "cut":
            response = web.StreamResponse(headers={"Content-Length": "1000"})
            response.content_type = "application/json"
            await response.prepare(request)
            await response.write(b'{"products": [')
            await asyncio.sleep(0.01)
        if transport is not None:
            transport.close()
        raise asyncio.CancelledError  # aiohttp drops the request quietly

    async def _list_products(self, request: web.Request) -> web.Response:
        product_type = request.query.get("product_type", "SPOT")
        listed = [p for p in self.products.values() if p["product_type"] == product_type]
        return web.json_response({"products": listed, "num_products": len(listed)})

    def _product_or_404(self, request: web.Request) -> dict[str, Any] | web.Response:
        product = self.products.get(request.match_info["product_id"])
        if product is None:
            return _error(404, "NOT_FOUND", "ProductID is invalid")
        return product

    async def _get_product(self, request: web.Request) -> web.Response:
        product = self._product_or_404(request)
        return product if isinstance(product, web.Response) else web.json_response(product)

    async def _candles(self, request: web.Request) -> web.Response:
        product = self._product_or_404(request)
        if isinstance(product, web.Response):
            return product
        granularity = GRANULARITIES.get(request.query.get("granularity", ""))
        try:
            start, end = int(request.query["start"]), int(request.query["end"])
        except (KeyError, ValueError):
            return _error(400, "INVALID_ARGUMENT", "start and end must be unix seconds")
        if granularity is None:
            return _error(400, "INVALID_ARGUMENT", "unknown granularity")
        if (end - start) // granularity > MAX_CANDLES_PER_REQUEST:
            message = f"number of candles requested should be less than {MAX_CANDLES_PER_REQUEST}"
            return _error(400, "INVALID_ARGUMENT", message)
        stored = self.candles.get((product["product_id"], granularity), {})
        chosen = sorted((t for t in stored if start <= t <= end), reverse=True)  # newest first
        return web.json_response({"candles": [_candle_json(stored[t]) for t in chosen]})

    async def _ticker(self, request: web.Request) -> web.Response:
        product = self._product_or_404(request)
        if isinstance(product, web.Response):
            return product
        price = self.prices[product["product_id"]]
        trade = {
            "trade_id": "1",
            "product_id": product["product_id"],
            "price": price,
            "size": "0.1",
            "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "side": "BUY",
            "bid": "",
            "ask": "",
        }
        return web.json_response({"trades": [trade], "best_bid": price, "best_ask": price})

    async def _time(self, _request: web.Request) -> web.Response:
        seconds = self.time_source()
        now = datetime.fromtimestamp(seconds, UTC)
        return web.json_response(
            {
                "iso": now.isoformat().replace("+00:00", "Z"),
                "epochSeconds": str(int(seconds)),
                "epochMillis": str(int(seconds * 1000)),
            }
        )

    async def _fiat_currencies(self, _request: web.Request) -> web.Response:
        data = [{"id": "USD", "name": "US Dollar", "min_size": "0.01"}]
        return web.json_response({"data": data})

    async def _crypto_currencies(self, _request: web.Request) -> web.Response:
        codes = sorted({p["base_currency_id"] for p in self.products.values()} | {"BTC"})
        data = [
            {"code": code, "name": code, "exponent": 8, "type": "crypto", "sort_index": "1"}
            for code in codes
            if code != "USD"
        ]
        return web.json_response({"data": data})

    async def _exchange_rates(self, _request: web.Request) -> web.Response:
        return web.json_response({"data": {"currency": "USD", "rates": {"USD": "1"}}})


def _candle_json(candle: Candle) -> dict[str, str]:
    """Coinbase's candle object: every field a string."""
    return {
        "start": str(candle.time),
        "low": repr(candle.low),
        "high": repr(candle.high),
        "open": repr(candle.open),
        "close": repr(candle.close),
        "volume": repr(candle.volume),
    }


@asynccontextmanager
async def running_fake_coinbase() -> AsyncIterator[FakeCoinbase]:
    """A started fake on 127.0.0.1 at a random port, stopped afterwards."""
    fake = FakeCoinbase()
    await fake.start()
    try:
        yield fake
    finally:
        with suppress(Exception):
            await fake.stop()
