"""Helpers for engine tests: a real engine on a simulated market with a manual clock."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.audit import duplicate_problems, ledger_problems
from tradefleet.config import MarketKind, Settings
from tradefleet.db.models import Fill
from tradefleet.db.session import make_engine, make_session_factory
from tradefleet.engine.runner import CycleReport, Engine
from tradefleet.market import ManualClock, MarketService, SimulatedSource
from tradefleet.market.base import MarketSource
from tradefleet.services import bots as bot_service

START = 1_700_000_000 // 3600 * 3600  # an hour boundary, so every timeframe lines up
SEED = 7

# Configurations that trade often on the simulated market within a few hours of 1m candles.
BUSY_CONFIGS: dict[str, dict[str, Any]] = {
    "rsi": {
        "rsi_period": 7,
        "oversold": 40,
        "overbought": 60,
        "profit_target_pct": 0.2,
        "take_profit_pct": 0.8,
        "safety_order_count": 2,
        "safety_order_deviation_pct": 0.3,
    },
    "macd_dca": {"min_profit_pct": 0.1, "stop_loss_pct": 1, "take_profit_pct": 1},
    "bollinger": {"bb_period": 10, "min_profit_pct": 0.1, "stop_loss_pct": 1.5},
    "simple_dca": {"buy_amount": 0.002, "interval_minutes": 15, "take_profit_pct": 0.4},
    "ema_cross": {
        "fast_period": 5,
        "slow_period": 12,
        "take_profit_pct": 0.5,
        "trailing_deviation_pct": 0.2,
    },
}


@dataclass
class Harness:
    engine: Engine
    clock: ManualClock
    sessions: sessionmaker[Session]
    market: MarketService

    async def run(self, cycles: int, step: int = 60) -> None:
        for _ in range(cycles):
            await self.run_one(step)

    async def run_one(self, step: int = 60) -> CycleReport:
        self.clock.advance(step)
        return await self.engine.run_cycle()


def settings_for(url: str) -> Settings:
    return Settings(database_url=url, market=MarketKind.SIMULATED, _env_file=None)  # type: ignore[call-arg]


async def make_harness(
    url: str, clock: ManualClock | None = None, source: MarketSource | None = None
) -> Harness:
    """A loaded engine (no background loop) over ``url``; the clock starts at START + 1;
    the market is the simulated one unless ``source`` (on the same clock) is given."""
    settings = settings_for(url)
    sessions = make_session_factory(make_engine(url))
    clock = clock or ManualClock(START + 1)
    market = MarketService(source or SimulatedSource(SEED, clock), clock)
    writes = make_session_factory(make_engine(url, immediate=True))
    engine = Engine(settings, writes, market, clock, read_sessions=sessions)
    await engine.load()
    return Harness(engine, clock, sessions, market)


async def create_bot(
    harness: Harness,
    name: str,
    strategy: str,
    config: dict[str, Any],
    *,
    product_id: str = "ETH-BTC",
    timeframe: str = "1m",
    budget: str = "0.1",
    start: bool = True,
) -> int:
    product = await harness.market.product(product_id)
    with harness.sessions() as session:
        data = bot_service.BotInput(
            name=name,
            strategy_type=strategy,
            product_id=product_id,
            timeframe=timeframe,
            budget=Decimal(budget),
            strategy_config=config,
        )
        bot = bot_service.create_bot(session, data, product)
        if start:
            bot_service.set_active(session, bot.id, True)
        return bot.id


def fill_rows(sessions: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    """Every fill as comparable plain values, in a stable order."""
    with sessions() as session:
        rows = session.scalars(select(Fill).order_by(Fill.trade_id)).all()
        return [
            (r.trade_id, r.bot_id, r.side, r.time, r.price, r.base_amount, r.quote_amount, r.fee)
            for r in rows
        ]


def ledger_mismatches(sessions: sessionmaker[Session]) -> list[str]:
    """The ledger identity and the exactly-once checks of ``tradefleet.audit``."""
    return ledger_problems(sessions) + duplicate_problems(sessions)
