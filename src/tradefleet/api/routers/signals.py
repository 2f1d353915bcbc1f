"""The signal log: each strategy decision with its indicator values, newest first."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from tradefleet.api.deps import BotDep, SessionDep
from tradefleet.api.schemas.common import CursorText, Limit, Offset, error_responses, read_cursor
from tradefleet.api.schemas.signals import SignalPublic, SignalsPublic
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
def read_signals(
    session: SessionDep, limit: Limit = 100, offset: Offset = 0, cursor: CursorText = None
) -> SignalsPublic:
    """Signals of every bot, newest candle first (then newest row)."""
    return _page(session, None, limit, offset, cursor)


@router.get("/bots/{bot_id}/signals")
def read_bot_signals(
    bot: BotDep,
    session: SessionDep,
    limit: Limit = 100,
    offset: Offset = 0,
    cursor: CursorText = None,
) -> SignalsPublic:
    return _page(session, bot.id, limit, offset, cursor)
