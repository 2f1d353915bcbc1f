"""Database persistence of the engine: load a bot's runtime, write a step's changes.

Everything one step changed (orders, fills, deals, balances) is written by the caller
inside one transaction, so after a crash the step is either fully there or redone from
the same candles with the same deterministic client order ids.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradefleet.db.models import Bot, Fill, Order, Position
from tradefleet.deals.state import OPEN, DealState, restore
from tradefleet.domain import Fill as FillEvent
from tradefleet.domain import OrderPurpose, OrderStatus, OrderType, PlaceOrder, Side
from tradefleet.engine.events import StepEvents
from tradefleet.engine.runtime import BotRuntime, OrderBook

WORKING_STATUSES = (OrderStatus.PENDING.value, OrderStatus.OPEN.value)


def to_datetime(unix_seconds: int) -> datetime:
    return datetime.fromtimestamp(unix_seconds, tz=UTC)


def load_deals(session: Session, bot: Bot) -> tuple[list[DealState], dict[int, int]]:
    """The bot's open deals and a map deal seq -> positions.id."""
    rows = session.scalars(
        select(Position).where(Position.bot_id == bot.id, Position.status == OPEN)
    ).all()
    deals = []
    for row in rows:
        values = {name: getattr(row, name) for name in row.__mapper__.columns.keys()}  # noqa: SIM118
        deals.append(DealState.from_columns(values))
    return deals, {row.seq: row.id for row in rows}


def load_orders(
    session: Session, bot: Bot, seq_by_position: dict[int, int]
) -> tuple[list[PlaceOrder], OrderBook]:
    """Working orders of the bot's open deals, as intents plus the engine's order book."""
    rows = session.scalars(
        select(Order)
        .where(Order.bot_id == bot.id, Order.status.in_(WORKING_STATUSES))
        .order_by(Order.id)
    ).all()
    intents: list[PlaceOrder] = []
    book = OrderBook()
    for row in rows:
        if row.position_id is None or row.position_id not in seq_by_position:
            continue
        intent = PlaceOrder(
            client_order_id=row.client_order_id,
            deal_seq=seq_by_position[row.position_id],
            side=Side(row.side),
            order_type=OrderType(row.order_type),
            purpose=OrderPurpose(row.purpose),
            base_amount=row.base_amount,
            quote_amount=row.quote_amount,
            price=row.limit_price,
            trigger_price=row.trigger_price,
        )
        intents.append(intent)
        book.active_from[row.client_order_id] = row.active_from
        book.row_ids[row.client_order_id] = row.id
        if row.side == Side.BUY.value:
            book.reserved[row.client_order_id] = row.reserved
    return intents, book


def restore_state(session: Session, bot: Bot) -> tuple[Any, OrderBook, dict[int, int]]:
    deals, position_ids = load_deals(session, bot)
    seq_by_position = {pid: seq for seq, pid in position_ids.items()}
    intents, book = load_orders(session, bot, seq_by_position)
    state = restore(bot.id, bot.manager_state or {}, deals, intents)
    return state, book, position_ids


def persist_step(session: Session, runtime: BotRuntime, events: StepEvents) -> None:
    """Write the deals, orders and fills a step produced (balances: ``account.flush``)."""
    closed = runtime.state.take_closed()
    discarded = runtime.state.take_discarded()
    touched = set(events.touched_deals)
    for deal in runtime.state.deals:
        if deal.seq in touched:
            _upsert_deal(session, runtime, deal)
    for deal in closed:
        _upsert_deal(session, runtime, deal)
    session.flush()
    _write_orders(session, runtime, events)
    for deal in discarded:
        position_id = runtime.position_ids.pop(deal.seq, None)
        if position_id is not None:
            _detach_orders(session, position_id)
            row = session.get(Position, position_id)
            if row is not None:
                session.delete(row)
    for deal in closed:
        runtime.position_ids.pop(deal.seq, None)


