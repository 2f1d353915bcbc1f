"""The signal log: each strategy decision with its indicator values, newest first."""

from __future__ import annotations

from fastapi import APIRouter

from tradefleet.api.deps import BotDep, SessionDep
from tradefleet.api.schemas.common import Limit, Offset, error_responses
from tradefleet.api.schemas.signals import SignalPublic, SignalsPublic
from tradefleet.db.models import Signal
from tradefleet.services import records

router = APIRouter(tags=["signals"], responses=error_responses(404))


def _page(page: records.Page[Signal]) -> SignalsPublic:
    return SignalsPublic(
        data=[SignalPublic.model_validate(s) for s in page.items], count=page.total
    )


@router.get("/signals")
def read_signals(session: SessionDep, limit: Limit = 100, offset: Offset = 0) -> SignalsPublic:
    """Recent signals of every bot."""
    return _page(records.list_signals(session, None, limit, offset))


@router.get("/bots/{bot_id}/signals")
def read_bot_signals(
    bot: BotDep, session: SessionDep, limit: Limit = 100, offset: Offset = 0
) -> SignalsPublic:
    return _page(records.list_signals(session, bot.id, limit, offset))
