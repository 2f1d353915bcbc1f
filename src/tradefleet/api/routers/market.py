"""Market data for the UI (products, candles, last price) and the paper account's balances."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from tradefleet.api.deps import DatabaseDep, MarketDep, SettingsDep
from tradefleet.api.errors import guarded, invalid
from tradefleet.api.schemas.common import Timeframe, error_responses
from tradefleet.api.schemas.market import (
    BalancePublic,
    BalancesPublic,
    CandlePublic,
    CandlesPublic,
    ProductPublic,
    ProductsPublic,
    TickerPublic,
)
from tradefleet.config import Mode
from tradefleet.market.base import TIMEFRAMES
from tradefleet.services import records
from tradefleet.services.errors import ConflictError, NotFoundError

router = APIRouter(prefix="/market", tags=["market"], responses=error_responses(404, 409, 503))


@router.get("/products")
async def read_products(market: MarketDep) -> ProductsPublic:
    products = await guarded(market.products(), "list the market's products")
    data = [ProductPublic.model_validate(p) for p in products]
    return ProductsPublic(data=data, count=len(data))


@router.get("/candles")
async def read_candles(
    market: MarketDep,
    product_id: str,
    timeframe: Timeframe,
    limit: Annotated[int, Query(ge=1, le=1000)] = 300,
) -> CandlesPublic:
    """The latest ``limit`` candles, oldest first."""
    if timeframe not in TIMEFRAMES:
        raise invalid("query", "timeframe", f"must be one of: {', '.join(TIMEFRAMES)}")
    if await guarded(market.product(product_id), f"look up product {product_id}") is None:
        raise invalid("query", "product_id", f"unknown product {product_id!r}")
    candles = await guarded(
        market.candles(product_id, timeframe, limit), f"fetch {product_id} {timeframe} candles"
    )
    data = [CandlePublic.model_validate(c) for c in candles]
    return CandlesPublic(product_id=product_id, timeframe=timeframe, data=data)


@router.get("/ticker/{product_id}")
async def read_ticker(product_id: str, market: MarketDep) -> TickerPublic:
    if await guarded(market.product(product_id), f"look up product {product_id}") is None:
        raise NotFoundError(f"product {product_id} not found")
    price = await guarded(market.last_price(product_id), f"fetch the {product_id} price")
    return TickerPublic(product_id=product_id, price=price)


@router.get("/balances")
async def read_balances(db: DatabaseDep, settings: SettingsDep) -> BalancesPublic:
    """The paper account; in live mode the exchange account is the truth (see its site)."""
    if settings.mode is not Mode.PAPER:
        raise ConflictError("balances are kept here in paper mode only")
    data = await db.read(_paper_balances)
    return BalancesPublic(mode=settings.mode.value, data=data)


def _paper_balances(session: Session) -> list[BalancePublic]:
    return [
        BalancePublic(
            currency=row.currency,
            total=row.total,
            hold=row.hold,
            available=row.total - row.hold,
            starting=row.starting,
        )
        for row in records.paper_balances(session)
    ]
