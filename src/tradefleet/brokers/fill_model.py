"""The paper fill model: how a simulated order executes on a candle.

The persistent paper broker and the backtester both call these pure functions, so a
bot replayed in paper mode produces exactly the fills of its backtest. The rules:

1. **Activation.** An order is ``active_from`` the open time of the first candle it may
   fill on. Orders placed at the close of candle t, and orders placed in reaction to a
   fill during candle t, are active from candle t + 1: an order never fills on the
   candle that caused it (the path inside a candle is unknown).
2. **Priority within a candle.** The caller asks :func:`next_fill` for one fill at a
   time, applies it (the deal manager may cancel orders in reaction) and asks again
   until there is none. The order chosen is the first match, by class:
   MARKET orders, then STOP sells, then LIMIT sells, then LIMIT buys; within a class,
   creation order (the order of the ``orders`` sequence). So when one candle reaches
   both the stop loss and the take profit of a deal, the stop (the worse exit for the
   trader) fills and the deal manager cancels the take profit.
3. **Prices.** MARKET: the candle's open, times (1 + slippage) for a buy and
   (1 - slippage) for a sell, taker fee. STOP sell: triggers when low <= trigger and
   fills at min(open, trigger) — a gap through the stop fills at the open — less
   slippage (a triggered stop is a market sell), taker fee. LIMIT sell: fills when
   high >= limit at the limit price; LIMIT buy: when low <= limit (touching is
   enough), at the limit price; maker fee. A limit order is never filled at a better
   price than its own, even when the candle opens through it.
4. **Amounts** (exact Decimal). Candle prices are taken as ``money.to_decimal`` of the
   float (the market's own price, not rounded to the price increment); a computed
   price or ``quote_amount = price x base_amount`` is kept to 18 places
   (``money.quantize_amount``, what the database stores); ``fee =
   money.fee_for(quote_amount, rate)`` (12 places). A quote-sized MARKET buy of Q gets
   ``base = round_down(Q / (price x (1 + taker)), base_increment)``, lowered by one
   increment while ``quote_amount + fee`` would exceed Q, so it never spends more than
   Q. Every other order fills its whole ``base_amount``.
5. **Sizes.** :func:`validate_order` rejects an order at placement (below the product's
   minimum sizes, off its increments, or malformed). A quote-sized market buy whose
   base at the fill price falls below ``base_min_size`` cannot fill:
   :func:`unfillable` reports it so the caller rejects it, and :func:`next_fill`
   skips it.
6. ``Fill.time`` is the open time of the candle the order filled on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from tradefleet.domain import (
    Candle,
    FeeSchedule,
    Fill,
    OrderType,
    PlaceOrder,
    ProductSpec,
    Side,
)
from tradefleet.money import ZERO, fee_for, quantize_amount, round_down, to_decimal

_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class WorkingOrder:
    """An accepted order waiting to fill, with the first candle time it may fill on."""

    intent: PlaceOrder
    active_from: int


def validate_order(intent: PlaceOrder, product: ProductSpec) -> str | None:
    """Why the exchange would refuse ``intent`` at placement, or ``None`` if it is valid."""
    if intent.order_type is OrderType.MARKET and intent.side is Side.BUY:
        return _check_quote_size(intent, product)
    if intent.quote_amount is not None:
        return "only market buys are sized in quote"
    if intent.order_type is OrderType.STOP and intent.side is Side.BUY:
        return "stop orders must be sells"
    price = _check_price(intent, product)
    if isinstance(price, str):
        return price
    return _check_base_size(intent, product, price)


def _check_quote_size(intent: PlaceOrder, product: ProductSpec) -> str | None:
    quote = intent.quote_amount
    if quote is None or intent.base_amount is not None:
        return "a market buy needs quote_amount and no base_amount"
    if quote < product.quote_min_size or quote <= 0:
        return f"quote amount {quote} below minimum {product.quote_min_size}"
    if quote % product.quote_increment:
        return f"quote amount {quote} is not a multiple of {product.quote_increment}"
    return None


def _check_price(intent: PlaceOrder, product: ProductSpec) -> Decimal | str | None:
    """The order's limit or trigger price when valid, ``None`` for a market order."""
    if intent.order_type is OrderType.MARKET:
        return None
    is_limit = intent.order_type is OrderType.LIMIT
    price = intent.price if is_limit else intent.trigger_price
    other = intent.trigger_price if is_limit else intent.price
    if price is None or other is not None:
        return f"a {intent.order_type} order needs exactly its own price field"
    if price <= 0 or price % product.price_increment:
        return f"price {price} is not a positive multiple of {product.price_increment}"
    return price


def _check_base_size(intent: PlaceOrder, product: ProductSpec, price: Decimal | None) -> str | None:
    base = intent.base_amount
    if base is None:
        return "order needs base_amount"
    if base < product.base_min_size or base <= 0:
        return f"base amount {base} below minimum {product.base_min_size}"
    if base % product.base_increment:
        return f"base amount {base} is not a multiple of {product.base_increment}"
    if price is not None and price * base < product.quote_min_size:
        return f"order value {price * base} below minimum {product.quote_min_size}"
    return None


