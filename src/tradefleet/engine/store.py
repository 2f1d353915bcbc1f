"""Database persistence of the engine: load a bot's runtime, write a step's changes.

Everything one step changed (orders, fills, deals, balances) is written by the caller
inside one transaction, so after a crash the step is either fully there or redone from
the same candles with the same deterministic client order ids.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.orm import Session

from tradefleet.db.models import Bot, Fill, Order, Position, intent_columns
from tradefleet.deals.state import OPEN, DealState, restore
from tradefleet.domain import (
    WORKING_STATUSES,
    OrderPurpose,
    OrderStatus,
    OrderType,
    PlaceOrder,
    Side,
)
from tradefleet.domain import Fill as FillEvent
from tradefleet.engine.events import StepEvents
from tradefleet.engine.runtime import BotRuntime, OrderBook
from tradefleet.services.deal_figures import realized_by_bot


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


def realized_of(session: Session, bot: Bot) -> Decimal:
    """The sum of the realised PnL of the bot's closed deals in its current quote
    currency, summed exactly (``deal_figures.realized_by_bot``; loading many bots, ask
    it once for all of them)."""
    return realized_by_bot(session, [bot])[bot.id]


def load_orders(
    session: Session, bot: Bot, seq_by_position: dict[int, int]
) -> tuple[list[PlaceOrder], OrderBook]:
    """Working orders of the bot's open deals, as intents plus the engine's order book.
    A live bot's deal machine also holds the orders that ended and that it was not told
    of yet (a step interrupted between storing an order's end and telling it): the
    replay of its next step tells them."""
    held: ColumnElement[bool] = Order.status.in_(WORKING_STATUSES)
    if bot.account == "live":
        held = held | Order.told_at.is_(None)
    rows = session.scalars(
        select(Order)
        .where(
            Order.bot_id == bot.id,
            held,
            Order.cancel_requested_at.is_(None),  # live: withdrawn, confirmation due
        )
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
        book.accept(row.client_order_id, row.active_from, row.reserved)  # rows in id order
        book.row_ids[row.client_order_id] = row.id
    return intents, book


def restore_state(
    session: Session, bot: Bot, realized: Decimal | None = None
) -> tuple[Any, OrderBook, dict[int, int]]:
    """The bot's deal state; ``realized`` is its ``realized_of`` when already known."""
    deals, position_ids = load_deals(session, bot)
    seq_by_position = {pid: seq for seq, pid in position_ids.items()}
    intents, book = load_orders(session, bot, seq_by_position)
    if realized is None:
        realized = realized_of(session, bot)
    state = restore(bot.id, bot.manager_state or {}, deals, intents, realized)
    return state, book, position_ids


def persist_step(session: Session, runtime: BotRuntime, events: StepEvents) -> None:
    """Write the deals, orders and fills a step produced (balances: ``account.flush``).

    Core statements by primary key, batched per kind: a step costs a handful of round
    trips however many orders it touched, and no row is read back.
    """
    closed = runtime.state.take_closed()
    discarded = {deal.seq for deal in runtime.state.take_discarded()}
    touched = events.touched_deals - discarded
    deals = [deal for deal in runtime.state.deals if deal.seq in touched] + closed
    _write_deals(session, runtime, deals)
    _write_orders(session, runtime, events)
    for seq in sorted(discarded):
        position_id = runtime.position_ids.pop(seq, None)
        if position_id is not None:
            session.execute(
                update(Order).where(Order.position_id == position_id).values(position_id=None)
            )
            session.execute(delete(Position).where(Position.id == position_id))
    for deal in closed:
        runtime.position_ids.pop(deal.seq, None)


def _deal_values(deal: DealState) -> dict[str, Any]:
    values = deal.column_values()
    values["opened_at"] = to_datetime(deal.opened_at)
    values["closed_at"] = None if deal.closed_at is None else to_datetime(deal.closed_at)
    values["close_reason"] = None if deal.close_reason is None else str(deal.close_reason)
    return values


def _write_deals(session: Session, runtime: BotRuntime, deals: list[DealState]) -> None:
    new = [deal for deal in deals if deal.seq not in runtime.position_ids]
    if new:
        rows = [
            {"bot_id": runtime.bot_id, "product_id": runtime.product.product_id, **_deal_values(d)}
            for d in new
        ]
        inserted = session.execute(insert(Position).returning(Position.id, Position.seq), rows)
        for position_id, seq in inserted:
            runtime.position_ids[seq] = position_id
    known = [deal for deal in deals if deal not in new]
    if known:
        rows = [{"id": runtime.position_ids[d.seq], **_deal_values(d)} for d in known]
        session.execute(update(Position), rows)


def _write_orders(session: Session, runtime: BotRuntime, events: StepEvents) -> None:
    book = runtime.book
    new_rows = [
        _order_row(
            runtime,
            w.intent,
            w.active_from,
            OrderStatus.OPEN,
            book.reserved.get(w.intent.client_order_id, Decimal(0)),
        )
        for w in events.placed
    ]
    updates: list[dict[str, Any]] = []
    for rejection in events.rejected:
        row_id = book.row_ids.pop(rejection.intent.client_order_id, None)
        rejected = {"status": OrderStatus.REJECTED.value, "error": rejection.reason}
        if row_id is None:
            row = _order_row(runtime, rejection.intent, rejection.active_from, OrderStatus.REJECTED)
            new_rows.append({**row, **rejected})
        else:
            updates.append({"id": row_id, **rejected, "reserved": Decimal(0)})
    for client_order_id in events.cancelled:
        row_id = book.row_ids.pop(client_order_id, None)
        if row_id is not None:
            updates.append({"id": row_id, "status": OrderStatus.CANCELLED.value})
    fills = [_fill_update(runtime, working.intent, fill, updates) for working, fill in events.fills]
    if new_rows:
        inserted = session.execute(
            insert(Order).returning(Order.id, Order.client_order_id, Order.status), new_rows
        )
        for row_id, client_order_id, stored_status in inserted:
            if stored_status == OrderStatus.OPEN.value:
                book.row_ids[client_order_id] = row_id
    for group in _same_keys(updates):
        session.execute(update(Order), group)
    if fills:
        session.execute(insert(Fill), fills)


def _same_keys(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Executemany wants one set of keys per statement."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())


def _order_row(
    runtime: BotRuntime,
    intent: PlaceOrder,
    active_from: int,
    status: OrderStatus,
    reserved: Decimal = Decimal(0),
) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        **intent_columns(intent),
        "bot_id": runtime.bot_id,
        "position_id": runtime.position_ids.get(intent.deal_seq),
        "product_id": runtime.product.product_id,
        "status": status.value,
        "active_from": active_from,
        "reserved": reserved,
        "error": None,
        "created_at": now,
        "updated_at": now,
    }


def _fill_update(
    runtime: BotRuntime, intent: PlaceOrder, fill: FillEvent, updates: list[dict[str, Any]]
) -> dict[str, Any]:
    """Mark the order filled (appended to ``updates``) and return the fill's row."""
    row_id = runtime.book.row_ids.pop(intent.client_order_id, None)
    if row_id is None:
        raise RuntimeError(f"fill for unknown order {intent.client_order_id}")
    updates.append(
        {
            "id": row_id,
            "status": OrderStatus.FILLED.value,
            "filled_base": fill.base_amount,
            "filled_quote": fill.quote_amount,
            "fee": fill.fee,
            "reserved": Decimal(0),
            "updated_at": datetime.now(UTC),
        }
    )
    return {
        "trade_id": f"{intent.client_order_id}-1",
        "order_id": row_id,
        "bot_id": runtime.bot_id,
        "position_id": runtime.position_ids.get(intent.deal_seq),
        "product_id": runtime.product.product_id,
        "side": fill.side.value,
        "time": to_datetime(fill.time),
        "price": fill.price,
        "base_amount": fill.base_amount,
        "quote_amount": fill.quote_amount,
        "fee": fill.fee,
        "fee_currency": runtime.product.quote_currency,
    }
