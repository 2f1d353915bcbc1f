"""Signal log schemas: a strategy's decision on each closed candle."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tradefleet.api.schemas.common import Money, NextCursor


class SignalPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    bot_id: int
    candle_time: int
    created_at: datetime
    action: str
    price: Money | None
    reason: str
    indicators: dict[str, Any] | None


class SignalsPublic(BaseModel):
    data: list[SignalPublic]
    count: int = Field(description="signals of the list, on every page")
    next_cursor: NextCursor = None
