"""Live orders when the exchange stops answering: a request held past the client's
timeout, after the exchange acted or before it did (and then acts late). The real ccxt
client times out (``RequestTimeout``), which is an unknown outcome like any other: the
same client order id is sent again, and the fake's book must end with exactly one order.
"""

from __future__ import annotations

import asyncio

import pytest
from tests.brokers.live_kit import BTC_USD, ORDERS_PATH, Live, market_buy, take_profit

from tradefleet.domain import OrderStatus

TIMEOUT_MS = 300  # the client gives up after 0.3 s; the fake holds its answer for 1 s
HELD = 1.0


async def test_an_answer_held_past_the_timeout_after_acting_makes_one_order(live: Live) -> None:
    live.exchange.account.fake.hang(HELD, path=ORDERS_PATH)
    order_id = live.intend(market_buy("100.00"))
    outcome = await live.broker(timeout_ms=TIMEOUT_MS).place(order_id, BTC_USD)
    assert outcome.status is OrderStatus.FILLED
    assert (live.creates_sent(), live.exchange.creates, len(live.exchange.orders)) == (2, 1, 1)
    order, fills, events = live.stored(order_id)
    assert order.exchange_order_id == live.exchange.by_client("tf-1-1-b1").order_id
    assert len(fills) == 1
    assert events == ["intent", "sent", "open", "filled"]


@pytest.mark.parametrize("order", ["market buy", "take profit"])
async def test_a_request_the_exchange_acts_on_late_still_makes_one_order(
    live: Live, order: str
) -> None:
    """The first request is held unhandled past the timeout; the resend makes the order,
    and when the held one is handled at last the exchange answers its client order id
    with the order it already has."""
    intent = market_buy("100.00") if order == "market buy" else take_profit("0.001", "60000")
    live.exchange.account.fake.hang(HELD, path=ORDERS_PATH, acted=False)
    order_id = live.intend(intent)
    outcome = await live.broker(timeout_ms=TIMEOUT_MS).place(order_id, BTC_USD)
    for _ in range(100):  # the held request reaches the exchange about HELD s after it left
        if live.exchange.repeats:
            break
        await asyncio.sleep(0.05)
    expected = OrderStatus.FILLED if order == "market buy" else OrderStatus.OPEN
    assert outcome.status is expected
    assert (len(live.exchange.orders), live.exchange.creates) == (1, 1)
    assert live.exchange.repeats == 1  # the held request did reach the exchange, late
    made = live.exchange.by_client(intent.client_order_id)
    stored, fills, _events = live.stored(order_id)
    assert stored.exchange_order_id == made.order_id
    assert len(fills) == (1 if order == "market buy" else 0)
