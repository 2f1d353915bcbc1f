"""Read access to what the engine recorded: deals, fills, signals and the paper account.

Lists are newest first and paged by cursor (``services.paging``: stable while rows
arrive) or, for old clients, ``offset``; ``Page.total`` counts every matching row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tradefleet.db.models import Fill, Order, PaperBalance, Position, Signal
from tradefleet.services.errors import ConflictError, NotFoundError
from tradefleet.services.paging import Cursor, Page, int_keyset, page, time_keyset

__all__ = ["Cursor", "FillFilter", "Page"]

POSITION_ORDER = time_keyset(Position.opened_at, Position.id)
FILL_ORDER = time_keyset(Fill.time, Fill.id)
SIGNAL_ORDER = int_keyset(Signal.candle_time, Signal.id)


@dataclass(frozen=True, slots=True)
class FillFilter:
    """Trade-history filters; ``since <= time <= until`` when given."""

    bot_id: int | None = None
    position_id: int | None = None
    side: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def get_position(session: Session, position_id: int) -> Position:
    position = session.get(Position, position_id)
    if position is None:
        raise NotFoundError(f"position {position_id} not found")
    return position


def get_position_with_orders(session: Session, position_id: int) -> Position:
    """The deal with its orders and their fills loaded (for the detail view)."""
    query = (
        select(Position)
        .where(Position.id == position_id)
        .options(selectinload(Position.orders).selectinload(Order.fills))
    )
    position = session.scalar(query)
    if position is None:
        raise NotFoundError(f"position {position_id} not found")
    return position


def require_open(position: Position) -> None:
    if position.status != "open":
        raise ConflictError(f"position {position.id} is already {position.status}")


def list_positions(
    session: Session,
    bot_id: int | None,
    status: str | None,
    limit: int,
    *,
    offset: int = 0,
    cursor: Cursor | None = None,
) -> Page[Position]:
    query = select(Position)
    if bot_id is not None:
        query = query.where(Position.bot_id == bot_id)
    if status is not None:
        query = query.where(Position.status == status)
    return page(session, query, POSITION_ORDER, limit, offset=offset, cursor=cursor)


def list_fills(
    session: Session,
    where: FillFilter,
    limit: int,
    *,
    offset: int = 0,
    cursor: Cursor | None = None,
) -> Page[Fill]:
    query = select(Fill)
    if where.bot_id is not None:
        query = query.where(Fill.bot_id == where.bot_id)
    if where.position_id is not None:
        query = query.where(Fill.position_id == where.position_id)
    if where.side is not None:
        query = query.where(Fill.side == where.side)
    if where.since is not None:
        query = query.where(Fill.time >= where.since)
    if where.until is not None:
        query = query.where(Fill.time <= where.until)
    return page(session, query, FILL_ORDER, limit, offset=offset, cursor=cursor)


def list_signals(
    session: Session,
    bot_id: int | None,
    limit: int,
    *,
    offset: int = 0,
    cursor: Cursor | None = None,
) -> Page[Signal]:
    query = select(Signal)
    if bot_id is not None:
        query = query.where(Signal.bot_id == bot_id)
    return page(session, query, SIGNAL_ORDER, limit, offset=offset, cursor=cursor)


def paper_balances(session: Session) -> list[PaperBalance]:
    return list(session.scalars(select(PaperBalance).order_by(PaperBalance.currency)))
