"""Deals: lists, one deal with its orders and fills, and a manual close at market."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from tradefleet.api.bridge import on_loop
from tradefleet.api.deps import BotDep, EngineDep, PositionDep, SessionDep
from tradefleet.api.schemas.common import (
    CursorText,
    Limit,
    Offset,
    RowId,
    RowIdFilter,
    error_responses,
    read_cursor,
)
from tradefleet.api.schemas.positions import (
    PositionDetail,
    PositionPublic,
    PositionsPublic,
    PositionStatus,
)
from tradefleet.services import records

router = APIRouter(tags=["positions"], responses=error_responses(404, 409, 503))


def _page(
    session: Session,
    bot_id: int | None,
    *,
    status: str | None,
    limit: int,
    offset: int,
    cursor: str | None,
) -> PositionsPublic:
    after = read_cursor(records.POSITION_ORDER, cursor)
    page = records.list_positions(session, bot_id, status, limit, offset=offset, cursor=after)
    data = [PositionPublic.model_validate(position) for position in page.items]
    return PositionsPublic(data=data, count=page.total, next_cursor=page.next_cursor)


@router.get("/positions")
def read_positions(
    session: SessionDep,
    *,
    bot_id: RowIdFilter = None,
    status: PositionStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
    cursor: CursorText = None,
) -> PositionsPublic:
    """Deals of every bot (or one), newest opened first; ``count`` is the number matching."""
    return _page(session, bot_id, status=status, limit=limit, offset=offset, cursor=cursor)


@router.get("/bots/{bot_id}/positions")
def read_bot_positions(
    bot: BotDep,
    session: SessionDep,
    *,
    status: PositionStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
    cursor: CursorText = None,
) -> PositionsPublic:
    return _page(session, bot.id, status=status, limit=limit, offset=offset, cursor=cursor)


@router.get("/positions/{position_id}")
def read_position(position_id: RowId, session: SessionDep) -> PositionDetail:
    """One deal with its orders, each with its fills."""
    position = records.get_position_with_orders(session, position_id)
    return PositionDetail.model_validate(position)


@router.post("/positions/{position_id}/close")
def close_position(position: PositionDep, session: SessionDep, engine: EngineDep) -> PositionPublic:
    """Cancel the deal's resting orders and sell what it holds at market (409 when closed).

    In paper mode the sell fills at the next candle's open, so the answer may still show the
    deal open; it closes when that fill arrives.
    """
    records.require_open(position)
    on_loop(engine.close_position, position.id, what=f"close position {position.id}")
    session.refresh(position)
    return PositionPublic.model_validate(position)
