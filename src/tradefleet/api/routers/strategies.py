"""The strategies a bot can run, with the parameters the web UI builds its forms from."""

from __future__ import annotations

from fastapi import APIRouter

from tradefleet.api.schemas.common import error_responses
from tradefleet.api.schemas.strategies import StrategiesPublic
from tradefleet.services.errors import NotFoundError
from tradefleet.strategies import StrategyRegistry, UnknownStrategyError
from tradefleet.strategies.parameters import StrategyDefinition

router = APIRouter(prefix="/strategies", tags=["strategies"], responses=error_responses(404))


@router.get("")
async def read_strategies() -> StrategiesPublic:
    definitions = StrategyRegistry.definitions()
    return StrategiesPublic(data=definitions, count=len(definitions))


@router.get("/{strategy_id}")
async def read_strategy(strategy_id: str) -> StrategyDefinition:
    try:
        return StrategyRegistry.get(strategy_id).definition
    except UnknownStrategyError:
        raise NotFoundError(f"strategy {strategy_id!r} not found") from None
