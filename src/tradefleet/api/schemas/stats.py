"""Performance schemas; see ``tradefleet.stats`` for how each figure is defined."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tradefleet.api.schemas.common import Money


class BotStatsPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    bot_id: int
    account: str = Field(description="paper or live: whose money these figures are")
    quote_currency: str
    budget: Money
    open_deals: int
    closed_deals: int
    realized_pnl: Money
    realized_pnl_pct: Money
    unrealized_pnl: Money | None = Field(description="null when a last price is unavailable")
    win_rate_pct: Money | None
    average_deal_pnl: Money | None
    average_deal_seconds: int | None
    fees_paid: Money
    max_drawdown_pct: Money
    funds_in_use: Money
    budget_available: Money = Field(
        description="what the bot may commit: its budget less its realised losses"
    )
    budget_free: Money = Field(description="budget available less funds in use")
    dust: dict[str, Money] = Field(
        description="base kept by closed deals because it was below the product's base "
        "increment (a live buy by quote receives base off the increment), per currency"
    )


class QuoteTotalsPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    quote_currency: str
    bots: int
    budget: Money
    open_deals: int
    closed_deals: int
    realized_pnl: Money
    unrealized_pnl: Money | None
    fees_paid: Money
    funds_in_use: Money


class StatsPublic(BaseModel):
    """Totals across bots, keyed by quote currency (BTC and USD are never added)."""

    bots: int
    active_bots: int
    totals: dict[str, QuoteTotalsPublic]
