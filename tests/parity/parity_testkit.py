"""The live engine in paper mode over a replayed candle file, and the backtest beside it.

``run_engine`` steps a real ``Engine`` (database, paper account, ReplaySource, manual
clock) one closed candle per cycle. Each bot is created and started on the cycle whose
newest closed candle is the first with a full warm-up behind it (index ``warmup - 1``),
so the backtest over the same file with ``start = warmup - 1`` trades the same candles
with the same history available.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tradefleet.config import MarketKind, Settings
from tradefleet.db.models import Bot, Fill, Position
from tradefleet.db.session import make_engine, make_session_factory
from tradefleet.domain import Candle, FeeSchedule
from tradefleet.engine.runner import Engine
from tradefleet.market import ManualClock, MarketService, ReplaySource
from tradefleet.market.csvfile import write_candle_csv
from tradefleet.services import bots as bot_service
from tradefleet.strategies import StrategyRegistry

START = 1_700_000_000 // 3600 * 3600
MINUTE = 60
PRODUCT_ID = "ETH-BTC"
BUDGET = Decimal("0.1")
FEES = FeeSchedule(taker=Decimal("0.006"), maker=Decimal("0.004"), slippage=Decimal("0.0005"))

FillRow = tuple[int, str, Decimal, Decimal, Decimal, Decimal]
DealRow = tuple[int, str, str | None, Decimal, Decimal, Decimal, Decimal | None]


def random_walk(seed: int, count: int, start_price: float = 0.05) -> list[Candle]:
    """One-minute candles: volatile stretches, calm ones and the odd gapping open."""
    rng = random.Random(seed)
    candles: list[Candle] = []
    close = start_price
    vol = 0.004
    for index in range(count):
        if index % 60 == 0:
            vol = rng.choice((0.002, 0.004, 0.007))
        drift = math.sin(index / 97) * vol * 0.3
        open_ = close * (1 + rng.gauss(0, vol / 2)) if rng.random() < 0.05 else close
        close = open_ * math.exp(rng.gauss(drift, vol))
        high = max(open_, close) * (1 + abs(rng.gauss(0, vol / 2)))
        low = min(open_, close) * (1 - abs(rng.gauss(0, vol / 2)))
        candles.append(
            Candle(
                time=START + index * MINUTE,
                open=round(open_, 8),
                high=round(high, 8),
                low=round(low, 8),
                close=round(close, 8),
                volume=round(rng.uniform(1, 50), 4),
            )
        )
    return candles


def write_replay(directory: Path, candles: list[Candle]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{PRODUCT_ID}_1m.csv"
    write_candle_csv(path, candles)
    return path


@dataclass(frozen=True)
class BotPlan:
    name: str
    strategy: str
    config: dict[str, Any]

    def warmup(self) -> int:
        return StrategyRegistry.create(self.strategy, self.config).warmup()


def _settings(url: str, replay_dir: Path, fees: FeeSchedule = FEES) -> Settings:
    return Settings(  # type: ignore[call-arg]
        database_url=url,
        market=MarketKind.REPLAY,
        replay_dir=replay_dir,
        fee_taker=fees.taker,
        fee_maker=fees.maker,
        slippage=fees.slippage,
        paper_balances={"BTC": Decimal(100), "ETH": Decimal(0)},
        _env_file=None,
    )


async def run_engine(
    url: str,
    replay_dir: Path,
    plans: list[BotPlan],
    candles: list[Candle],
    fees: FeeSchedule = FEES,
) -> dict[str, int]:
    """Replay every candle through the engine; returns bot ids by plan name."""
    settings = _settings(url, replay_dir, fees)
    clock = ManualClock(candles[0].time)
    market = MarketService(ReplaySource(replay_dir, clock), clock)
    engine = Engine(settings, make_session_factory(make_engine(url, immediate=True)), market, clock)
    await engine.load()
    sessions = make_session_factory(make_engine(url))
    product = await market.product(PRODUCT_ID)
    starts = {plan.name: plan.warmup() - 1 for plan in plans}
    bot_ids: dict[str, int] = {}
    for index in range(min(starts.values()), len(candles)):
        clock.set(candles[index].time + MINUTE)  # candle `index` has just closed
        for plan in plans:
            if starts[plan.name] == index:
                with sessions() as session:
                    data = bot_service.BotInput(
                        name=plan.name,
                        strategy_type=plan.strategy,
                        product_id=PRODUCT_ID,
                        timeframe="1m",
                        budget=BUDGET,
                        strategy_config=plan.config,
                    )
                    bot = bot_service.create_bot(session, data, product)
                    bot_service.set_active(session, bot.id, True)
                    bot_ids[plan.name] = bot.id
        await engine.run_cycle()
    await market.close()
    return bot_ids


def engine_fills(url: str, bot_id: int) -> list[FillRow]:
    with make_session_factory(make_engine(url))() as session:
        rows = session.scalars(select(Fill).where(Fill.bot_id == bot_id).order_by(Fill.id))
        return [
            (int(r.time.timestamp()), r.side, r.price, r.base_amount, r.quote_amount, r.fee)
            for r in rows
        ]


def engine_deals(url: str, bot_id: int) -> list[DealRow]:
    with make_session_factory(make_engine(url))() as session:
        rows = session.scalars(
            select(Position).where(Position.bot_id == bot_id).order_by(Position.seq)
        )
        return [
            (r.seq, r.status, r.close_reason, r.bought_base, r.bought_quote, r.sold_quote,
             r.realized_pnl)
            for r in rows
        ]  # fmt: skip


def engine_errors(url: str) -> dict[str, str]:
    with make_session_factory(make_engine(url))() as session:
        return {bot.name: bot.last_error for bot in session.scalars(select(Bot)) if bot.last_error}
