"""Performance of one bot and totals across bots, valued at the market's last prices."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, replace
from decimal import Decimal

from anyio import from_thread
from fastapi import APIRouter

from tradefleet.api.deps import BotDep, MarketDep, SessionDep
from tradefleet.api.schemas.common import error_responses
from tradefleet.api.schemas.stats import BotStatsPublic, QuoteTotalsPublic, StatsPublic
from tradefleet.db.models import Bot, Position
from tradefleet.engine.protocols import MarketView
from tradefleet.services import bots as bot_service
from tradefleet.services import records
from tradefleet.stats import BotStats, bot_stats, quote_currency_of, totals_by_quote

router = APIRouter(tags=["stats"], responses=error_responses(404))
logger = logging.getLogger(__name__)


def last_prices(market: MarketView, positions: Iterable[Position]) -> dict[str, Decimal]:
    """Last prices of the products open deals hold; an unavailable one is left out, which
    makes the unrealized PnL unknown (null) rather than wrong."""
    prices: dict[str, Decimal] = {}
    for product_id in sorted({p.product_id for p in positions if p.status == "open"}):
        try:
            prices[product_id] = from_thread.run(market.last_price, product_id)
        except Exception:
            logger.warning("no last price for %s", product_id, exc_info=True)
    return prices


def _stats(bot: Bot, positions: list[Position], prices: dict[str, Decimal]) -> BotStats:
    own = [p for p in positions if p.bot_id == bot.id]
    compound = bool((bot.strategy_config or {}).get("compound_profits", False))
    return bot_stats(
        bot.budget, quote_currency_of(bot.product_id), own, prices, compound_profits=compound
    )


@router.get("/bots/{bot_id}/stats")
def read_bot_stats(bot: BotDep, session: SessionDep, market: MarketDep) -> BotStatsPublic:
    positions = records.positions_of(session, [bot.id])
    stats = _stats(bot, positions, last_prices(market, positions))
    return BotStatsPublic.model_validate({"bot_id": bot.id, **asdict(stats)})


@router.get("/stats")
def read_stats(session: SessionDep, market: MarketDep) -> StatsPublic:
    """Totals of every bot, one entry per quote currency.

    A deleted bot's closed deals still count (their PnL and fees are in the account's
    balances), but the bot itself and its budget do not.
    """
    everyone = bot_service.list_bots(session, include_deleted=True)
    bots = [bot for bot in everyone if bot.deleted_at is None]
    positions = records.positions_of(session)
    prices = last_prices(market, positions)
    totals = totals_by_quote(_counted_stats(bot, positions, prices) for bot in everyone)
    live_per_quote = Counter(quote_currency_of(bot.product_id) for bot in bots)
    return StatsPublic(
        bots=len(bots),
        active_bots=sum(1 for bot in bots if bot.is_active),
        totals={
            quote: QuoteTotalsPublic.model_validate(replace(total, bots=live_per_quote[quote]))
            for quote, total in totals.items()
        },
    )


def _counted_stats(bot: Bot, positions: list[Position], prices: dict[str, Decimal]) -> BotStats:
    stats = _stats(bot, positions, prices)
    return stats if bot.deleted_at is None else replace(stats, budget=Decimal(0))
