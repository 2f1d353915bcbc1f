"""Read access to what the engine recorded: deals, fills, signals and the paper account.

Lists are newest first and paged with ``limit``/``offset``; ``Page.total`` counts every
matching row so a client can page through them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from tradefleet.db.models import Fill, Order, PaperBalance, Position, Signal
from tradefleet.services.errors import ConflictError, NotFoundError

RowT = TypeVar("RowT")


@dataclass(frozen=True, slots=True)
class Page(Generic[RowT]):
    items: list[RowT]
    total: int


@dataclass(frozen=True, slots=True)
class FillFilter:
    """Trade-history filters; ``since <= time <= until`` when given."""

    bot_id: int | None = None
    position_id: int | None = None
    side: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _page(session: Session, query: Select[Any], limit: int, offset: int) -> Page[Any]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = list(session.scalars(query.limit(limit).offset(offset)))
    return Page(items=items, total=total or 0)


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
    session: Session, bot_id: int | None, status: str | None, limit: int, offset: int
) -> Page[Position]:
    query = select(Position).order_by(Position.opened_at.desc(), Position.id.desc())
    if bot_id is not None:
        query = query.where(Position.bot_id == bot_id)
    if status is not None:
        query = query.where(Position.status == status)
    return _page(session, query, limit, offset)


def positions_of(session: Session, bot_ids: Sequence[int] | None = None) -> list[Position]:
    """Every deal of the given bots (all bots when None), oldest first."""
    query = select(Position).order_by(Position.id)
    if bot_ids is not None:
        query = query.where(Position.bot_id.in_(bot_ids))
    return list(session.scalars(query))


def list_fills(session: Session, where: FillFilter, limit: int, offset: int) -> Page[Fill]:
    query = select(Fill).order_by(Fill.time.desc(), Fill.id.desc())
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
    return _page(session, query, limit, offset)


def list_signals(session: Session, bot_id: int | None, limit: int, offset: int) -> Page[Signal]:
    query = select(Signal).order_by(Signal.candle_time.desc(), Signal.id.desc())
    if bot_id is not None:
        query = query.where(Signal.bot_id == bot_id)
    return _page(session, query, limit, offset)


def paper_balances(session: Session) -> list[PaperBalance]:
    return list(session.scalars(select(PaperBalance).order_by(PaperBalance.currency)))
