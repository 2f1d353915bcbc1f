"""Reconciliation against the fake exchange: what happened while nobody looked is stored
exactly, nothing is sent again, and what cannot be explained is reported."""

from __future__ import annotations

from decimal import Decimal

from tests.brokers.live_kit import (
    BTC_USD,
    ORDERS_PATH,
    Live,
    market_buy,
    take_profit,
)

from tradefleet.brokers.live.reconcile import reconcile
from tradefleet.db.models import Order
from tradefleet.db.session import transaction
from tradefleet.domain import OrderStatus

PRODUCTS = {"BTC-USD": BTC_USD}


async def test_nothing_moved_costs_one_listing_and_reads_no_order(live: Live) -> None:
    bot_id, deal_id = live.bot_with_a_deal()
    broker = live.broker()
    for n in range(3):
        order_id = live.intend(take_profit("0.1", f"5{n + 1}000.00", cid=f"tf-{bot_id}-1-t{n}"),
                               bot_id, deal_id)  # fmt: skip
        await broker.place(order_id, BTC_USD)
    asked = len(live.exchange.account.fake.requests)
    report = await reconcile(live.sessions, broker, PRODUCTS, [bot_id])
    assert (report.checked, report.read, report.new_fills, report.problems) == (3, 0, 0, [])
    paths = [r.path for r in live.exchange.account.fake.requests[asked:]]
    assert paths == ["/api/v3/brokerage/orders/historical/batch", "/api/v3/brokerage/accounts"]


async def test_what_happened_while_down_is_stored_exactly(live: Live) -> None:
    bot_id, deal_id = live.bot_with_a_deal()
    broker = live.broker()
    ids = {}
    for name, price in (("filled", "51000.00"), ("by_hand", "52000.00"), ("part", "53000.00")):
        cid = f"tf-{bot_id}-1-{name}"
        ids[name] = live.intend(take_profit("0.1", price, cid=cid), bot_id, deal_id)
        await broker.place(ids[name], BTC_USD)
    # while the server was down: one take profit filled, one was cancelled on Coinbase's
    # site, one filled in part
    live.exchange.trade("BTC-USD", "51000")
    live.exchange.cancel_by_hand(live.exchange.by_client(f"tf-{bot_id}-1-by_hand").order_id)
    live.exchange.trade("BTC-USD", "53000", base="0.04")
    restarted = live.broker()
    report = await reconcile(live.sessions, restarted, PRODUCTS, [bot_id])
    assert (report.checked, report.read, report.new_fills) == (3, 3, 2)
    assert dict(report.ended) == {"filled": 1, "cancelled": 1}
    filled, fills, _ = live.stored(ids["filled"])
    assert (filled.status, [f.base_amount for f in fills]) == ("filled", [Decimal("0.1")])
    assert live.stored(ids["by_hand"])[0].status == "cancelled"
    part, fills, _ = live.stored(ids["part"])
    assert (part.status, part.filled_base, len(fills)) == ("partly_filled", Decimal("0.04"), 1)
    again = await reconcile(live.sessions, restarted, PRODUCTS, [bot_id])
    assert (again.checked, again.read, again.new_fills) == (1, 0, 0)  # settled: quiet


