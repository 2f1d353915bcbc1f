"""Strategy schemas: the registry's own ``StrategyDefinition`` models are served as they are."""

from __future__ import annotations

from pydantic import BaseModel

from tradefleet.strategies.parameters import StrategyDefinition


class StrategiesPublic(BaseModel):
    data: list[StrategyDefinition]
    count: int
