"""Live orders exactly once, with the real ccxt client against the local fake exchange.

Every request is signed by ccxt and its JWT checked by the fake; every fault is the
fake's: an answer lost after the exchange acted (cut, reset, 504), the exchange down, a
restart between sending and storing. Each test checks the stored orders, fills and
events against the fake's own book: one order per client order id, whatever failed.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal

import pytest
from sqlalchemy import select
from tests.brokers.live_kit import (
    BTC_USD,
    ORDERS_PATH,
    Live,
    market_buy,
    take_profit,
)
from tests.fakes.coinbase_server import RATE_LIMIT_HTML

from tradefleet.db.models import Base
from tradefleet.db.session import transaction
from tradefleet.domain import FeeSchedule, OrderStatus
from tradefleet.redact import RedactingFilter

# 100.00 USD at 50,000 with the fake's 1.2 % taker fee, worked by hand: value =
# 100 / 1.012 = 98.8142292490..., base = value / 50000 cut to 10 places = 0.0019762845
# (not on the 0.00000001 increment: Coinbase does not round it), quote = base x 50000 =
# 98.814225, fee = 98.814225 x 0.012 = 1.1857707; spent 99.9999957 of the 100.
BOUGHT = Decimal("0.0019762845")
BOUGHT_VALUE = Decimal("98.814225")
BOUGHT_FEE = Decimal("1.1857707")


async def test_a_market_buy_by_quote_is_sent_as_rounded_and_filled_as_reported(live: Live) -> None:
    order_id = live.intend(market_buy("100.00"))
    outcome = await live.broker().place(order_id, BTC_USD)
    assert outcome.status is OrderStatus.FILLED and outcome.new_fills == 1
    made = live.exchange.by_client("tf-1-1-b1")
    assert made.configuration == {"market_market_ioc": {"quote_size": "100.00"}}
    order, fills, events = live.stored(order_id)
    assert order.exchange_order_id == made.order_id
    assert (order.filled_base, order.filled_quote, order.fee) == (BOUGHT, BOUGHT_VALUE, BOUGHT_FEE)
    assert [(f.price, f.base_amount, f.quote_amount, f.fee, f.side) for f in fills] == [
        (Decimal(50000), BOUGHT, BOUGHT_VALUE, BOUGHT_FEE, "buy")
    ]
    assert fills[0].trade_id == f"coinbase:{live.exchange.fills[0]['trade_id']}"
    assert events == ["intent", "sent", "open", "filled"]
    usd, btc = live.exchange.account.balances["USD"], live.exchange.account.balances["BTC"]
    assert usd == (Decimal(10000) - BOUGHT_VALUE - BOUGHT_FEE, 0)
    assert btc == (1 + BOUGHT, 0)


@pytest.mark.parametrize("lost", ["cut", "reset", "status"])
async def test_an_answer_lost_after_the_exchange_acted_makes_one_order(
    live: Live, lost: str
) -> None:
    live.exchange.account.fake.lose_answer(lost, path=ORDERS_PATH)
    order_id = live.intend(market_buy("100.00"))
    outcome = await live.broker().place(order_id, BTC_USD)
    assert outcome.status is OrderStatus.FILLED
    assert live.creates_sent() == 2  # sent again, with the same client order id
    assert (live.exchange.creates, len(live.exchange.orders)) == (1, 1)
    order, fills, events = live.stored(order_id)
    assert order.exchange_order_id == live.exchange.by_client("tf-1-1-b1").order_id
    assert [f.base_amount for f in fills] == [BOUGHT]
    assert events == ["intent", "sent", "open", "filled"]


async def test_an_order_never_answered_is_found_in_the_exchange_s_own_list(live: Live) -> None:
    live.exchange.account.fake.lose_answer("reset", times=3, path=ORDERS_PATH)
    order_id = live.intend(market_buy("100.00"))
    outcome = await live.broker().place(order_id, BTC_USD)  # three sends, every answer lost
    assert outcome.status is OrderStatus.FILLED
    assert (live.creates_sent(), live.exchange.creates) == (3, 1)
    order, fills, events = live.stored(order_id)
    assert order.exchange_order_id == live.exchange.by_client("tf-1-1-b1").order_id
    assert len(fills) == 1
    assert events == ["intent", "sent", "open", "filled"]


async def test_an_exchange_down_leaves_the_order_sent_until_a_restart_settles_it(
    live: Live,
) -> None:
    fake = live.exchange.account.fake
    fake.lose_answer("status", path=ORDERS_PATH)  # the exchange made it, the answer was lost
    fake.fail(503, times=10, path=ORDERS_PATH)  # then the exchange is down
    order_id = live.intend(market_buy("100.00"))
    outcome = await live.broker().place(order_id, BTC_USD)
    assert outcome.status is OrderStatus.SENT
    assert outcome.reason is not None and "outcome unknown" in outcome.reason
    assert "503" in outcome.reason
    order, fills, _events = live.stored(order_id)
    assert (order.status, order.exchange_order_id, fills) == ("sent", None, [])
    fake.heal()
    restarted = live.broker()  # a new process: the stored "sent" order is settled first
    settled = await restarted.place(order_id, BTC_USD)
    assert settled.status is OrderStatus.FILLED
    assert (live.exchange.creates, len(live.exchange.orders)) == (1, 1)
    order, fills, events = live.stored(order_id)
    assert order.exchange_order_id == live.exchange.by_client("tf-1-1-b1").order_id
    assert len(fills) == 1
    assert events == ["intent", "sent", "sent", "open", "filled"]


async def test_a_whole_refusal_rejects_the_order_without_sending_it_again(live: Live) -> None:
    order_id = live.intend(market_buy("20000.00"))  # more than the 10,000 USD there is
    outcome = await live.broker().place(order_id, BTC_USD)
    assert outcome.status is OrderStatus.REJECTED
    assert outcome.reason == "INSUFFICIENT_FUND: Insufficient balance in source account"
    assert (live.creates_sent(), live.exchange.creates) == (1, 0)
    order, _fills, events = live.stored(order_id)
    assert (order.status, order.error) == ("rejected", outcome.reason)
    assert events == ["intent", "sent", "rejected"]


async def test_an_order_the_product_cannot_take_is_never_sent(live: Live) -> None:
    order_id = live.intend(market_buy("0.50"))  # the minimum is 1 USD
    outcome = await live.broker().place(order_id, BTC_USD)
    assert outcome.status is OrderStatus.REJECTED
    assert outcome.reason is not None and "minimum" in outcome.reason
    assert live.creates_sent() == 0
    assert live.stored(order_id)[2] == ["rejected"]


async def test_a_post_only_take_profit_rests_and_fills_in_parts(live: Live) -> None:
    broker = live.broker()
    order_id = live.intend(take_profit("0.5", "51000.00"))
    assert (await broker.place(order_id, BTC_USD)).status is OrderStatus.OPEN
    made = live.exchange.by_client("tf-1-1-t1")
    assert made.configuration == {
        "limit_limit_gtc": {"base_size": "0.50000000", "limit_price": "51000.00", "post_only": True}
    }
    assert live.exchange.account.balances["BTC"] == (Decimal("0.5"), Decimal("0.5"))
    live.exchange.trade("BTC-USD", "51000", base="0.2")
    part = await broker.refresh(order_id, BTC_USD)
    assert (part.status, part.new_fills) == (OrderStatus.PARTLY_FILLED, 1)
    live.exchange.trade("BTC-USD", "51500")
    done = await broker.refresh(order_id, BTC_USD)
    assert (done.status, done.new_fills) == (OrderStatus.FILLED, 1)
    again = await broker.refresh(order_id, BTC_USD)  # nothing new: nothing stored twice
    assert (again.status, again.new_fills) == (OrderStatus.FILLED, 0)
    order, fills, events = live.stored(order_id)
    # maker fee 0.6 %: 0.2 x 51000 = 10200 -> 61.2; 0.3 x 51000 = 15300 -> 91.8
    assert [(f.base_amount, f.quote_amount, f.fee) for f in fills] == [
        (Decimal("0.2"), Decimal(10200), Decimal("61.2")),
        (Decimal("0.3"), Decimal(15300), Decimal("91.8")),
    ]
    assert (order.filled_base, order.filled_quote, order.fee) == (
        Decimal("0.5"), Decimal(25500), Decimal(153)
    )  # fmt: skip
    assert events == ["intent", "sent", "open", "partly_filled", "filled"]
    assert live.exchange.account.balances["BTC"] == (Decimal("0.5"), 0)
    assert live.exchange.account.balances["USD"] == (Decimal(10000 + 25500 - 153), 0)


async def test_a_post_only_order_that_would_take_is_refused(live: Live) -> None:
    order_id = live.intend(take_profit("0.5", "49000.00"))  # below the 50,000 market
    outcome = await live.broker().place(order_id, BTC_USD)
    assert outcome.status is OrderStatus.REJECTED
    assert outcome.reason is not None and outcome.reason.startswith("INVALID_LIMIT_PRICE_POST_ONLY")
    assert live.exchange.account.balances["BTC"] == (Decimal(1), 0)  # nothing held


async def test_a_cancel_stores_what_the_exchange_says_became_of_the_order(live: Live) -> None:
    broker = live.broker()
    resting = live.intend(take_profit("0.4", "52000.00", cid="tf-1-1-t1"))
    beaten = live.intend(take_profit("0.1", "51000.00", cid="tf-1-2-t1"))
    for order_id in (resting, beaten):
        assert (await broker.place(order_id, BTC_USD)).status is OrderStatus.OPEN
    live.exchange.trade("BTC-USD", "51000")  # the second fills before its cancel arrives
    assert (await broker.cancel(resting, BTC_USD)).status is OrderStatus.CANCELLED
    late = await broker.cancel(beaten, BTC_USD)
    assert (late.status, late.new_fills) == (OrderStatus.FILLED, 1)
    assert live.stored(resting)[2] == ["intent", "sent", "open", "cancelled"]
    assert live.stored(beaten)[2] == ["intent", "sent", "open", "filled"]
    assert live.exchange.account.balances["BTC"] == (Decimal("0.9"), 0)  # the hold came back


async def test_a_hand_cancel_on_the_exchange_is_read_back(live: Live) -> None:
    broker = live.broker()
    order_id = live.intend(take_profit("0.4", "52000.00"))
    await broker.place(order_id, BTC_USD)
    live.exchange.cancel_by_hand(live.exchange.by_client("tf-1-1-t1").order_id)
    assert (await broker.refresh(order_id, BTC_USD)).status is OrderStatus.CANCELLED


async def test_a_429_pauses_the_gateway_for_its_retry_after(live: Live) -> None:
    live.exchange.account.fake.fail(
        429, body=RATE_LIMIT_HTML, content_type="text/html", path=ORDERS_PATH,
        headers={"Retry-After": "2"},
    )  # fmt: skip
    waits: list[float] = []
    order_id = live.intend(market_buy("100.00"))
    outcome = await live.broker(clock=[0.0], waits=waits).place(order_id, BTC_USD)
    assert outcome.status is OrderStatus.FILLED
    assert live.gateways[-1].pauses == [2.0]
    assert waits == [2.0]  # the next request waited it out, and only that one
    assert (live.creates_sent(), live.exchange.creates) == (2, 1)


async def test_the_fee_rates_are_the_account_s_and_are_read_again_after_a_day(
    live: Live,
) -> None:
    now = [1000.0]
    gateway = live.broker(clock=now).gateway
    summaries = "/transaction_summary"
    assert await gateway.fees() == FeeSchedule(taker=Decimal("0.012"), maker=Decimal("0.006"))
    now[0] += 23 * 3600
    live.exchange.account.fee_tier.update(taker_fee_rate="0.008", maker_fee_rate="0.004")
    assert (await gateway.fees()).taker == Decimal("0.012")  # within the day: kept
    assert live.exchange.account.fake.count(summaries) == 1
    now[0] += 2 * 3600
    assert await gateway.fees() == FeeSchedule(taker=Decimal("0.008"), maker=Decimal("0.004"))
    assert live.exchange.account.fake.count(summaries) == 2


async def test_an_order_found_after_lost_answers_carries_no_error(live: Live) -> None:
    live.exchange.account.fake.lose_answer("reset", times=3, path=ORDERS_PATH)
    order_id = live.intend(market_buy("100.00"))
    await live.broker().place(order_id, BTC_USD)
    order, _fills, _events = live.stored(order_id)
    assert (order.status, order.error) == ("filled", None)


async def test_no_key_material_reaches_a_log_line_or_the_database(
    live: Live, caplog: pytest.LogCaptureFixture
) -> None:
    """After orders through every kind of fault, neither the private key nor a signed
    token (the JWT ccxt sends as ``Authorization: Bearer``; its debug log prints every
    request's headers) is in the log, as the server's handlers write it, or any table."""
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(RedactingFilter())  # what redact_logs puts on every handler
    fake = live.exchange.account.fake
    fake.lose_answer("cut", path=ORDERS_PATH)
    fake.fail(503, path=ORDERS_PATH)
    fake.fail(429, body=RATE_LIMIT_HTML, content_type="text/html", path=ORDERS_PATH)
    broker = live.broker(clock=[0.0])
    for n, intent in enumerate((market_buy("100.00"), take_profit("0.1", "55000.00"))):
        order_id = live.intend(intent)
        await broker.place(order_id, BTC_USD)
        if n == 1:
            await broker.cancel(order_id, BTC_USD)
    pem_lines = [line for line in live.key.private_key.get_secret_value().splitlines()
                 if line and not line.startswith("-----")]  # fmt: skip
    with transaction(live.sessions) as session:
        stored = " ".join(
            str(row)
            for table in Base.metadata.sorted_tables
            for row in session.execute(select(table)).all()
        )
    for text in (caplog.text, stored):
        assert re.search(r"Bearer (?!\*\*\*)", text) is None  # shown as "Bearer ***"
        assert "eyJ" not in text  # no JWT anywhere (its parts start with base64 of '{"')
        for line in pem_lines:
            assert line not in text