def _upsert_deal(session: Session, runtime: BotRuntime, deal: DealState) -> None:
    values = deal.column_values()
    values["opened_at"] = to_datetime(deal.opened_at)
    values["closed_at"] = None if deal.closed_at is None else to_datetime(deal.closed_at)
    values["close_reason"] = None if deal.close_reason is None else str(deal.close_reason)
    position_id = runtime.position_ids.get(deal.seq)
    row = session.get(Position, position_id) if position_id is not None else None
    if row is None:
        row = Position(bot_id=runtime.bot_id, product_id=runtime.product.product_id, **values)
        session.add(row)
        session.flush()
        runtime.position_ids[deal.seq] = row.id
        return
    for name, value in values.items():
        setattr(row, name, value)


def _detach_orders(session: Session, position_id: int) -> None:
    for order in session.scalars(select(Order).where(Order.position_id == position_id)):
        order.position_id = None


def _write_orders(session: Session, runtime: BotRuntime, events: StepEvents) -> None:
    book = runtime.book
    for working in events.placed:
        row = _new_order(runtime, working.intent, working.active_from, OrderStatus.OPEN)
        row.reserved = book.reserved.get(working.intent.client_order_id, Decimal(0))
        session.add(row)
        session.flush()
        book.row_ids[working.intent.client_order_id] = row.id
    for rejection in events.rejected:
        _mark_rejected(session, runtime, rejection.intent, rejection.active_from, rejection.reason)
    for client_order_id in events.cancelled:
        row_id = book.row_ids.pop(client_order_id, None)
        order = session.get(Order, row_id) if row_id is not None else None
        if order is not None and order.status in WORKING_STATUSES:
            order.status = OrderStatus.CANCELLED.value
    for working, fill in events.fills:
        _record_fill(session, runtime, working.intent, fill)


def _new_order(
    runtime: BotRuntime, intent: PlaceOrder, active_from: int, status: OrderStatus
) -> Order:
    return Order(
        client_order_id=intent.client_order_id,
        bot_id=runtime.bot_id,
        position_id=runtime.position_ids.get(intent.deal_seq),
        product_id=runtime.product.product_id,
        side=intent.side.value,
        order_type=intent.order_type.value,
        purpose=intent.purpose.value,
        base_amount=intent.base_amount,
        quote_amount=intent.quote_amount,
        limit_price=intent.price,
        trigger_price=intent.trigger_price,
        status=status.value,
        active_from=active_from,
    )


def _mark_rejected(
    session: Session, runtime: BotRuntime, intent: PlaceOrder, active_from: int, reason: str
) -> None:
    row_id = runtime.book.row_ids.pop(intent.client_order_id, None)
    order = session.get(Order, row_id) if row_id is not None else None
    if order is None:
        order = _new_order(runtime, intent, active_from, OrderStatus.REJECTED)
        session.add(order)
    order.status = OrderStatus.REJECTED.value
    order.error = reason


def _record_fill(
    session: Session, runtime: BotRuntime, intent: PlaceOrder, fill: FillEvent
) -> None:
    row_id = runtime.book.row_ids.pop(intent.client_order_id, None)
    order = session.get(Order, row_id) if row_id is not None else None
    if order is None:
        raise RuntimeError(f"fill for unknown order {intent.client_order_id}")
    order.status = OrderStatus.FILLED.value
    order.filled_base = fill.base_amount
    order.filled_quote = fill.quote_amount
    order.fee = fill.fee
    order.reserved = Decimal(0)
    session.add(
        Fill(
            trade_id=f"{intent.client_order_id}-1",
            order_id=order.id,
            bot_id=runtime.bot_id,
            position_id=order.position_id,
            product_id=runtime.product.product_id,
            side=fill.side.value,
            time=to_datetime(fill.time),
            price=fill.price,
            base_amount=fill.base_amount,
            quote_amount=fill.quote_amount,
            fee=fill.fee,
            fee_currency=runtime.product.quote_currency,
        )
    )
