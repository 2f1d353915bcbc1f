"""Soft delete of bots: hidden everywhere, history kept, signals gone, name free again."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradefleet.db.models import Bot, Fill, Order, Position, Signal
from tradefleet.domain import ProductSpec
from tradefleet.services.bots import (
    BotChanges,
    BotInput,
    create_bot,
    delete_bot,
    get_bot,
    list_bots,
    set_active,
    update_bot,
)
from tradefleet.services.errors import ConflictError, NotFoundError

T0 = datetime(2026, 5, 1, tzinfo=UTC)
ETH_BTC = ProductSpec(
    product_id="ETH-BTC", base_currency="ETH", quote_currency="BTC",
    base_increment=Decimal("0.00000001"), quote_increment=Decimal("0.00001"),
    price_increment=Decimal("0.00001"), base_min_size=Decimal("0.00000001"),
    quote_min_size=Decimal("0.00001"),
)  # fmt: skip


def _bot(session: Session, name: str) -> Bot:
    data = BotInput(
        name=name,
        strategy_type="simple_dca",
        product_id="ETH-BTC",
        timeframe="1h",
        budget=Decimal("0.2"),
        strategy_config={"buy_amount": 0.01},
    )
    return create_bot(session, data, ETH_BTC)


def _closed_deal(session: Session, bot: Bot) -> None:
    """One closed deal with its filled buy and one signal."""
    deal = Position(
        bot_id=bot.id, seq=1, product_id="ETH-BTC", status="closed", opened_at=T0, closed_at=T0
    )
    session.add(deal)
    session.flush()
    order = Order(
        client_order_id=f"tf-{bot.id}-1-0", bot_id=bot.id, position_id=deal.id,
        product_id="ETH-BTC", side="buy", order_type="market", purpose="base",
        status="filled", active_from=0,
    )  # fmt: skip
    session.add(order)
    session.flush()
    fill = Fill(
        trade_id=f"t-{bot.id}", order_id=order.id, bot_id=bot.id, position_id=deal.id,
        product_id="ETH-BTC", side="buy", time=T0, price=Decimal("0.05"),
        base_amount=Decimal(1), quote_amount=Decimal("0.05"), fee=Decimal("0.0003"),
        fee_currency="BTC",
    )  # fmt: skip
    session.add(fill)
    session.add(Signal(bot_id=bot.id, candle_time=0, action="buy", reason=""))
    session.commit()


def _count(session: Session, model: type[Position | Order | Fill | Signal], bot_id: int) -> int:
    query = select(func.count()).select_from(model).where(model.bot_id == bot_id)
    return session.scalar(query) or 0


def test_delete_keeps_deals_orders_and_fills_and_removes_signals(db_session: Session) -> None:
    doomed, keep = _bot(db_session, "doomed"), _bot(db_session, "keep")
    _closed_deal(db_session, doomed)
    _closed_deal(db_session, keep)
    set_active(db_session, doomed.id, True)
    delete_bot(db_session, doomed.id)
    db_session.expire_all()
    assert [(m.__name__, _count(db_session, m, doomed.id)) for m in (Position, Order, Fill)] == [
        ("Position", 1),
        ("Order", 1),
        ("Fill", 1),
    ]
    assert _count(db_session, Signal, doomed.id) == 0
    assert _count(db_session, Signal, keep.id) == 1
    row = db_session.get(Bot, doomed.id)
    assert row is not None and row.deleted_at is not None
    assert (row.name, row.is_active) == (f"doomed (deleted {doomed.id})", False)
    assert [bot.id for bot in list_bots(db_session)] == [keep.id]
    assert [bot.id for bot in list_bots(db_session, include_deleted=True)] == [doomed.id, keep.id]


def test_a_deleted_bot_is_not_found_anywhere(db_session: Session) -> None:
    bot = _bot(db_session, "gone")
    delete_bot(db_session, bot.id)
    message = f"bot {bot.id} not found"
    with pytest.raises(NotFoundError, match=message):
        get_bot(db_session, bot.id)
    with pytest.raises(NotFoundError, match=message):
        delete_bot(db_session, bot.id)
    with pytest.raises(NotFoundError, match=message):
        set_active(db_session, bot.id, True)
    with pytest.raises(NotFoundError, match=message):
        update_bot(db_session, bot.id, BotChanges(name="back"), None)


def test_the_name_is_free_again_and_a_long_one_keeps_its_suffix(db_session: Session) -> None:
    first = _bot(db_session, "x" * 100)
    delete_bot(db_session, first.id)
    assert first.name == "x" * (100 - len(f" (deleted {first.id})")) + f" (deleted {first.id})"
    assert len(first.name) == 100
    second = _bot(db_session, "x" * 100)
    assert second.id != first.id and second.name == "x" * 100
    delete_bot(db_session, second.id)
    assert [bot.name for bot in list_bots(db_session)] == []


def test_a_taken_deleted_name_gets_a_counter(db_session: Session) -> None:
    bot = _bot(db_session, "dup")
    squatter = _bot(db_session, f"dup (deleted {bot.id})")
    delete_bot(db_session, bot.id)
    assert bot.name == f"dup (deleted {bot.id}-2)"
    assert get_bot(db_session, squatter.id).name == f"dup (deleted {bot.id})"


def test_delete_is_refused_while_a_deal_is_open(db_session: Session) -> None:
    bot = _bot(db_session, "holding")
    db_session.add(Position(bot_id=bot.id, seq=1, product_id="ETH-BTC", opened_at=T0))
    db_session.commit()
    with pytest.raises(ConflictError, match="close its positions first"):
        delete_bot(db_session, bot.id)
    assert get_bot(db_session, bot.id).deleted_at is None
    assert get_bot(db_session, bot.id).name == "holding"
