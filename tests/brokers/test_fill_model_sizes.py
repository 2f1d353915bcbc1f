"""Order validation, unfillable market buys and exact fill amounts (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tradefleet.brokers.fill_model import (
    WorkingOrder,
    market_buy_base,
    next_fill,
    unfillable,
    validate_order,
)
from tradefleet.domain import (
    Candle,
    FeeSchedule,
    OrderPurpose,
    OrderType,
    PlaceOrder,
    ProductSpec,
    Side,
)
from tradefleet.money import fee_for, quantize_amount

D = Decimal

PRODUCT = ProductSpec(
    product_id="ETH-USD",
    base_currency="ETH",
    quote_currency="USD",
    base_increment=D("0.0001"),
    quote_increment=D("0.01"),
    price_increment=D("0.01"),
    base_min_size=D("0.001"),
    quote_min_size=D("1"),
)

FEES = FeeSchedule(taker=D("0.006"), maker=D("0.004"))


def order(
    side: Side = Side.SELL,
    order_type: OrderType = OrderType.LIMIT,
    *,
    base: str | None = "1",
    quote: str | None = None,
    price: str | None = "100",
    trigger: str | None = None,
) -> PlaceOrder:
    return PlaceOrder(
        "x", 1, side, order_type, OrderPurpose.TAKE_PROFIT,
        base_amount=None if base is None else D(base),
        quote_amount=None if quote is None else D(quote),
        price=None if price is None else D(price),
        trigger_price=None if trigger is None else D(trigger),
    )  # fmt: skip


def test_valid_orders_pass() -> None:
    assert validate_order(order(), PRODUCT) is None
    assert (
        validate_order(
            order(Side.BUY, OrderType.MARKET, base=None, quote="10", price=None), PRODUCT
        )
        is None
    )
    assert (
        validate_order(order(order_type=OrderType.STOP, price=None, trigger="95"), PRODUCT) is None
    )
    assert validate_order(order(order_type=OrderType.MARKET, price=None), PRODUCT) is None


def test_sizes_below_the_minimum_are_refused() -> None:
    assert "below minimum 0.001" in (validate_order(order(base="0.0009"), PRODUCT) or "")
    reason = validate_order(
        order(Side.BUY, OrderType.MARKET, base=None, quote="0.99", price=None), PRODUCT
    )
    assert reason == "quote amount 0.99 below minimum 1"
    assert "order value" in (validate_order(order(base="0.005", price="100"), PRODUCT) or "")


def test_amounts_off_the_increments_are_refused() -> None:
    assert "multiple of 0.0001" in (validate_order(order(base="1.00005"), PRODUCT) or "")
    assert "multiple of 0.01" in (validate_order(order(price="100.005"), PRODUCT) or "")
    market = order(Side.BUY, OrderType.MARKET, base=None, quote="10.001", price=None)
    assert "multiple of 0.01" in (validate_order(market, PRODUCT) or "")


def test_malformed_orders_are_refused() -> None:
    assert (
        validate_order(
            order(order_type=OrderType.STOP, side=Side.BUY, price=None, trigger="9"), PRODUCT
        )
        == "stop orders must be sells"
    )
    assert validate_order(order(price=None), PRODUCT) is not None
    assert validate_order(order(trigger="95"), PRODUCT) is not None
    assert (
        validate_order(order(Side.BUY, OrderType.MARKET, base="1", quote="10", price=None), PRODUCT)
        is not None
    )
    assert validate_order(order(quote="10"), PRODUCT) == "only market buys are sized in quote"
    assert (
        validate_order(order(order_type=OrderType.MARKET, base=None, price=None), PRODUCT)
        is not None
    )


def test_market_buy_too_small_at_the_open_is_unfillable_and_skipped() -> None:
    # 1 / (2000 x 1.006) = 0.000497 -> 0.0004, below base_min_size 0.001
    intent = PlaceOrder("tiny", 1, Side.BUY, OrderType.MARKET, OrderPurpose.BASE, quote_amount=D(1))
    working = [WorkingOrder(intent, 0)]
    candle = Candle(60, 2000.0, 2000.0, 2000.0, 2000.0, 1.0)
    assert next_fill(working, candle, PRODUCT, FEES) is None
    [(refused, reason)] = unfillable(working, candle, PRODUCT, FEES)
    assert refused is working[0] and "below the minimum 0.001" in reason
    cheap = Candle(60, 500.0, 500.0, 500.0, 500.0, 1.0)  # 1 / 503 = 0.00198 -> 0.0019
    assert unfillable(working, cheap, PRODUCT, FEES) == []
    hit = next_fill(working, cheap, PRODUCT, FEES)
    assert hit is not None and hit[1].base_amount == D("0.0019")


prices = st.decimals(min_value=D("0.00001"), max_value=D("100000"), places=8)
quotes = st.decimals(min_value=D("0.01"), max_value=D("100000"), places=8)
rates = st.decimals(min_value=D(0), max_value=D("0.05"), places=6)
increments = st.sampled_from([D("1"), D("0.01"), D("0.0001"), D("0.00000001")])


@given(quote=quotes, price=prices, taker=rates, increment=increments)
def test_market_buy_never_spends_more_than_its_quote(
    quote: D, price: D, taker: D, increment: D
) -> None:
    product = ProductSpec("X-Y", "X", "Y", increment, D("0.01"), D("0.00001"), increment, D(0))
    base = market_buy_base(quote, price, product, taker)
    gross = quantize_amount(price * base)
    spent = gross + fee_for(gross, taker)
    assert base >= 0 and base % increment == 0
    assert spent <= quote
    # and it leaves less than one more increment (plus rounding dust) unspent
    assert quote - spent < price * increment * (1 + taker) + D("1e-11")


@given(
    open_=st.floats(min_value=0.01, max_value=1e5, allow_nan=False),
    base=st.integers(min_value=10, max_value=10**7),
    slippage=st.decimals(min_value=D(0), max_value=D("0.01"), places=5),
)
def test_every_fill_charges_its_rate_on_exact_amounts(open_: float, base: int, slippage: D) -> None:
    fees = FeeSchedule(taker=D("0.006"), maker=D("0.004"), slippage=slippage)
    size = D(base) * PRODUCT.base_increment
    sell = PlaceOrder("s", 1, Side.SELL, OrderType.MARKET, OrderPurpose.EXIT, base_amount=size)
    candle = Candle(0, open_, open_, open_, open_, 1.0)
    hit = next_fill([WorkingOrder(sell, 0)], candle, PRODUCT, fees)
    assert hit is not None
    fill = hit[1]
    assert fill.base_amount == size
    assert fill.quote_amount == quantize_amount(fill.price * size)
    assert fill.fee == fee_for(fill.quote_amount, D("0.006"))
    assert fill.price <= D(repr(open_))
