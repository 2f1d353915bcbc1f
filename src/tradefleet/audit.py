"""Checks that the books add up: what a crash, a kill or a burst of requests must never
break. Used by the load benchmark and the tests after they hammer a real server.

- The paper ledger: every balance equals its starting amount plus the fills minus the
  fees, exactly; every hold equals what open buys reserve (quote) plus what open deals
  hold (base).
- Exactly once: no client order id twice, no exchange trade id twice, and every order's
  filled amounts and fee equal the sum of its fills (a fill recorded twice breaks it).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.db.models import Fill, Order, PaperBalance, Position
from tradefleet.market.products import split_product_id


def ledger_problems(sessions: sessionmaker[Session]) -> list[str]:
    """Where the paper balances and holds differ from the fills and open orders."""
    problems: list[str] = []
    with sessions() as session:
        expected: dict[str, Decimal] = defaultdict(Decimal)
        balances = {row.currency: row for row in session.scalars(select(PaperBalance))}
        for currency, row in balances.items():
            expected[currency] += row.starting
        for fill in session.scalars(select(Fill)):
            base, quote = split_product_id(fill.product_id)
            if fill.side == "buy":
                expected[base] += fill.base_amount
                expected[quote] -= fill.quote_amount + fill.fee
            else:
                expected[base] -= fill.base_amount
                expected[quote] += fill.quote_amount - fill.fee
        for currency, amount in expected.items():
            actual = balances[currency].total if currency in balances else Decimal(0)
            if actual != amount:
                problems.append(f"{currency}: balance {actual} != ledger {amount}")
        held: dict[str, Decimal] = defaultdict(Decimal)
        for order in session.scalars(select(Order).where(Order.status == "open")):
            held[split_product_id(order.product_id)[1]] += order.reserved
        for deal in session.scalars(select(Position).where(Position.status == "open")):
            held[split_product_id(deal.product_id)[0]] += deal.base_amount
        for currency, row in balances.items():
            if row.hold != held[currency]:
                problems.append(f"{currency}: hold {row.hold} != open buys {held[currency]}")
    return problems


def duplicate_problems(sessions: sessionmaker[Session]) -> list[str]:
    """Client order ids or trade ids seen twice, and orders whose fills do not add up."""
    problems: list[str] = []
    with sessions() as session:
        for column, what in (
            (Order.client_order_id, "client order id"),
            (Fill.trade_id, "trade id"),
        ):
            twice = session.execute(
                select(column, func.count()).group_by(column).having(func.count() > 1)
            ).all()
            problems += [f"{what} {value} recorded {count} times" for value, count in twice]
        sums: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
        for fill in session.scalars(select(Fill)):
            totals = sums[fill.order_id]
            totals[0] += fill.base_amount
            totals[1] += fill.quote_amount
            totals[2] += fill.fee
        for order in session.scalars(select(Order)):
            totals = sums.get(order.id, [Decimal(0)] * 3)
            if [order.filled_base, order.filled_quote, order.fee] != totals:
                problems.append(
                    f"order {order.client_order_id}: filled {order.filled_base} base, "
                    f"{order.filled_quote} quote, fee {order.fee}; its fills add up to "
                    f"{totals[0]}, {totals[1]}, {totals[2]}"
                )
    return problems
