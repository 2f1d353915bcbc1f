"""Build a bot's runtime from its database row: strategy, deal rules, restored deals."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from tradefleet.db.models import Bot
from tradefleet.deals.settings import DealSettings, GridSettings, on_timeframe
from tradefleet.domain import ProductSpec
from tradefleet.engine.runtime import BotRuntime
from tradefleet.engine.store import restore_state
from tradefleet.market.base import timeframe_seconds
from tradefleet.services.bot_rules import ACCOUNTS, LIVE_OFF
from tradefleet.strategies.base import StrategyRegistry


def bot_marker(bot: Bot) -> str:
    """What tells the engine a bot row changed since it was loaded."""
    return f"{bot.updated_at.isoformat()}|{bot.is_active}"


def build_runtime(
    session: Session,
    bot: Bot,
    product: ProductSpec,
    realized: Decimal | None = None,
    *,
    live: bool = False,
) -> BotRuntime:
    """A runtime for ``bot``; raises ValueError/KeyError when its stored config is invalid.
    ``realized``: the bot's realised PnL when the caller read it for many bots at once;
    ``live``: the server trades live (else a live bot is not run, and says why)."""
    if bot.account == "live" and not live:
        raise ValueError(f"account 'live': {LIVE_OFF}")
    if bot.account not in ACCOUNTS:  # refused by the API and the CLI; a hand edit is shown
        raise ValueError(f"unknown account {bot.account!r}")
    strategy = StrategyRegistry.create(bot.strategy_type, bot.strategy_config)
    tf_seconds = timeframe_seconds(bot.timeframe)
    settings: DealSettings | GridSettings = on_timeframe(
        strategy.deal_settings(bot.budget), tf_seconds
    )
    state, book, position_ids = restore_state(session, bot, realized)
    state.entries_paused = not bot.is_active
    return BotRuntime(
        bot_id=bot.id,
        name=bot.name,
        product=product,
        timeframe=bot.timeframe,
        tf_seconds=tf_seconds,
        strategy=strategy,
        settings=settings,
        state=state,
        is_active=bot.is_active,
        last_candle_time=bot.last_candle_time,
        updated_marker=bot_marker(bot),
        book=book,
        position_ids=position_ids,
        halted=bot.halted_at is not None,
        account=bot.account,
    )
