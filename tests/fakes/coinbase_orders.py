"""Coinbase's order endpoints on the fake, with a small matching engine and its ledger.

What Coinbase documents for Advanced Trade v3 and ccxt 4.5.x sends: ``POST /orders``
(``market_market_ioc`` by ``quote_size`` or ``base_size``, ``limit_limit_gtc`` with
``post_only``), ``GET /orders/historical/{order_id}``, ``GET /orders/historical/batch``,
``GET /orders/historical/fills``, ``POST /orders/batch_cancel``; every request's JWT is
checked by the ``FakeAccount`` these routes belong to.

- **Idempotency.** A ``client_order_id`` already used answers with the order it made, as
  Coinbase does; a refused order makes nothing, so sending it again is judged again.
- **Refusals** answer 200 with ``success: false`` and an ``error_response`` (insufficient
  funds, a size off the product's increments or below its minimum, a post-only limit that
  would take).
- **Market orders** fill at once at the product's price (``fake.prices``), taker fee. A
  buy by ``quote_size`` spends exactly that, fee included: value = quote / (1 + taker),
  base = value / price cut to 10 places, so its base is not on ``base_increment``; the
  fee is value x rate, kept exact.
- **Resting limits** hold their funds (quote x (1 + maker) for a buy, the base for a
  sell) and fill at their price, maker fee, when ``trade`` moves the price through them,
  whole or by the base given (a partial fill).
- Fills report ``size`` in base (``size_in_quote`` false).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from aiohttp import web
from tests.fakes.coinbase_private import FakeAccount
from tests.fakes.coinbase_server import V3, FakeCoinbase

T = TypeVar("T")
ZERO = Decimal(0)
BASE_PLACES = Decimal("1e-10")  # how finely a quote-sized market buy's base is cut


@dataclass(slots=True)
class FakeOrder:
    order_id: str
    client_order_id: str
    product_id: str
    side: str  # BUY or SELL
    configuration: dict[str, Any]
    created: float
    base_size: Decimal | None = None
    quote_size: Decimal | None = None
    limit_price: Decimal | None = None
    post_only: bool = False
    status: str = "OPEN"
    filled_size: Decimal = ZERO
    filled_value: Decimal = ZERO
    total_fees: Decimal = ZERO
    number_of_fills: int = 0
    held: Decimal = ZERO  # what the resting order still holds, in its hold currency

    @property
    def is_limit(self) -> bool:
        return self.limit_price is not None

    @property
    def remaining(self) -> Decimal:
        return (self.base_size or ZERO) - self.filled_size


@dataclass(slots=True)
class FakeOrders:
    """The order book of the fake account; ``ledger`` lists every fill it made."""

    account: FakeAccount
    orders: dict[str, FakeOrder] = field(default_factory=dict)
    by_client_id: dict[str, str] = field(default_factory=dict)
    fills: list[dict[str, Any]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (client id, error)
    creates: int = 0  # create requests that made a new order
    repeats: int = 0  # create requests answered with the order their client id already has
    page_limit: int = 100  # the most orders or fills one page holds (tests lower it)

    def __post_init__(self) -> None:
        router = self.account.fake.app.router
        router.add_post(f"{V3}/orders", self._create)
        router.add_get(f"{V3}/orders/historical/batch", self._list)
        router.add_get(f"{V3}/orders/historical/fills", self._fills)
        router.add_get(f"{V3}/orders/historical/{{order_id}}", self._get)
        router.add_post(f"{V3}/orders/batch_cancel", self._cancel)

    # -- test controls ------------------------------------------------------------

    def trade(self, product_id: str, price: str, *, base: str | None = None) -> None:
        """The market trades at ``price``: resting limits it reaches fill (up to ``base``
        of each when given), oldest first."""
        self.account.fake.prices[product_id] = price
        level = Decimal(price)
        for order in sorted(self.orders.values(), key=lambda o: o.created):
            if order.product_id != product_id or order.status != "OPEN" or not order.is_limit:
                continue
            assert order.limit_price is not None
            if _reaches(order, level):
                size = order.remaining if base is None else min(order.remaining, Decimal(base))
                self._fill(order, size, order.limit_price, self._rate("maker"), "MAKER")

    def by_client(self, client_order_id: str) -> FakeOrder:
        return self.orders[self.by_client_id[client_order_id]]

    def place_by_hand(
        self, client_order_id: str, product_id: str, side: str, base: str, price: str
    ) -> FakeOrder:
        """A resting limit order made elsewhere (another program, the website)."""
        configuration = {"limit_limit_gtc": {"base_size": base, "limit_price": price}}
        order = self._make(
            {"client_order_id": client_order_id, "product_id": product_id, "side": side,
             "order_configuration": configuration}
        )  # fmt: skip
        self._open(order)
        return order

    def cancel_by_hand(self, order_id: str) -> None:
        """The user cancels the order on Coinbase's own site."""
        self._cancel_one(self.orders[order_id])

    # -- matching -----------------------------------------------------------------

    def _rate(self, which: str) -> Decimal:
        return Decimal(self.account.fee_tier[f"{which}_fee_rate"])

    def _currencies(self, product_id: str) -> tuple[str, str]:
        product = self.account.fake.products[product_id]
        return product["base_currency_id"], product["quote_currency_id"]

    def _move(self, currency: str, available: Decimal, hold: Decimal = ZERO) -> None:
        was_available, was_hold = self.account.balances.get(currency, (ZERO, ZERO))
        self.account.balances[currency] = (was_available + available, was_hold + hold)

    def _fill(
        self, order: FakeOrder, size: Decimal, price: Decimal, rate: Decimal, liquidity: str
    ) -> None:
        base, quote = self._currencies(order.product_id)
        value = size * price
        fee = value * rate
        if order.side == "BUY":
            spent = value + fee
            released = min(order.held, spent) if order.is_limit else ZERO
            order.held -= released
            self._move(quote, -(spent - released), -released)
            self._move(base, size)
        else:
            released = min(order.held, size) if order.is_limit else ZERO
            order.held -= released
            self._move(base, -(size - released), -released)
            self._move(quote, value - fee)
        order.filled_size += size
        order.filled_value += value
        order.total_fees += fee
        order.number_of_fills += 1
        if not order.is_limit or order.remaining <= 0:
            order.status = "FILLED"
            if order.held:  # what a limit buy held beyond its cost at its price
                self._move(quote if order.side == "BUY" else base, order.held, -order.held)
                order.held = ZERO
        self.fills.append(
            {
                "entry_id": uuid.uuid4().hex,
                "trade_id": uuid.uuid4().hex,
                "order_id": order.order_id,
                "trade_time": _stamp(self.account.now()),
                "trade_type": "FILL",
                "price": f"{price:f}",
                "size": f"{size:f}",
                "commission": f"{fee:f}",
                "product_id": order.product_id,
                "sequence_timestamp": _stamp(self.account.now()),
                "liquidity_indicator": liquidity,
                "size_in_quote": False,
                "user_id": "fake-user",
                "side": order.side,
                "retail_portfolio_id": "fake-portfolio",
            }
        )

    def _refusal(self, order: FakeOrder) -> tuple[str, str] | None:
        """Why Coinbase would refuse the order, as (error, message), or None."""
        product = self.account.fake.products.get(order.product_id)
        if product is None:
            return "INVALID_ARGUMENT", "ProductID is invalid"
        base, quote = self._currencies(order.product_id)
        price = Decimal(self.account.fake.prices[order.product_id])
        available = {c: self.account.balances.get(c, (ZERO, ZERO))[0] for c in (base, quote)}
        sizes = _size_refusal(order, product)
        if sizes is not None:
            return sizes
        if order.quote_size is not None:
            need, currency = order.quote_size, quote
        else:
            assert order.base_size is not None
            if order.limit_price is not None:
                if order.limit_price % Decimal(product["price_increment"]):
                    return "INVALID_PRICE_PRECISION", "limit_price is off the price increment"
                if order.post_only and _reaches(order, price):
                    return "INVALID_LIMIT_PRICE_POST_ONLY", "post-only order would take liquidity"
            at = order.limit_price or price
            rate = self._rate("maker" if order.limit_price else "taker")
            if order.side == "BUY":
                need, currency = order.base_size * at * (1 + rate), quote
            else:
                need, currency = order.base_size, base
        if need > available[currency]:
            return "INSUFFICIENT_FUND", "Insufficient balance in source account"
        return None

    def _make(self, body: dict[str, Any]) -> FakeOrder:
        config = body.get("order_configuration") or {}
        order = FakeOrder(
            order_id=str(uuid.uuid4()),
            client_order_id=str(body.get("client_order_id") or ""),
            product_id=str(body.get("product_id") or ""),
            side=str(body.get("side") or ""),
            configuration=config,
            created=self.account.now(),
        )
        if "market_market_ioc" in config:
            sizes = config["market_market_ioc"]
            if "quote_size" in sizes:
                order.quote_size = Decimal(sizes["quote_size"])
            else:
                order.base_size = Decimal(sizes["base_size"])
        elif "limit_limit_gtc" in config:
            limit = config["limit_limit_gtc"]
            order.base_size = Decimal(limit["base_size"])
            order.limit_price = Decimal(limit["limit_price"])
            order.post_only = bool(limit.get("post_only"))
        else:
            raise ValueError("UNSUPPORTED_ORDER_CONFIGURATION")
        return order

    def _open(self, order: FakeOrder) -> None:
        self.orders[order.order_id] = order
        self.by_client_id[order.client_order_id] = order.order_id
        self.creates += 1
        base, quote = self._currencies(order.product_id)
        price = Decimal(self.account.fake.prices[order.product_id])
        if order.is_limit:
            assert order.base_size is not None and order.limit_price is not None
            if order.side == "BUY":
                order.held = order.base_size * order.limit_price * (1 + self._rate("maker"))
                self._move(quote, -order.held, order.held)
            else:
                order.held = order.base_size
                self._move(base, -order.held, order.held)
            return
        if order.quote_size is not None:
            value = order.quote_size / (1 + self._rate("taker"))
            size = (value / price).quantize(BASE_PLACES, rounding="ROUND_DOWN")
            order.base_size = size
        self._fill(order, order.remaining, price, self._rate("taker"), "TAKER")

    def _cancel_one(self, order: FakeOrder) -> bool:
        if order.status != "OPEN":
            return False
        base, quote = self._currencies(order.product_id)
        currency = quote if order.side == "BUY" else base
        self._move(currency, order.held, -order.held)
        order.held = ZERO
        order.status = "CANCELLED"
        return True

    # -- handlers -----------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.StreamResponse:
        key = self.account._key_of(request)
        if isinstance(key, web.Response):
            return key
        body = json.loads(await request.read())
        known = self.by_client_id.get(str(body.get("client_order_id")))
        if known is not None:
            self.repeats += 1
            return web.json_response(_created(self.orders[known]))
        try:
            order = self._make(body)
        except (KeyError, ValueError, ArithmeticError) as error:
            return _refused(body, "INVALID_ARGUMENT", f"bad order: {error}")
        refusal = self._refusal(order)
        if refusal is not None:
            self.refused.append((order.client_order_id, refusal[0]))
            return _refused(body, *refusal)
        self._open(order)
        return web.json_response(_created(order))

    async def _get(self, request: web.Request) -> web.StreamResponse:
        key = self.account._key_of(request)
        if isinstance(key, web.Response):
            return key
        order = self.orders.get(request.match_info["order_id"])
        if order is None:
            message = "order with this orderID was not found"
            return web.json_response(
                {"error": "NOT_FOUND", "error_details": message, "message": message}, status=404
            )
        return web.json_response({"order": self._json(order)})

    async def _list(self, request: web.Request) -> web.StreamResponse:
        key = self.account._key_of(request)
        if isinstance(key, web.Response):
            return key
        query = request.query
        wanted_ids = set(query.getall("order_ids", []))
        products = set(query.getall("product_ids", [])) | set(query.getall("product_id", []))
        statuses = set(query.getall("order_status", []))
        since = _parse_stamp(query.get("start_date"))
        chosen = [
            order
            for order in sorted(self.orders.values(), key=lambda o: o.created, reverse=True)
            if (not wanted_ids or order.order_id in wanted_ids)
            and (not products or order.product_id in products)
            and (not statuses or order.status in statuses)
            and (since is None or order.created >= since)
        ]
        page, cursor = self._page(chosen, query)
        return web.json_response(
            {
                "orders": [self._json(order) for order in page],
                "sequence": "0",
                "has_next": bool(cursor),
                "cursor": cursor,
            }
        )

    async def _fills(self, request: web.Request) -> web.StreamResponse:
        key = self.account._key_of(request)
        if isinstance(key, web.Response):
            return key
        query = request.query
        wanted = set(query.getall("order_ids", [])) | set(query.getall("order_id", []))
        products = set(query.getall("product_ids", [])) | set(query.getall("product_id", []))
        chosen = [
            fill
            for fill in reversed(self.fills)  # newest first
            if (not wanted or fill["order_id"] in wanted)
            and (not products or fill["product_id"] in products)
        ]
        page, cursor = self._page(chosen, query)
        return web.json_response({"fills": page, "cursor": cursor})

    def _page(self, items: list[T], query: Mapping[str, str]) -> tuple[list[T], str]:
        """One page of a listing as Coinbase pages it: the items from ``cursor`` on, at
        most ``limit`` (and ``page_limit``), and the next cursor ("" after the last)."""
        start = int(query.get("cursor") or 0)
        limit = min(int(query.get("limit") or 100), self.page_limit)
        more = start + limit < len(items)
        return items[start : start + limit], str(start + limit) if more else ""

    async def _cancel(self, request: web.Request) -> web.StreamResponse:
        key = self.account._key_of(request)
        if isinstance(key, web.Response):
            return key
        body = json.loads(await request.read())
        results = []
        for order_id in body.get("order_ids", []):
            order = self.orders.get(order_id)
            done = order is not None and self._cancel_one(order)
            reason = "UNKNOWN_CANCEL_FAILURE_REASON" if done else "UNKNOWN_CANCEL_ORDER"
            results.append({"success": done, "failure_reason": reason, "order_id": order_id})
        return web.json_response({"results": results})

    def _json(self, order: FakeOrder) -> dict[str, Any]:
        average = order.filled_value / order.filled_size if order.filled_size else ZERO
        size = order.base_size or ZERO
        return {
            "order_id": order.order_id,
            "product_id": order.product_id,
            "user_id": "fake-user",
            "order_configuration": order.configuration,
            "side": order.side,
            "client_order_id": order.client_order_id,
            "status": order.status,
            "time_in_force": "GOOD_UNTIL_CANCELLED" if order.is_limit else "IMMEDIATE_OR_CANCEL",
            "created_time": _stamp(order.created),
            "completion_percentage": f"{(100 * order.filled_size / size) if size else 0:f}",
            "filled_size": f"{order.filled_size:f}",
            "average_filled_price": f"{average:f}",
            "number_of_fills": str(order.number_of_fills),
            "filled_value": f"{order.filled_value:f}",
            "pending_cancel": False,
            "size_in_quote": order.quote_size is not None,
            "total_fees": f"{order.total_fees:f}",
            "size_inclusive_of_fees": order.quote_size is not None,
            "total_value_after_fees": f"{order.filled_value + order.total_fees:f}",
            "order_type": "LIMIT" if order.is_limit else "MARKET",
            "reject_reason": "",
            "settled": order.status != "OPEN",
            "product_type": "SPOT",
            "outstanding_hold_amount": f"{order.held:f}",
        }


