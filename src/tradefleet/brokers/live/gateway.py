"""The exchange's order API through ccxt, in exact Decimal, with its answers kept.

ccxt signs every request and speaks the exchange's protocol; this module only says what
to send and reads what came back, from the exchange's own fields (ccxt's unified numbers
are floats). How an exchange differs (how a client order id is passed, how an order is
configured, what its status words and fields are called) is data in
``tradefleet.brokers.live.profiles``, not branches here.

ccxt's exception classes say little about what happened to an order: a refusal and a
connection cut mid-answer can both be a plain ``ExchangeError``. So the gateway keeps the
exchange's complete answers to order requests (``refusal``), read from ccxt's
``handle_errors`` hook: an order counts as refused only when the exchange's refusal
arrived whole; everything else is an unknown outcome, settled by asking the exchange.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

from tradefleet.brokers.exchange_check import read_balances, read_fee_tier
from tradefleet.brokers.live.profiles import ExchangeProfile
from tradefleet.domain import FeeSchedule, OrderStatus, OrderType, ProductSpec, Side
from tradefleet.market.exchange import decimal_field
from tradefleet.money import ZERO

REFUSALS_KEPT = 1000  # the newest refusals remembered, by client order id
FEES_MAX_AGE = 24 * 3600.0  # the account's fee rates are read again after a day
DEFAULT_RETRY_AFTER = 1.0  # a 429 that does not say how long to wait
MAX_RETRY_AFTER = 60.0
# Every page of a listing: ccxt stops after 10 pages unless told (1,000 open orders on
# Coinbase), which would hide orders from reconciliation and from a look-up.
EVERY_PAGE = {"paginate": True, "paginationCalls": 1000}


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One order as it is sent: amounts already on the product's increments."""

    client_order_id: str
    product: ProductSpec
    side: Side
    order_type: OrderType  # MARKET or LIMIT (stops are watched by the engine)
    base_amount: Decimal | None = None  # every order but a market buy
    quote_amount: Decimal | None = None  # a market buy
    limit_price: Decimal | None = None
    post_only: bool = False


@dataclass(frozen=True, slots=True)
class ExchangeOrder:
    """An order as the exchange reports it."""

    order_id: str
    client_order_id: str
    product_id: str
    status: OrderStatus
    filled_base: Decimal
    filled_quote: Decimal  # gross: price x base, summed over fills
    fee: Decimal
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class ExchangeFill:
    """One execution as the exchange reports it (``fee`` in quote)."""

    trade_id: str
    order_id: str
    time: datetime
    side: Side
    price: Decimal
    base_amount: Decimal
    quote_amount: Decimal
    fee: Decimal