def market_price(candle: Candle, side: Side, fees: FeeSchedule) -> Decimal:
    """The price a market order gets on ``candle``: its open, moved against us by slippage."""
    return _slipped(to_decimal(candle.open), side, fees)


def _slipped(price: Decimal, side: Side, fees: FeeSchedule) -> Decimal:
    if not fees.slippage:
        return price
    factor = _ONE + fees.slippage if side is Side.BUY else _ONE - fees.slippage
    return quantize_amount(price * factor)


def market_buy_base(
    quote: Decimal, price: Decimal, product: ProductSpec, taker: Decimal
) -> Decimal:
    """The base a market buy of ``quote`` gets at ``price``: quote amount + fee <= quote."""
    base = round_down(quote / (price * (_ONE + taker)), product.base_increment)
    while base > 0 and _cost(price, base, taker) > quote:
        base -= product.base_increment
    return max(base, ZERO)


def _cost(price: Decimal, base: Decimal, rate: Decimal) -> Decimal:
    gross = quantize_amount(price * base)
    return gross + fee_for(gross, rate)


def _fill(
    order: WorkingOrder, candle: Candle, price: Decimal, base: Decimal, rate: Decimal
) -> Fill:
    gross = quantize_amount(price * base)
    return Fill(
        client_order_id=order.intent.client_order_id,
        time=candle.time,
        side=order.intent.side,
        price=price,
        base_amount=base,
        quote_amount=gross,
        fee=fee_for(gross, rate),
    )


def _market_buy_size(
    intent: PlaceOrder, candle: Candle, product: ProductSpec, fees: FeeSchedule
) -> tuple[Decimal, Decimal]:
    """(price, base) of a quote-sized market buy on ``candle``."""
    price = market_price(candle, Side.BUY, fees)
    quote = intent.quote_amount if intent.quote_amount is not None else ZERO
    return price, market_buy_base(quote, price, product, fees.taker)


def _held_base(intent: PlaceOrder) -> Decimal:
    if intent.base_amount is None:
        raise ValueError(f"order {intent.client_order_id} has no base_amount")
    return intent.base_amount


def _match_market(
    order: WorkingOrder, candle: Candle, product: ProductSpec, fees: FeeSchedule
) -> Fill | None:
    intent = order.intent
    if intent.order_type is not OrderType.MARKET:
        return None
    if intent.side is Side.SELL:
        price = market_price(candle, Side.SELL, fees)
        return _fill(order, candle, price, _held_base(intent), fees.taker)
    price, base = _market_buy_size(intent, candle, product, fees)
    if base <= 0 or base < product.base_min_size:
        return None
    return _fill(order, candle, price, base, fees.taker)


def _match_stop(
    order: WorkingOrder, candle: Candle, product: ProductSpec, fees: FeeSchedule
) -> Fill | None:
    intent = order.intent
    trigger = intent.trigger_price
    if intent.order_type is not OrderType.STOP or intent.side is not Side.SELL:
        return None
    if trigger is None or to_decimal(candle.low) > trigger:
        return None
    price = _slipped(min(to_decimal(candle.open), trigger), Side.SELL, fees)
    return _fill(order, candle, price, _held_base(intent), fees.taker)


def _match_limit(side: Side) -> _Matcher:
    def match(
        order: WorkingOrder, candle: Candle, product: ProductSpec, fees: FeeSchedule
    ) -> Fill | None:
        intent = order.intent
        price = intent.price
        if intent.order_type is not OrderType.LIMIT or intent.side is not side or price is None:
            return None
        reached = (
            to_decimal(candle.high) >= price
            if side is Side.SELL
            else to_decimal(candle.low) <= price
        )
        if not reached:
            return None
        return _fill(order, candle, price, _held_base(intent), fees.maker)

    return match


_Matcher = Callable[[WorkingOrder, Candle, ProductSpec, FeeSchedule], Fill | None]
_PRIORITY: tuple[_Matcher, ...] = (
    _match_market,
    _match_stop,
    _match_limit(Side.SELL),
    _match_limit(Side.BUY),
)


def next_fill(
    orders: Sequence[WorkingOrder], candle: Candle, product: ProductSpec, fees: FeeSchedule
) -> tuple[WorkingOrder, Fill] | None:
    """The first order to fill on ``candle`` by the priority rules above, with its fill."""
    active = [order for order in orders if order.active_from <= candle.time]
    for matcher in _PRIORITY:
        for order in active:
            fill = matcher(order, candle, product, fees)
            if fill is not None:
                return order, fill
    return None


def unfillable(
    orders: Sequence[WorkingOrder], candle: Candle, product: ProductSpec, fees: FeeSchedule
) -> list[tuple[WorkingOrder, str]]:
    """Active quote-sized market buys too small to buy ``base_min_size`` at this open."""
    refused: list[tuple[WorkingOrder, str]] = []
    for order in orders:
        intent = order.intent
        if order.active_from > candle.time or intent.order_type is not OrderType.MARKET:
            continue
        if intent.side is not Side.BUY:
            continue
        price, base = _market_buy_size(intent, candle, product, fees)
        if base <= 0 or base < product.base_min_size:
            reason = f"quote {intent.quote_amount} buys {base} at {price}, below the minimum"
            refused.append((order, f"{reason} {product.base_min_size}"))
    return refused