def _reaches(order: FakeOrder, price: Decimal) -> bool:
    """Whether a trade at ``price`` reaches the limit (a post-only order there would take)."""
    assert order.limit_price is not None
    return price <= order.limit_price if order.side == "BUY" else price >= order.limit_price


def _size_refusal(order: FakeOrder, product: dict[str, Any]) -> tuple[str, str] | None:
    if order.quote_size is not None:
        if order.quote_size < Decimal(product["quote_min_size"]):
            return "INVALID_ORDER_SIZE", "quote_size is below the minimum"
        if order.quote_size % Decimal(product["quote_increment"]):
            return "INVALID_SIZE_PRECISION", "quote_size is off the quote increment"
        return None
    assert order.base_size is not None
    if order.base_size < Decimal(product["base_min_size"]):
        return "INVALID_ORDER_SIZE", "base_size is below the minimum"
    if order.base_size % Decimal(product["base_increment"]):
        return "INVALID_SIZE_PRECISION", "base_size is off the base increment"
    return None


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _parse_stamp(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _created(order: FakeOrder) -> dict[str, Any]:
    return {
        "success": True,
        "success_response": {
            "order_id": order.order_id,
            "product_id": order.product_id,
            "side": order.side,
            "client_order_id": order.client_order_id,
        },
        "order_configuration": order.configuration,
    }


def _refused(body: dict[str, Any], error: str, message: str) -> web.Response:
    return web.json_response(
        {
            "success": False,
            "failure_reason": "UNKNOWN_FAILURE_REASON",
            "order_id": "",
            "error_response": {
                "error": error,
                "message": message,
                "error_details": "",
                "preview_failure_reason": f"PREVIEW_{error}",
            },
            "order_configuration": body.get("order_configuration"),
        }
    )


@asynccontextmanager
async def running_fake_exchange() -> AsyncIterator[FakeOrders]:
    """A started fake with the account's and the order endpoints (``orders.account``,
    ``orders.account.fake``); its routes exist before it starts, as aiohttp requires."""
    fake = FakeCoinbase()
    orders = FakeOrders(FakeAccount(fake))
    await fake.start()
    try:
        yield orders
    finally:
        with suppress(Exception):
            await fake.stop()
