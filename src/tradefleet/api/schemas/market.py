"""Market data schemas: products, candles, the last price and the paper account."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from tradefleet.api.schemas.common import Money


class ProductPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: str
    base_currency: str
    quote_currency: str
    base_increment: Money
    quote_increment: Money
    price_increment: Money
    base_min_size: Money
    quote_min_size: Money


class ProductsPublic(BaseModel):
    data: list[ProductPublic]
    count: int


class CandlePublic(BaseModel):
    """``time`` is the candle's open time in unix seconds (UTC)."""

    model_config = ConfigDict(from_attributes=True)

    time: int
    open: float
    high: float
    low: float
    close: float
    volume: float


class CandlesPublic(BaseModel):
    product_id: str
    timeframe: str
    data: list[CandlePublic]


class TickerPublic(BaseModel):
    product_id: str
    price: Money


class BalancePublic(BaseModel):
    """``available`` = ``total`` - ``hold`` (what resting buys reserve)."""

    currency: str
    total: Money
    hold: Money
    available: Money
    starting: Money


class BalancesPublic(BaseModel):
    mode: str
    data: list[BalancePublic]
