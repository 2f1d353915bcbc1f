"""Performance of one bot and totals across bots, valued at the market's last prices.

Each answer is worked out in one worker thread (``Database``), which asks the market on
the event loop in between; the totals read the history as per-bot sums
(``services.deal_figures``), not one object per deal.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, replace
from decimal import Decimal

import anyio.from_thread
from fastapi import APIRouter
from sqlalchemy.orm import Session

from tradefleet.api.deps import DatabaseDep, MarketDep
from tradefleet.api.schemas.common import RowId, error_responses
from tradefleet.api.schemas.stats import BotStatsPublic, QuoteTotalsPublic, StatsPublic
from tradefleet.engine.protocols import MarketView
from tradefleet.market.base import MarketUnavailable
from tradefleet.services import bots as bot_service
from tradefleet.services import deal_figures
from tradefleet.stats import bot_share, bot_stats, is_closed, quote_currency_of, sum_by_quote

router = APIRouter(tags=["stats"], responses=error_responses(404))
logger = logging.getLogger(__name__)


async def _fetch_prices(market: MarketView, product_ids: list[str]) -> dict[str, Decimal]:
    prices: dict[str, Decimal] = {}
    for product_id in product_ids:
        try:
            prices[product_id] = await market.last_price(product_id)
        except MarketUnavailable as error:  # an outage, said by health: one line, no traceback
            logger.warning("no last price for %s: %s", product_id, error)
        except Exception:
            logger.warning("no last price for %s", product_id, exc_info=True)
    return prices


def last_prices(market: MarketView, deals: Iterable[deal_figures.DealRow]) -> dict[str, Decimal]:
    """Last prices of the products open deals hold, asked on the event loop (the market
    is async); an unavailable one is left out, which makes the unrealized PnL unknown
    (null) rather than wrong."""
    wanted = sorted({deal.product_id for deal in deals if not is_closed(deal)})
    if not wanted:
        return {}
    return anyio.from_thread.run(_fetch_prices, market, wanted)


@router.get("/bots/{bot_id}/stats")
async def read_bot_stats(bot_id: RowId, db: DatabaseDep, market: MarketDep) -> BotStatsPublic:
    return await db.read(lambda session: _bot_stats(session, bot_id, market))


@router.get("/stats")
async def read_stats(db: DatabaseDep, market: MarketDep) -> StatsPublic:
    """Totals of every bot, one entry per quote currency.

    A deleted bot's closed deals still count (their PnL and fees are in the account's
    balances), but the bot itself and its budget do not.
    """
    return await db.read(lambda session: _fleet_stats(session, market))


def _bot_stats(session: Session, bot_id: int, market: MarketView) -> BotStatsPublic:
    bot = bot_service.get_bot(session, bot_id)
    deals = deal_figures.deals_of(session, bot.id)
    compound = bool((bot.strategy_config or {}).get("compound_profits", False))
    stats = bot_stats(
        bot.budget,
        quote_currency_of(bot.product_id),
        deals,
        last_prices(market, deals),
        compound_profits=compound,
    )
    return BotStatsPublic.model_validate(
        {"bot_id": bot.id, "account": bot.account, **asdict(stats)}
    )


def _fleet_stats(session: Session, market: MarketView) -> StatsPublic:
    fleet = deal_figures.fleet(session)
    everyone, closed, still_open = fleet.bots, fleet.closed, fleet.open_deals
    session.rollback()  # the reads are done: hold no snapshot while asking the market
    prices = last_prices(market, (deal for deals in still_open.values() for deal in deals))
    shares = (
        bot_share(
            quote_currency_of(bot.product_id),
            Decimal(0) if bot.deleted else bot.budget,
            closed.get(bot.id, {}).values(),
            still_open.get(bot.id, []),
            prices,
        )
        for bot in everyone
    )
    totals = sum_by_quote(shares)
    live = [bot for bot in everyone if not bot.deleted]
    live_per_quote = Counter(quote_currency_of(bot.product_id) for bot in live)
    return StatsPublic(
        bots=len(live),
        active_bots=sum(1 for bot in live if bot.is_active),
        totals={
            quote: QuoteTotalsPublic.model_validate(replace(total, bots=live_per_quote[quote]))
            for quote, total in totals.items()
        },
    )
