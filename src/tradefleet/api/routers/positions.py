"""Deals: lists, one deal with its orders and fills, and a manual close at market."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from tradefleet.api.deps import DatabaseDep, EngineDep
from tradefleet.api.errors import guarded
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
from tradefleet.services import bots as bot_service
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
async def read_positions(
    db: DatabaseDep,
    *,
    bot_id: RowIdFilter = None,
    status: PositionStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
    cursor: CursorText = None,
) -> PositionsPublic:
    """Deals of every bot (or one), newest opened first; ``count`` is the number matching."""
    return await db.read(
        lambda session: _page(
            session, bot_id, status=status, limit=limit, offset=offset, cursor=cursor
        )
    )


@router.get("/bots/{bot_id}/positions")
async def read_bot_positions(
    bot_id: RowId,
    db: DatabaseDep,
    *,
    status: PositionStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
    cursor: CursorText = None,
) -> PositionsPublic:
    def of_bot(session: Session) -> PositionsPublic:
        bot = bot_service.get_bot(session, bot_id)
        return _page(session, bot.id, status=status, limit=limit, offset=offset, cursor=cursor)

    return await db.read(of_bot)


@router.get("/positions/{position_id}")
async def read_position(position_id: RowId, db: DatabaseDep) -> PositionDetail:
    """One deal with its orders, each with its fills."""
    return await db.read(
        lambda session: PositionDetail.model_validate(
            records.get_position_with_orders(session, position_id)
        )
    )


@router.post("/positions/{position_id}/close")
async def close_position(position_id: RowId, db: DatabaseDep, engine: EngineDep) -> PositionPublic:
    """Cancel the deal's resting orders and sell what it holds at market (409 when closed).

    In paper mode the sell fills at the next candle's open, so the answer may still show the
    deal open; it closes when that fill arrives.
    """
    await db.read(lambda session: records.require_open(records.get_position(session, position_id)))
    await guarded(engine.close_position(position_id), f"close position {position_id}")
    return await db.read(
        lambda session: PositionPublic.model_validate(records.get_position(session, position_id))
    )