class ExchangeGateway:
    """Orders on one exchange account through a signed ccxt client.

    The process has one gateway per account, shared by every live bot, so its client's
    throttle (ccxt's, about 30 private requests a second on Coinbase: 34 ms a request)
    is the one limit for the whole process; and a 429 pauses every request of it until
    the ``Retry-After`` the exchange gave (1 s when it gave none).
    """

    def __init__(
        self,
        client: Any,
        profile: ExchangeProfile,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._profile = profile
        self._sleep = sleep
        self._clock = clock
        self._refusals: dict[str, str] = {}
        self._paused_until = 0.0
        self._fees: tuple[float, FeeSchedule] | None = None
        self.pauses: list[float] = []  # every wait a 429 asked for, for health and tests
        self._install_answer_hook()
        self._install_pause()

    async def fees(self, slippage: Decimal = ZERO) -> FeeSchedule:
        """The account's own fee rates (the transaction summary), read again daily."""
        now = self._clock()
        if self._fees is None or now - self._fees[0] > FEES_MAX_AGE:
            _tier, taker, maker = await read_fee_tier(self._client)
            if taker is None or maker is None:
                raise ValueError("the exchange did not say the account's fee rates")
            self._fees = (now, FeeSchedule(taker=taker, maker=maker, slippage=slippage))
        return self._fees[1]

    def _install_pause(self) -> None:
        """Every request the client makes (each page of a listing, ``load_markets``'s too)
        first waits out a pause the exchange asked for."""
        send = self._client.fetch2

        async def fetch2(*args: Any, **kwargs: Any) -> Any:
            delay = self._paused_until - self._clock()
            if delay > 0:
                await self._sleep(delay)
            return await send(*args, **kwargs)

        self._client.fetch2 = fetch2

    @property
    def exchange_id(self) -> str:
        return self._profile.exchange_id

    async def create(self, request: OrderRequest) -> str:
        """Send the order; the exchange's order id. Raises on anything else: a refusal
        (then ``refusal`` names it) or an unknown outcome."""
        self._refusals.pop(request.client_order_id, None)
        amount = request.quote_amount if request.base_amount is None else request.base_amount
        order = await self._client.create_order(
            request.product.symbol,
            request.order_type.value,
            request.side.value,
            str(amount),
            None if request.limit_price is None else str(request.limit_price),
            self._profile.order_params(request),
        )
        order_id = order.get("id")
        if not order_id:
            raise ValueError(f"the exchange answered without an order id: {order.get('info')}")
        return str(order_id)

    def refusal(self, client_order_id: str) -> str | None:
        """Why the exchange refused this order, when its whole answer said so."""
        return self._refusals.get(client_order_id)

    async def order(self, order_id: str, product: ProductSpec) -> ExchangeOrder:
        found = await self._client.fetch_order(order_id, product.symbol)
        return self._order(found["info"])

    async def find(
        self, client_order_id: str, product: ProductSpec, since: datetime
    ) -> ExchangeOrder | None:
        """The order made with ``client_order_id`` since ``since``, asked of the exchange
        (its recent orders of the product, every page), or None if it has none."""
        listed = await self._client.fetch_orders(
            product.symbol, int(since.timestamp() * 1000), None, dict(EVERY_PAGE)
        )
        for entry in listed:
            info = entry.get("info") or {}
            if info.get(self._profile.fields.client_order_id) == client_order_id:
                return self._order(info)
        return None

    async def fills(self, order_id: str, product: ProductSpec) -> list[ExchangeFill]:
        trades = await self._client.fetch_my_trades(
            product.symbol, None, None, {self._profile.fill_order_param: order_id, **EVERY_PAGE}
        )
        fills = [self._fill(trade["info"]) for trade in trades]
        return [fill for fill in fills if fill.order_id == order_id]

    async def open_orders(self) -> list[ExchangeOrder]:
        """Every open order of the account, all products (every page)."""
        listed = await self._client.fetch_open_orders(None, None, None, dict(EVERY_PAGE))
        return [self._order(entry["info"]) for entry in listed]

    async def balances(self) -> dict[str, Decimal]:
        """Each currency's total on the account: available plus what orders hold."""
        return {balance.currency: balance.total for balance in await read_balances(self._client)}

    async def cancel(self, order_id: str, product: ProductSpec) -> None:
        """Ask for a cancel; what became of the order is learnt from ``order``."""
        await self._client.cancel_order(order_id, product.symbol)

    async def close(self) -> None:
        await self._client.close()

    # -- reading the exchange's fields ---------------------------------------------

    def _order(self, info: dict[str, Any]) -> ExchangeOrder:
        names = self._profile.fields
        filled = _amount(info.get(names.filled_base))
        word = str(info.get(names.status) or "")
        status = self._profile.statuses.get(word)
        if status is None:
            raise ValueError(f"unknown order status {word!r} from the exchange")
        if status is OrderStatus.OPEN and filled > 0:
            status = OrderStatus.PARTLY_FILLED
        return ExchangeOrder(
            order_id=str(info.get(names.order_id)),
            client_order_id=str(info.get(names.client_order_id) or ""),
            product_id=str(info.get(names.product_id) or ""),
            status=status,
            filled_base=filled,
            filled_quote=_amount(info.get(names.filled_quote)),
            fee=_amount(info.get(names.fee)),
            created_at=_time(info.get(names.created_at)),
        )

    def _fill(self, info: dict[str, Any]) -> ExchangeFill:
        names = self._profile.fill_fields
        price = _amount(info.get(names.price))
        size = _amount(info.get(names.size))
        base = size / price if info.get(names.size_in_quote) is True else size
        when = _time(info.get(names.time))
        if when is None:
            raise ValueError(f"a fill without a time from the exchange: {info}")
        return ExchangeFill(
            trade_id=str(info.get(names.trade_id)),
            order_id=str(info.get(names.order_id)),
            time=when,
            side=Side(str(info.get(names.side)).lower()),
            price=price,
            base_amount=base,
            quote_amount=price * base,
            fee=_amount(info.get(names.fee)),
        )

    def _install_answer_hook(self) -> None:
        """Keep every complete refusal of an order request before ccxt raises it."""
        original = self._client.handle_errors
        refusals = self._refusals
        describe, id_key = self._profile.refusal, self._profile.client_order_id_param

        def handle_errors(*args: Any) -> Any:
            # ccxt's (code, reason, url, method, headers, body, response, request
            # headers, request body)
            code, url, method, headers = args[0], args[2], args[3], args[4]
            response, request_body = args[6], args[8]
            if code == 429:
                wait = _retry_after(headers)
                self.pauses.append(wait)
                self._paused_until = max(self._paused_until, self._clock() + wait)
            if method == "POST" and isinstance(response, dict) and isinstance(request_body, str):
                refused = describe(url, response)
                client_order_id = _sent_value(request_body, id_key)
                if refused is not None and client_order_id:
                    refusals[client_order_id] = refused
                    while len(refusals) > REFUSALS_KEPT:
                        refusals.pop(next(iter(refusals)))
            return original(*args)

        self._client.handle_errors = handle_errors


def _retry_after(headers: Any) -> float:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date), bounded."""
    value = None
    if headers is not None:
        value = next((v for k, v in dict(headers).items() if k.lower() == "retry-after"), None)
    if value is None:
        return DEFAULT_RETRY_AFTER
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(str(value)).timestamp() - time.time()
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _sent_value(request_body: str, key: str) -> str | None:
    try:
        sent = json.loads(request_body)
    except ValueError:
        return None
    value = sent.get(key) if isinstance(sent, dict) else None
    return str(value) if value else None


def _amount(value: Any) -> Decimal:
    parsed = decimal_field(value)
    return ZERO if parsed is None else parsed


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
