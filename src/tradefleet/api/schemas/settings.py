"""Settings schemas. The public view says whether exchange keys are configured, never what
they are; only fees and slippage can be changed at run time."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from tradefleet.api.schemas.common import Money, Rate


class FeesPublic(BaseModel):
    taker: Money
    maker: Money
    slippage: Money


class FeesUpdate(BaseModel):
    """Fractions (0.006 = 0.6 %), each 0 <= x < 1; omitted ones stay as they are."""

    model_config = ConfigDict(extra="forbid")

    taker: Rate | None = None
    maker: Rate | None = None
    slippage: Rate | None = None


class SettingsPublic(BaseModel):
    mode: str
    market: str
    exchange: str
    fees: FeesPublic
    paper_balances: dict[str, Money]
    api_key_configured: bool


class SettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fees: FeesUpdate
