"""Constraints the database enforces itself: unique keys and ON DELETE CASCADE, both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.db.models import Base, Bot, Fill, Order, Position, Signal

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _bot(name: str = "dca-eth") -> Bot:
    return Bot(
        name=name, strategy_type="rsi", product_id="ETH-BTC", timeframe="5m", budget=Decimal("0.5")
    )


def _position(bot: Bot, seq: int = 1) -> Position:
    return Position(bot=bot, seq=seq, product_id="ETH-BTC", opened_at=T0)


def _order(position: Position, client_order_id: str = "tf-1-1-0") -> Order:
    return Order(
        client_order_id=client_order_id,
        bot_id=position.bot.id,
        position=position,
        product_id="ETH-BTC",
        side="buy",
        order_type="market",
        purpose="entry",
        quote_amount=Decimal("0.05"),
        active_from=1714564800,
    )


def _fill(order: Order, trade_id: str = "t-1") -> Fill:
    return Fill(
        trade_id=trade_id,
        order=order,
        bot_id=order.bot_id,
        position_id=order.position_id,
        product_id="ETH-BTC",
        side="buy",
        time=T0,
        price=Decimal("0.05123"),
        base_amount=Decimal("0.97"),
        quote_amount=Decimal("0.0496931"),
        fee=Decimal("0.0002981586"),
        fee_currency="BTC",
    )


def _deal(session: Session, name: str = "dca-eth") -> Bot:
    """A committed bot with one deal, one order, one fill and one signal."""
    bot = _bot(name)
    position = _position(bot)
    session.add_all([bot, position])
    session.flush()
    order = _order(position, client_order_id=f"{name}-1-0")
    session.add(order)
    session.flush()
    session.add(_fill(order, trade_id=f"{name}-t1"))
    session.add(Signal(bot_id=bot.id, candle_time=1714564800, action="buy", price=Decimal("0.05")))
    session.commit()
    return bot


def _count(session: Session, model: type[Base], **where: object) -> int:
    query = select(func.count()).select_from(model).filter_by(**where)
    return session.scalar(query) or 0


def _add_second_position(session: Session) -> None:
    bot = session.scalars(select(Bot)).one()
    session.add(_position(bot, seq=1))


def _add_second_order(session: Session) -> None:
    position = session.scalars(select(Position)).one()
    session.add(_order(position, client_order_id="dca-eth-1-0"))


def _add_second_fill(session: Session) -> None:
    order = session.scalars(select(Order)).one()
    session.add(_fill(order, trade_id="dca-eth-t1"))


@pytest.mark.parametrize(
    ("add_duplicate", "sqlite_words", "postgres_constraint"),
    [
        (lambda session: session.add(_bot("dca-eth")), "bots.name", "uq_bots_name"),
        (_add_second_position, "positions.bot_id, positions.seq", "uq_positions_bot_seq"),
        (_add_second_order, "orders.client_order_id", "uq_orders_client_order_id"),
        (_add_second_fill, "fills.trade_id", "uq_fills_trade_id"),
    ],
    ids=["bot name", "bot_id+seq", "client_order_id", "trade_id"],
)
def test_duplicate_keys_are_refused(
    session_factory: sessionmaker[Session],
    add_duplicate: Callable[[Session], None],
    sqlite_words: str,
    postgres_constraint: str,
) -> None:
    with session_factory() as session:
        _deal(session)
    with session_factory() as session:
        add_duplicate(session)
        with pytest.raises(IntegrityError) as caught:
            session.commit()
    message = str(caught.value.orig)
    assert f"UNIQUE constraint failed: {sqlite_words}" in message or (
        f'unique constraint "{postgres_constraint}"' in message
    )


def test_same_seq_in_another_bot_is_allowed(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        _deal(session, "first")
        _deal(session, "second")
        assert _count(session, Position, seq=1) == 2


def _assert_only_survivor_left(session: Session, survivor: Bot) -> None:
    for model in (Position, Order, Fill, Signal):
        assert _count(session, model) == 1, model.__name__
        assert _count(session, model, bot_id=survivor.id) == 1, model.__name__
    assert session.scalars(select(Bot.name)).all() == ["keep"]


def test_deleting_a_bot_in_sql_cascades_to_its_deals(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session:
        doomed = _deal(session, "doomed")
        survivor = _deal(session, "keep")
        session.execute(delete(Bot).where(Bot.id == doomed.id))
        session.commit()
    with session_factory() as session:
        _assert_only_survivor_left(session, survivor)


def test_deleting_a_loaded_bot_through_the_orm_cascades_too(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session:
        _deal(session, "doomed")
        survivor = _deal(session, "keep")
    with session_factory() as session:
        doomed = session.scalars(select(Bot).where(Bot.name == "doomed")).one()
        assert [len(p.orders[0].fills) for p in doomed.positions] == [1]  # children loaded
        session.delete(doomed)
        session.commit()
    with session_factory() as session:
        _assert_only_survivor_left(session, survivor)


def test_a_position_of_a_missing_bot_is_refused(db_session: Session) -> None:
    db_session.add(Position(bot_id=999, seq=1, product_id="ETH-BTC", opened_at=T0))
    with pytest.raises(IntegrityError):
        db_session.commit()
