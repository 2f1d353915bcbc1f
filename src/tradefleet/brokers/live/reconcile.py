"""Reconciliation: what the exchange says wins over what the database believes.

Run at start-up and on every cycle over the live bots' working orders (intent, sent,
open, partly filled):

- one listing of the account's open orders (paged) answers for every order still open:
  only those whose filled amount moved are read further (their fills);
- an order no longer open ended while nobody looked (filled, cancelled by hand on the
  exchange, expired): it is read and its end stored exactly, fills included;
- an order stored as intent was never sent: a resting one is sent now, a market one is
  rejected unsent; one stored as sent is looked for on the exchange, never sent again
  (``LiveOrders.settle``).

What it cannot explain is reported, never guessed: an open order on the exchange that
carries tradefleet's client order id prefix but is unknown to the database, and a
currency of which the account holds less than the live bots' open deals bought.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.brokers.live.gateway import ExchangeOrder
from tradefleet.brokers.live.orders import LiveOrders
from tradefleet.db.models import Fill, Order, Position
from tradefleet.db.session import transaction
from tradefleet.domain import WORKING_STATUSES, OrderStatus, ProductSpec
from tradefleet.money import ZERO

CLIENT_ORDER_PREFIX = "tf-"  # every deal order's id (deals.book.client_order_id)
WORKING = WORKING_STATUSES


@dataclass(slots=True)
class Reconciliation:
    """What one pass found and did."""

    checked: int = 0  # working orders in the database
    read: int = 0  # of them, read one by one (they moved or ended)
    new_fills: int = 0
    ended: Counter[str] = field(default_factory=Counter)  # final status -> orders
    moved_bots: set[int] = field(default_factory=set)  # bots with an order that moved
    unknown_orders: list[str] = field(default_factory=list)
    # open on the exchange, but stored as ended (one found missing, which then arrived)
    stray_orders: list[tuple[str, str]] = field(default_factory=list)  # (id, status)
    shortfalls: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """What stops the live bots from opening deals until someone looks."""
        unknown = [
            f"order {cid} is open on the exchange but unknown here" for cid in self.unknown_orders
        ]
        stray = [
            f"order {cid} is open on the exchange but stored as {status}"
            for cid, status in self.stray_orders
        ]
        return unknown + stray + self.shortfalls


async def reconcile(
    sessions: sessionmaker[Session],
    orders: LiveOrders,
    products: Mapping[str, ProductSpec],
    bot_ids: Collection[int],
) -> Reconciliation:
    """Check every working order of ``bot_ids`` against the exchange of ``orders``'s
    gateway (module rules)."""
    gateway = orders.gateway
    report = Reconciliation()
    working = _working_orders(sessions, bot_ids)
    report.checked = len(working)
    open_now = {order.order_id: order for order in await gateway.open_orders()}
    for order_id, exchange_order_id, status, filled, product_id, bot_id in working:
        product = products[product_id]
        listed = open_now.get(exchange_order_id) if exchange_order_id else None
        if listed is not None and listed.filled_base == filled:
            continue  # open, and nothing happened to it
        if status == OrderStatus.WATCHED.value:
            continue  # a stop the engine watches: not on the exchange
        report.read += 1
        if status in (OrderStatus.INTENT.value, OrderStatus.SENT.value):
            outcome = await orders.settle(order_id, product)
        else:
            outcome = await orders.refresh(order_id, product, listed)
        report.new_fills += outcome.new_fills
        if outcome.new_fills or outcome.status.value != status:
            report.moved_bots.add(bot_id)
        if outcome.status.value not in WORKING:
            report.ended[outcome.status.value] += 1
    report.unknown_orders, report.stray_orders = _unknown(sessions, open_now.values())
    report.shortfalls = _shortfalls(sessions, bot_ids, await gateway.balances(), products)
    return report


def _working_orders(
    sessions: sessionmaker[Session], bot_ids: Collection[int]
) -> list[tuple[int, str | None, str, Decimal, str, int]]:
    with transaction(sessions) as session:
        rows = session.execute(
            select(Order.id, Order.exchange_order_id, Order.status, Order.filled_base,
                   Order.product_id, Order.bot_id)
            .where(Order.bot_id.in_(list(bot_ids)), Order.status.in_(WORKING))
            .order_by(Order.id)
        ).all()  # fmt: skip
    return [(r[0], r[1], r[2], r[3], r[4], int(r[5] or 0)) for r in rows]  # bot_id: in bot_ids


def _unknown(
    sessions: sessionmaker[Session], listed: Collection[ExchangeOrder]
) -> tuple[list[str], list[tuple[str, str]]]:
    """Open orders with our prefix that no stored order accounts for, and those whose
    stored order ended (an order judged never to have arrived, which arrived later)."""
    ours = sorted(
        order.client_order_id
        for order in listed
        if order.client_order_id.startswith(CLIENT_ORDER_PREFIX)
    )
    if not ours:
        return [], []
    with transaction(sessions) as session:
        stored = dict(
            session.execute(
                select(Order.client_order_id, Order.status).where(Order.client_order_id.in_(ours))
            ).all()
        )
    unknown = [cid for cid in ours if cid not in stored]
    stray = [(cid, stored[cid]) for cid in ours if cid in stored and stored[cid] not in WORKING]
    return unknown, stray


def _shortfalls(
    sessions: sessionmaker[Session],
    bot_ids: Collection[int],
    balances: Mapping[str, Decimal],
    products: Mapping[str, ProductSpec],
) -> list[str]:
    """Currencies of which the account holds less than the open deals bought."""
    with transaction(sessions) as session:  # summed here: SQLite keeps money as text
        rows = session.execute(
            select(Fill.product_id, Fill.side, Fill.base_amount)
            .join(Position, Position.id == Fill.position_id)
            .where(Position.bot_id.in_(list(bot_ids)), Position.status == "open")
        ).all()
    held: dict[str, Decimal] = {}
    for product_id, side, base in rows:
        currency = products[product_id].base_currency
        held[currency] = held.get(currency, ZERO) + (base if side == "buy" else -base)
    return [
        f"{currency}: the open deals hold {amount:f}, the account has "
        f"{balances.get(currency, ZERO):f}"
        for currency, amount in sorted(held.items())
        if balances.get(currency, ZERO) < amount
    ]
