"""Deal (position), order and fill schemas; fills are what GET /trades lists."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradefleet.api.schemas.common import (
    CURSOR_DESCRIPTION,
    DATE_TIME_DESCRIPTION,
    MAX_ROW_ID,
    OFFSET_DESCRIPTION,
    IsoDateTime,
    Money,
    NextCursor,
)
from tradefleet.services.paging import CURSOR_PATTERN

PositionStatus = Literal["open", "closed"]
TradeSide = Literal["buy", "sell"]


class FillPublic(BaseModel):
    """One execution; ``quote_amount`` is gross (price x base), the fee is extra."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    trade_id: str
    order_id: int
    bot_id: int | None
    position_id: int | None
    product_id: str
    side: str
    time: datetime
    price: Money
    base_amount: Money
    quote_amount: Money
    fee: Money
    fee_currency: str


class TradesPublic(BaseModel):
    data: list[FillPublic]
    count: int = Field(description="fills matching the filters, on every page")
    next_cursor: NextCursor = None


class OrderPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    client_order_id: str
    exchange_order_id: str | None
    bot_id: int | None
    position_id: int | None
    product_id: str
    side: str
    order_type: str
    purpose: str
    base_amount: Money | None
    quote_amount: Money | None
    limit_price: Money | None
    trigger_price: Money | None
    status: str
    created_at: datetime
    updated_at: datetime
    filled_base: Money
    filled_quote: Money
    fee: Money
    error: str | None
    fills: list[FillPublic]


class PositionPublic(BaseModel):
    """A deal; ``base_amount`` is what it holds now, the rest its running totals."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    bot_id: int
    seq: int
    product_id: str
    status: str
    opened_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    base_price: Money | None
    base_amount: Money
    bought_base: Money
    bought_quote: Money
    buy_fees: Money
    sold_base: Money
    sold_quote: Money
    sell_fees: Money
    average_entry_price: Money | None
    safety_orders_filled: int
    adds_filled: int
    take_profit_price: Money | None
    stop_price: Money | None
    trailing_active: bool
    trailing_peak: Money | None
    realized_pnl: Money | None
    grid_level: int | None


class PositionDetail(PositionPublic):
    orders: list[OrderPublic]


class PositionsPublic(BaseModel):
    data: list[PositionPublic]
    count: int = Field(description="deals matching the filters, on every page")
    next_cursor: NextCursor = None


class TradeQuery(BaseModel):
    """Filters of GET /trades; times are ISO 8601 date-times (no offset = UTC)."""

    bot_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    position_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    side: TradeSide | None = None
    since: IsoDateTime | None = Field(
        default=None, description=f"fills at or after this time: {DATE_TIME_DESCRIPTION}"
    )
    until: IsoDateTime | None = Field(
        default=None, description=f"fills at or before this time: {DATE_TIME_DESCRIPTION}"
    )
    limit: int = Field(default=100, ge=1, le=500)
    offset: int = Field(
        default=0,
        ge=0,
        le=MAX_ROW_ID,
        description=OFFSET_DESCRIPTION,
        json_schema_extra={"deprecated": True},  # not ``deprecated``: reading it would warn
    )
    cursor: str | None = Field(
        default=None, pattern=CURSOR_PATTERN, max_length=40, description=CURSOR_DESCRIPTION
    )
