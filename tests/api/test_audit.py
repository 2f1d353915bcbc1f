"""``tradefleet.audit`` finds what the load tests rely on it to find."""

from __future__ import annotations

from decimal import Decimal

from api_testkit import T0, add_bot, add_order_with_fill, add_position
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.audit import duplicate_problems, ledger_problems
from tradefleet.db.models import Order, PaperBalance


def _seed(session_factory: sessionmaker[Session], eth_total: str) -> int:
    """A closed deal on ETH-BTC: buy 2 ETH at 0.05 (fee 0.0003), sell them at 0.06 (fee
    0.00036). BTC: 1 - 0.1003 + 0.11964 = 1.01934; ETH: 10 + 2 - 2 = 10."""
    with session_factory() as session:
        bot = add_bot(session)
        deal = add_position(session, bot, 1, status="closed")
        add_order_with_fill(
            session, deal, 0, side="buy", price="0.05", base="2", fee="0.0003", time=T0
        )
        sell = add_order_with_fill(
            session, deal, 1, side="sell", price="0.06", base="2", fee="0.00036", time=T0
        )
        session.add_all(
            [
                PaperBalance(currency="BTC", total=Decimal("1.01934"), starting=Decimal(1)),
                PaperBalance(currency="ETH", total=Decimal(eth_total), starting=Decimal(10)),
            ]
        )
        session.commit()
        return sell.id


def test_an_exact_ledger_has_no_problems(session_factory: sessionmaker[Session]) -> None:
    _seed(session_factory, "10")
    assert ledger_problems(session_factory) == []
    assert duplicate_problems(session_factory) == []


def test_a_balance_off_by_one_unit_is_named(session_factory: sessionmaker[Session]) -> None:
    _seed(session_factory, "10.000000000000000001")
    assert ledger_problems(session_factory) == ["ETH: balance 10.000000000000000001 != ledger 10"]


def test_an_order_whose_fills_do_not_add_up_is_named(
    session_factory: sessionmaker[Session],
) -> None:
    sell_id = _seed(session_factory, "10")
    with session_factory() as session:
        sell = session.get(Order, sell_id)
        assert sell is not None
        sell.filled_base = Decimal(4)  # as if its fill had been counted twice
        session.commit()
    assert duplicate_problems(session_factory) == [
        "order tf-1-1-1: filled 4 base, 0.12 quote, fee 0.00036; "
        "its fills add up to 2, 0.12, 0.00036"
    ]
