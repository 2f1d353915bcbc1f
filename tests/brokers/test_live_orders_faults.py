"""Whatever fails, and in whatever order, no order is made twice and no fill is lost
(hypothesis): every request of a few orders' lives may meet a fault (an answer lost after
the exchange acted: cut, reset or 504; the exchange down: 503; a 429; a connection reset
before anything happened). After the faults heal, a restarted service reconciles, and the
database then equals the fake exchange's book: one order per client order id, the same
status, the same fills to the last digit."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker
from tests.brokers.live_kit import BTC_USD, Live, live_exchange, market_buy, take_profit
from tests.fakes.coinbase_server import RATE_LIMIT_HTML, V3, Failure

from tradefleet.brokers.live.reconcile import reconcile
from tradefleet.domain import OrderStatus

FAULTS = ("none", "lost-cut", "lost-reset", "lost-504", "down-503", "busy-429", "reset")
# Where a fault strikes: the next order request (create or cancel), the next read of
# orders or fills, or whatever request comes next (market and account reads too).
TARGETS = {"order": ("POST", V3), "read": ("GET", "/orders/historical"), "any": (None, None)}
RUNS = itertools.count(1)
Fault = tuple[str, str]


def _failure(kind: str, target: str) -> Failure:
    method, path = TARGETS[target]
    gateway_page = "<html><body><h1>504 Gateway Time-out</h1></body></html>"
    made: dict[str, Failure] = {
        "none": Failure("none"),
        "lost-cut": Failure("after-cut"),
        "lost-reset": Failure("after-reset"),
        "lost-504": Failure("after-status", 504, gateway_page, "text/html"),
        "down-503": Failure("status", 503),
        "busy-429": Failure(
            "status", 429, RATE_LIMIT_HTML, "text/html", headers={"Retry-After": "1"}
        ),
        "reset": Failure("reset"),
    }
    failure = made[kind]
    failure.method, failure.path = method, path
    return failure


async def _scenario(sessions: sessionmaker[Session], faults: list[Fault]) -> None:
    run = next(RUNS)
    async with live_exchange(sessions) as live:
        bot_id, deal_id = live.bot_with_a_deal(name=f"faults-{run}")
        intents = [
            market_buy("100.00", cid=f"tf-{bot_id}-1-b{run}"),
            take_profit("0.2", "51000.00", cid=f"tf-{bot_id}-1-t{run}"),
            market_buy("50.00", cid=f"tf-{bot_id}-2-b{run}"),
        ]
        ids = [live.intend(intent, bot_id, deal_id) for intent in intents]
        fake = live.exchange.account.fake
        fake.failures.extend(_failure(kind, target) for kind, target in faults)
        broker = live.broker(retry_seconds=(0.0, 0.0), clock=[0.0])
        for order_id in ids:
            # a read after the send may fail: the order is settled by the reconcile below
            with contextlib.suppress(Exception):
                await broker.place(order_id, BTC_USD)
        live.exchange.trade("BTC-USD", "51000", base="0.05")  # the take profit fills in part
        fake.heal()
        restarted = live.broker(clock=[0.0])
        products = {"BTC-USD": BTC_USD}
        report = await reconcile(live.sessions, restarted, products, [bot_id])
        assert report.problems == []
        _assert_equal_books(live, ids)


def _assert_equal_books(live: Live, ids: list[int]) -> None:
    exchange = live.exchange
    assert exchange.creates == len(exchange.orders) == len(exchange.by_client_id)
    for order_id in ids:
        order, fills, events = live.stored(order_id)
        made = exchange.orders.get(exchange.by_client_id.get(order.client_order_id, ""))
        if made is None:
            assert order.status == OrderStatus.REJECTED.value, (order.status, events)
            assert fills == []
            continue
        assert order.exchange_order_id == made.order_id
        expected = {"OPEN": "partly_filled" if made.filled_size else "open", "FILLED": "filled"}
        assert order.status == expected[made.status], (order.status, made.status, events)
        on_exchange = sorted(
            (f"coinbase:{f['trade_id']}", Decimal(f["size"]), Decimal(f["price"]),
             Decimal(f["commission"]))
            for f in exchange.fills if f["order_id"] == made.order_id
        )  # fmt: skip
        stored = sorted((f.trade_id, f.base_amount, f.price, f.fee) for f in fills)
        assert stored == on_exchange
        assert order.filled_base == made.filled_size


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    faults=st.lists(st.tuples(st.sampled_from(FAULTS), st.sampled_from(sorted(TARGETS))),
                    max_size=10)
)  # fmt: skip
def test_no_fault_sequence_duplicates_an_order_or_loses_a_fill(
    session_factory: sessionmaker[Session], faults: list[Fault]
) -> None:
    asyncio.run(_scenario(session_factory, faults))
