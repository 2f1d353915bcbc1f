"""Trade history: every fill, newest first, filtered and paged."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from tradefleet.api.deps import DatabaseDep
from tradefleet.api.schemas.common import read_cursor
from tradefleet.api.schemas.positions import FillPublic, TradeQuery, TradesPublic
from tradefleet.services import records

router = APIRouter(tags=["trades"])


def _utc(moment: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC (the only zone the database stores)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@router.get("/trades")
async def read_trades(db: DatabaseDep, query: Annotated[TradeQuery, Query()]) -> TradesPublic:
    """Fills with ``since <= time <= until``, newest first (then newest row); ``count`` is
    the number of all matching; page on with ``cursor`` = the answer's ``next_cursor``."""
    return await db.read(lambda session: _page(session, query))


def _page(session: Session, query: TradeQuery) -> TradesPublic:
    where = records.FillFilter(
        bot_id=query.bot_id,
        position_id=query.position_id,
        side=query.side,
        since=_utc(query.since),
        until=_utc(query.until),
    )
    after = read_cursor(records.FILL_ORDER, query.cursor)
    page = records.list_fills(session, where, query.limit, offset=query.offset, cursor=after)
    return TradesPublic(
        data=[FillPublic.model_validate(f) for f in page.items],
        count=page.total,
        next_cursor=page.next_cursor,
    )