async def test_orders_cut_off_by_a_crash_are_settled_without_sending_them_again(
    live: Live,
) -> None:
    bot_id, deal_id = live.bot_with_a_deal()
    fake = live.exchange.account.fake
    arrived = live.intend(market_buy("100.00", cid=f"tf-{bot_id}-1-b1"), bot_id, deal_id)
    lost = live.intend(market_buy("100.00", cid=f"tf-{bot_id}-2-b1"), bot_id, deal_id)
    unsent = live.intend(market_buy("100.00", cid=f"tf-{bot_id}-3-b1"), bot_id, deal_id)
    crashed = live.broker(retry_seconds=())
    fake.lose_answer("reset", path=ORDERS_PATH)  # made on the exchange, answer lost
    fake.fail(503, times=10, path="/historical/batch")  # and the look-up failed: "sent"
    assert (await crashed.place(arrived, BTC_USD)).status is OrderStatus.SENT
    fake.heal()
    fake.reset_connection(path=ORDERS_PATH)  # never reached the exchange
    fake.fail(503, times=10, path="/historical/batch")
    assert (await crashed.place(lost, BTC_USD)).status is OrderStatus.SENT
    fake.heal()
    creates = live.creates_sent()
    restarted = live.broker()
    report = await reconcile(live.sessions, restarted, PRODUCTS, [bot_id])
    assert live.creates_sent() == creates  # nothing sent again
    assert (report.checked, report.read) == (3, 3)
    assert dict(report.ended) == {"filled": 1, "rejected": 2}
    assert live.stored(arrived)[0].status == "filled"
    assert live.stored(lost)[0].error == "never reached the exchange (not in its list of orders)"
    assert live.stored(unsent)[0].error == "not sent: the server stopped before sending it"
    assert live.exchange.creates == 1


async def test_an_unknown_tradefleet_order_and_a_missing_balance_are_reported(
    live: Live,
) -> None:
    bot_id, deal_id = live.bot_with_a_deal()
    broker = live.broker()
    bought = live.intend(market_buy("100.00", cid=f"tf-{bot_id}-1-b1"), bot_id, deal_id)
    await broker.place(bought, BTC_USD)
    quiet = await reconcile(live.sessions, broker, PRODUCTS, [bot_id])
    assert quiet.problems == []
    # orders this database never made: one with tradefleet's prefix, one the user's own
    live.exchange.place_by_hand("tf-999-1-t1", "BTC-USD", "SELL", "0.2", "60000")
    live.exchange.place_by_hand("my-own-order", "BTC-USD", "SELL", "0.1", "61000")
    live.exchange.account.balances["BTC"] = (Decimal("0.001"), Decimal("0.3"))
    report = await reconcile(live.sessions, broker, PRODUCTS, [bot_id])
    assert report.unknown_orders == ["tf-999-1-t1"]
    assert report.shortfalls == []  # 0.301 on the account covers the deal's 0.0019762845
    live.exchange.account.balances["BTC"] = (Decimal("0.001"), Decimal(0))
    # an order judged never to have arrived (stored rejected) that turns up open later
    late = live.intend(take_profit("0.001", "70000", cid=f"tf-{bot_id}-1-tp9"), bot_id, deal_id)
    with transaction(live.sessions) as session:
        session.get_one(Order, late).status = "rejected"
    live.exchange.place_by_hand(f"tf-{bot_id}-1-tp9", "BTC-USD", "SELL", "0.001", "70000")
    report = await reconcile(live.sessions, broker, PRODUCTS, [bot_id])
    assert report.problems == [
        "order tf-999-1-t1 is open on the exchange but unknown here",
        f"order tf-{bot_id}-1-tp9 is open on the exchange but stored as rejected",
        "BTC: the open deals hold 0.0019762845, the account has 0.001",
    ]


async def test_every_page_of_open_orders_is_read_past_ccxt_s_ten(live: Live) -> None:
    """ccxt stops a listing after 10 pages unless told; then the orders past them would
    each be read one by one (or, in a look-up, missed)."""
    bot_id, deal_id = live.bot_with_a_deal()
    broker = live.broker()
    for n in range(23):
        cid = f"tf-{bot_id}-1-t{n}"
        order_id = live.intend(take_profit("0.01", f"{51000 + n}.00", cid=cid), bot_id, deal_id)
        await broker.place(order_id, BTC_USD)
    live.exchange.page_limit = 2  # 12 pages of open orders
    report = await reconcile(live.sessions, broker, PRODUCTS, [bot_id])
    assert (report.checked, report.read, report.problems) == (23, 0, [])
    assert live.exchange.account.fake.count("/historical/batch") == 12
