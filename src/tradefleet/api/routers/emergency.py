"""The emergency stop: one request stops every bot and withdraws every order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from tradefleet.api.deps import EngineDep
from tradefleet.api.errors import guarded
from tradefleet.api.schemas.common import error_responses
from tradefleet.api.schemas.emergency import (
    BotHaltPublic,
    EmergencyStopReport,
    EmergencyStopRequest,
)

router = APIRouter(tags=["emergency"], responses=error_responses(503))


@router.post("/emergency-stop")
async def emergency_stop(
    engine: EngineDep, body: Annotated[EmergencyStopRequest | None, Body()] = None
) -> EmergencyStopReport:
    """Stop and halt every bot, cancel every resting order of every bot, and with
    ``sell_all`` sell every open deal at market. A halted bot places nothing until it is
    started again (``POST /bots/{id}/start``), which puts its deals' exits back. The
    answer says what was done and, per bot, what could not be."""
    request = body or EmergencyStopRequest()
    report = await guarded(engine.emergency_stop(request.sell_all), "stop every bot")
    return EmergencyStopReport(
        sell_all=report.sell_all,
        bots_halted=len(report.bots),
        orders_cancelled=report.orders_cancelled,
        sells_placed=report.sells_placed,
        problems=report.problems,
        bots=[BotHaltPublic.model_validate(bot) for bot in report.bots],
    )
