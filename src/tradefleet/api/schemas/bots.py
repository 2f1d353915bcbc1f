"""Bot schemas. Field limits come from ``services.bot_rules`` so the API and the CLI agree;
rules that need the registry or the market (strategy config, product, timeframe) are checked
by the service and reported in the same 422 form."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tradefleet.api.schemas.common import PositiveAmount, Timeframe
from tradefleet.db.models import Bot
from tradefleet.services.bot_rules import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH

BotName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX_LENGTH)
]
Description = Annotated[str, Field(max_length=DESCRIPTION_MAX_LENGTH)]
Budget = Annotated[
    PositiveAmount,
    Field(
        description="in the product's quote currency: a JSON number or a decimal string "
        "(digits, at most one point), greater than 0, below 1E+20, at most 18 decimal places",
        examples=["0.05"],
    ),
]
StrategyType = Annotated[str, Field(min_length=1, max_length=50, examples=["rsi"])]
ProductId = Annotated[str, Field(min_length=1, max_length=40, examples=["ETH-BTC"])]


class BotBase(BaseModel):
    name: BotName
    description: Description = ""
    strategy_type: StrategyType
    strategy_config: dict[str, Any] = Field(
        default_factory=dict, description="parameters; omitted ones take their defaults"
    )
    product_id: ProductId
    timeframe: Timeframe
    budget: Budget


class BotCreate(BotBase):
    model_config = ConfigDict(extra="forbid")


class BotUpdate(BaseModel):
    """A partial update: omitted (or null) fields stay as they are.

    ``strategy_config`` replaces the stored config as a whole.
    """

    model_config = ConfigDict(extra="forbid")

    name: BotName | None = None
    description: Description | None = None
    strategy_type: StrategyType | None = None
    strategy_config: dict[str, Any] | None = None
    product_id: ProductId | None = None
    timeframe: Timeframe | None = None
    budget: Budget | None = None


class BotPublic(BotBase):
    id: int
    is_active: bool
    created_at: datetime
    updated_at: datetime
    last_signal_check: datetime | None
    last_error: str | None
    open_positions: int = Field(description="deals open now")

    @classmethod
    def from_bot(cls, bot: Bot, open_positions: int) -> BotPublic:
        fields = {name: getattr(bot, name) for name in cls.model_fields if name != "open_positions"}
        return cls.model_validate({**fields, "open_positions": open_positions})


class BotsPublic(BaseModel):
    data: list[BotPublic]
    count: int
