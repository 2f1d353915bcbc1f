"""The signal log: each strategy decision with its indicator values, newest first."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from tradefleet.api.deps import DatabaseDep
from tradefleet.api.schemas.common import (
    CursorText,
    Limit,
    Offset,
    RowId,
    error_responses,
    read_cursor,
)
from tradefleet.api.schemas.signals import SignalPublic, SignalsPublic
from tradefleet.services import bots as bot_service
from tradefleet.services import records

router = APIRouter(tags=["signals"], responses=error_responses(404))


def _page(
    session: Session, bot_id: int | None, limit: int, offset: int, cursor: str | None
) -> SignalsPublic:
    after = read_cursor(records.SIGNAL_ORDER, cursor)
    page = records.list_signals(session, bot_id, limit, offset=offset, cursor=after)
    return SignalsPublic(
        data=[SignalPublic.model_validate(s) for s in page.items],
        count=page.total,
        next_cursor=page.next_cursor,
    )


@router.get("/signals")
async def read_signals(
    db: DatabaseDep, limit: Limit = 100, offset: Offset = 0, cursor: CursorText = None
) -> SignalsPublic:
    """Signals of every bot, newest candle first (then newest row)."""
    return await db.read(lambda session: _page(session, None, limit, offset, cursor))


@router.get("/bots/{bot_id}/signals")
async def read_bot_signals(
    bot_id: RowId,
    db: DatabaseDep,
    limit: Limit = 100,
    offset: Offset = 0,
    cursor: CursorText = None,
) -> SignalsPublic:
    def of_bot(session: Session) -> SignalsPublic:
        bot = bot_service.get_bot(session, bot_id)
        return _page(session, bot.id, limit, offset, cursor)

    return await db.read(of_bot)
