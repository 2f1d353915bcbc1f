"""The paper fill model's price and priority rules, worked out by hand."""

from __future__ import annotations

from decimal import Decimal

from tradefleet.brokers.fill_model import WorkingOrder, next_fill
from tradefleet.domain import (
    Candle,
    FeeSchedule,
    Fill,
    OrderPurpose,
    OrderType,
    PlaceOrder,
    ProductSpec,
    Side,
)

D = Decimal

PRODUCT = ProductSpec(
    product_id="ETH-USD",
    base_currency="ETH",
    quote_currency="USD",
    base_increment=D("0.0001"),
    quote_increment=D("0.01"),
    price_increment=D("0.01"),
    base_min_size=D("0.0001"),
    quote_min_size=D("1"),
)
FEES = FeeSchedule(taker=D("0.006"), maker=D("0.004"))
T = 6000


def bar(o: float, h: float, low: float, c: float, time: int = T) -> Candle:
    return Candle(time=time, open=o, high=h, low=low, close=c, volume=1.0)


def market_buy(quote: str, cid: str = "mb") -> WorkingOrder:
    intent = PlaceOrder(
        cid, 1, Side.BUY, OrderType.MARKET, OrderPurpose.BASE, quote_amount=D(quote)
    )
    return WorkingOrder(intent, T)


def market_sell(base: str, cid: str = "ms") -> WorkingOrder:
    intent = PlaceOrder(cid, 1, Side.SELL, OrderType.MARKET, OrderPurpose.EXIT, base_amount=D(base))
    return WorkingOrder(intent, T)


def limit(side: Side, base: str, price: str, cid: str) -> WorkingOrder:
    purpose = OrderPurpose.SAFETY if side is Side.BUY else OrderPurpose.TAKE_PROFIT
    intent = PlaceOrder(cid, 1, side, OrderType.LIMIT, purpose, base_amount=D(base), price=D(price))
    return WorkingOrder(intent, T)


def stop(base: str, trigger: str, cid: str = "st") -> WorkingOrder:
    intent = PlaceOrder(
        cid, 1, Side.SELL, OrderType.STOP, OrderPurpose.STOP, base_amount=D(base),
        trigger_price=D(trigger),
    )  # fmt: skip
    return WorkingOrder(intent, T)


def only_fill(orders: list[WorkingOrder], candle: Candle, fees: FeeSchedule = FEES) -> Fill:
    hit = next_fill(orders, candle, PRODUCT, fees)
    assert hit is not None
    return hit[1]


def test_market_buy_fills_at_open_with_taker_fee() -> None:
    # 100 / (2000 x 1.006) = 0.04970… -> 0.0497; 2000 x 0.0497 = 99.4; fee 0.6 % = 0.5964
    fill = only_fill([market_buy("100")], bar(2000, 2100, 1900, 2050))
    assert fill == Fill("mb", T, Side.BUY, D(2000), D("0.0497"), D("99.4"), D("0.5964"))
    assert fill.quote_amount + fill.fee <= D(100)


def test_market_buy_pays_slippage_above_the_open() -> None:
    fees = FeeSchedule(taker=D("0.006"), maker=D("0.004"), slippage=D("0.001"))
    # price 2002; 100 / (2002 x 1.006) = 0.049652… -> 0.0496; 2002 x 0.0496 = 99.2992
    fill = only_fill([market_buy("100")], bar(2000, 2100, 1900, 2050), fees)
    assert (fill.price, fill.base_amount) == (D(2002), D("0.0496"))
    assert (fill.quote_amount, fill.fee) == (D("99.2992"), D("0.5957952"))


def test_market_sell_gets_the_open_less_slippage() -> None:
    fees = FeeSchedule(taker=D("0.006"), maker=D("0.004"), slippage=D("0.001"))
    fill = only_fill([market_sell("0.5")], bar(2000, 2100, 1900, 2050), fees)
    assert (fill.price, fill.quote_amount, fill.fee) == (D(1998), D(999), D("5.994"))


def test_order_never_fills_before_its_active_from() -> None:
    late = WorkingOrder(market_buy("100").intent, T + 60)
    assert next_fill([late], bar(2000, 2100, 1900, 2050), PRODUCT, FEES) is None
    assert next_fill([late], bar(2000, 2100, 1900, 2050, time=T + 60), PRODUCT, FEES) is not None


def test_stop_gap_through_fills_at_the_open() -> None:
    fill = only_fill([stop("1", "95")], bar(90, 91, 85, 88))
    assert (fill.price, fill.quote_amount, fill.fee) == (D(90), D(90), D("0.54"))


def test_stop_inside_the_candle_fills_at_the_trigger() -> None:
    fill = only_fill([stop("1", "95")], bar(100, 101, 94, 96))
    assert (fill.price, fill.fee) == (D(95), D("0.57"))


def test_stop_not_reached_does_not_fill() -> None:
    assert next_fill([stop("1", "95")], bar(100, 101, 95.01, 96), PRODUCT, FEES) is None


def test_limit_buy_touched_exactly_fills_at_its_price_with_maker_fee() -> None:
    fill = only_fill([limit(Side.BUY, "0.2030", "98.5", "so")], bar(100, 100, 98.5, 99))
    assert fill == Fill("so", T, Side.BUY, D("98.5"), D("0.2030"), D("19.9955"), D("0.079982"))


def test_limit_buy_one_tick_above_the_low_does_not_fill() -> None:
    order = limit(Side.BUY, "0.2030", "98.5", "so")
    assert next_fill([order], bar(100, 100, 98.51, 99), PRODUCT, FEES) is None


def test_limit_buy_gapped_through_still_fills_at_its_own_price() -> None:
    fill = only_fill([limit(Side.BUY, "1", "98.5", "so")], bar(90, 91, 89, 90))
    assert fill.price == D("98.5")


def test_limit_sell_touched_exactly_fills_at_its_price() -> None:
    fill = only_fill([limit(Side.SELL, "2", "102", "tp")], bar(100, 102, 99, 101))
    assert (fill.price, fill.quote_amount, fill.fee) == (D(102), D(204), D("0.816"))
    assert (
        next_fill([limit(Side.SELL, "2", "102", "tp")], bar(100, 101.99, 99, 101), PRODUCT, FEES)
        is None
    )


def test_stop_wins_over_take_profit_in_the_same_candle() -> None:
    orders = [limit(Side.SELL, "1", "102", "tp"), stop("1", "95")]
    hit = next_fill(orders, bar(100, 103, 94, 100), PRODUCT, FEES)
    assert hit is not None and hit[1].client_order_id == "st" and hit[1].price == D(95)


def test_priority_market_then_stop_then_limit_sell_then_limit_buy() -> None:
    candle = bar(100, 110, 90, 100)
    orders = [
        limit(Side.BUY, "1", "95", "lb"),
        limit(Side.SELL, "1", "105", "ls"),
        stop("1", "95"),
        market_sell("1"),
    ]
    order_of_fills = []
    while (hit := next_fill(orders, candle, PRODUCT, FEES)) is not None:
        orders.remove(hit[0])
        order_of_fills.append(hit[1].client_order_id)
    assert order_of_fills == ["ms", "st", "ls", "lb"]


def test_ties_fill_in_creation_order() -> None:
    orders = [limit(Side.BUY, "1", "95", "first"), limit(Side.BUY, "1", "99", "second")]
    assert only_fill(orders, bar(100, 100, 90, 95)).client_order_id == "first"
