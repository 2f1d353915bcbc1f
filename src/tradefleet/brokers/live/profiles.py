"""How each exchange differs, written down as data: what the live broker sends and reads.

Only Coinbase Advanced Trade is here and tested (against the local fake that follows
its documented API). What COINBASE.md found about ccxt is applied here once: ccxt
replaces a unified ``clientOrderId`` with a random ``ccxt-<uuid>``, so the id goes in as
Coinbase's own ``client_order_id`` param; and the order configuration is sent exactly as
tradefleet rounded it (strings), rather than rebuilt by ccxt from floats.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tradefleet.domain import OrderStatus, OrderType, Side

if TYPE_CHECKING:
    from tradefleet.brokers.live.gateway import OrderRequest


@dataclass(frozen=True, slots=True)
class OrderFields:
    """The names of an order's fields in the exchange's own answer (ccxt's ``info``)."""

    order_id: str
    client_order_id: str
    product_id: str
    status: str
    filled_base: str
    filled_quote: str
    fee: str
    created_at: str


@dataclass(frozen=True, slots=True)
class FillFields:
    trade_id: str
    order_id: str
    time: str
    side: str
    price: str
    size: str
    size_in_quote: str  # true when ``size`` is in quote
    fee: str


@dataclass(frozen=True, slots=True)
class ExchangeProfile:
    exchange_id: str
    client_order_id_param: str
    order_params: Callable[[OrderRequest], dict[str, Any]]
    refusal: Callable[[str, dict[str, Any]], str | None]  # (url, answer) -> why refused
    statuses: Mapping[str, OrderStatus]
    fields: OrderFields
    fill_fields: FillFields
    fill_order_param: str  # the fills query's order filter


def _coinbase_order_params(request: OrderRequest) -> dict[str, Any]:
    if request.order_type is OrderType.MARKET:
        if request.side is Side.BUY:
            sizes = {"quote_size": f"{request.quote_amount:f}"}
        else:
            sizes = {"base_size": f"{request.base_amount:f}"}
        configuration: dict[str, Any] = {"market_market_ioc": sizes}
    elif request.order_type is OrderType.LIMIT:
        configuration = {
            "limit_limit_gtc": {
                "base_size": f"{request.base_amount:f}",
                "limit_price": f"{request.limit_price:f}",
                "post_only": request.post_only,
            }
        }
    else:
        raise ValueError(f"{request.order_type} orders are not sent to Coinbase")
    return {"client_order_id": request.client_order_id, "order_configuration": configuration}


def _coinbase_refusal(url: str, answer: dict[str, Any]) -> str | None:
    """A create-order answer with ``success: false`` names its ``error_response``."""
    if not url.endswith("/orders") or answer.get("success") is not False:
        return None
    error = answer.get("error_response") or {}
    words = [str(error.get(k) or "") for k in ("error", "message", "error_details")]
    said = ": ".join(word for word in words if word)
    return said or str(answer.get("failure_reason") or "refused without a reason")


COINBASE = ExchangeProfile(
    exchange_id="coinbase",
    client_order_id_param="client_order_id",
    order_params=_coinbase_order_params,
    refusal=_coinbase_refusal,
    statuses={
        "PENDING": OrderStatus.OPEN,  # accepted, not yet on the book
        "QUEUED": OrderStatus.OPEN,
        "OPEN": OrderStatus.OPEN,
        "CANCEL_QUEUED": OrderStatus.OPEN,
        "FILLED": OrderStatus.FILLED,
        "CANCELLED": OrderStatus.CANCELLED,
        "EXPIRED": OrderStatus.EXPIRED,
        "FAILED": OrderStatus.REJECTED,
    },
    fields=OrderFields(
        order_id="order_id",
        client_order_id="client_order_id",
        product_id="product_id",
        status="status",
        filled_base="filled_size",
        filled_quote="filled_value",
        fee="total_fees",
        created_at="created_time",
    ),
    fill_fields=FillFields(
        trade_id="trade_id",
        order_id="order_id",
        time="trade_time",
        side="side",
        price="price",
        size="size",
        size_in_quote="size_in_quote",
        fee="commission",
    ),
    fill_order_param="order_ids",
)

PROFILES: dict[str, ExchangeProfile] = {COINBASE.exchange_id: COINBASE}


def profile_for(exchange_id: str) -> ExchangeProfile:
    profile = PROFILES.get(exchange_id)
    if profile is None:
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"live trading knows only {known}; {exchange_id!r} has no profile yet")
    return profile
