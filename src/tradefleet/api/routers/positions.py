"""Deals: lists, one deal with its orders and fills, and a manual close at market."""

from __future__ import annotations

from fastapi import APIRouter

from tradefleet.api.deps import BotDep, EngineDep, PositionDep, SessionDep
from tradefleet.api.pausing import on_loop
from tradefleet.api.schemas.common import Limit, Offset, RowId, RowIdFilter, error_responses
from tradefleet.api.schemas.positions import (
    PositionDetail,
    PositionPublic,
    PositionsPublic,
    PositionStatus,
)
from tradefleet.db.models import Position
from tradefleet.services import records

router = APIRouter(tags=["positions"], responses=error_responses(404, 409, 503))


def _page(page: records.Page[Position]) -> PositionsPublic:
    data = [PositionPublic.model_validate(position) for position in page.items]
    return PositionsPublic(data=data, count=page.total)


@router.get("/positions")
def read_positions(
    session: SessionDep,
    bot_id: RowIdFilter = None,
    status: PositionStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> PositionsPublic:
    """Deals of every bot (or one), newest first; ``count`` is the number matching."""
    return _page(records.list_positions(session, bot_id, status, limit, offset))


@router.get("/bots/{bot_id}/positions")
def read_bot_positions(
    bot: BotDep,
    session: SessionDep,
    status: PositionStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> PositionsPublic:
    return _page(records.list_positions(session, bot.id, status, limit, offset))


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
