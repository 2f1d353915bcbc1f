"""The emergency stop's request and its report."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class EmergencyStopRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sell_all: bool = Field(
        default=False,
        strict=True,  # true or false only: a 0 or "yes" for this must not be guessed
        description="also sell every open deal at market (on paper: at the next candle's "
        "open); without it the deals stay open, holding their base, with no orders",
    )


class BotHaltPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    bot_id: int
    name: str
    orders_cancelled: int = Field(description="resting or in-flight orders cancelled")
    sells_placed: int = Field(description="market sells placed for its open deals")
    problems: list[str] = Field(description="what could not be done for this bot")


class EmergencyStopReport(BaseModel):
    sell_all: bool
    bots_halted: int = Field(description="bots stopped and halted (active or holding deals)")
    orders_cancelled: int
    sells_placed: int
    problems: list[str] = Field(description="every bot's problems, named by bot")
    bots: list[BotHaltPublic]
