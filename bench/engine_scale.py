"""Engine scale benchmark: 1,000 active bots over 50 products on the simulated market.

Prints seconds per engine cycle (every bot evaluated on a newly closed candle), candle
fetches per cycle (must equal the distinct product x timeframe pairs), bots stepped and
bot steps failed per cycle (should be 0), and peak memory.

    .venv/bin/python bench/engine_scale.py [--bots 1000] [--products 50] [--cycles 20]
        [--database-url URL]   (default: a fresh SQLite file in a temporary folder)
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
from decimal import Decimal
from itertools import pairwise
from typing import Any

from tradefleet.config import MarketKind, Settings
from tradefleet.db.migrate import upgrade_database
from tradefleet.db.models import Bot, Fill, Position
from tradefleet.db.session import make_engine, make_session_factory
from tradefleet.deals.grid import grid_levels
from tradefleet.deals.settings import GridSettings
from tradefleet.domain import ProductSpec
from tradefleet.engine.runner import Engine
from tradefleet.market import ManualClock, MarketService, SimulatedSource
from tradefleet.market.products import simulated_catalog
from tradefleet.strategies import StrategyRegistry

TIMEFRAME = "5m"
TF_SECONDS = 300
START = 1_735_689_600  # 2025-01-01 00:00 UTC
CONFIGS: dict[str, dict[str, Any]] = {
    "rsi": {"take_profit_pct": 1.5, "safety_order_count": 3},
    "macd_dca": {"min_profit_pct": 0.5},
    "bollinger": {"stop_loss_pct": 5},
    "simple_dca": {"interval_minutes": 60, "take_profit_pct": 1},
    "ema_cross": {"take_profit_pct": 2, "trailing_deviation_pct": 0.5},
}
GRID_LEVELS = 11  # the price in the middle, five levels either side
GRID_STEP = Decimal("0.006")  # levels 0.6 % of the price apart ...
GRID_MIN_TICKS = 5  # ... but at least this many price increments, on coarse-tick products


def grid_config(price: float, spec: ProductSpec, budget: Decimal) -> dict[str, Any]:
    """A grid around ``price`` whose levels are whole ticks at least GRID_MIN_TICKS apart
    (a ±3 % range would put levels on the same tick where the price is a few hundred
    ticks) and whose buy levels cost half the budget; checked as the engine will."""
    tick = spec.price_increment
    middle = max(round(Decimal(price) / tick), 1)  # in ticks
    step = max(int(middle * GRID_STEP), GRID_MIN_TICKS)
    half = GRID_LEVELS // 2
    if middle - half * step < 1:
        raise SystemExit(f"{spec.product_id}: price {price} too few ticks for a grid")
    config: dict[str, Any] = {
        "lower_price": float((middle - half * step) * tick),
        "upper_price": float((middle + half * step) * tick),
        "levels": GRID_LEVELS,
        "quote_per_level": float(budget / (2 * (GRID_LEVELS - 1))),
    }
    settings = StrategyRegistry.create("grid", config).deal_settings(budget)  # budget check
    if not isinstance(settings, GridSettings):
        raise SystemExit("the grid strategy did not give grid settings")
    levels = grid_levels(settings, spec)  # what the engine computes on the first candle
    if min(b - a for a, b in pairwise(levels)) < GRID_MIN_TICKS * tick:
        raise SystemExit(f"{spec.product_id}: grid levels {levels} are too close together")
    return config


def bot_rows(bots: int, products: int, prices: dict[str, float]) -> list[Bot]:
    catalog = simulated_catalog(products)
    strategies = [*CONFIGS, "grid"]
    rows = []
    for index in range(bots):
        spec = catalog[index % products].spec
        strategy = strategies[index % len(strategies)]
        budget = Decimal("0.05") if spec.quote_currency == "BTC" else Decimal(500)
        config = dict(CONFIGS.get(strategy, {}))
        if strategy == "simple_dca":
            config["buy_amount"] = float(budget / 20)
        if strategy == "grid":
            config = grid_config(prices[spec.product_id], spec, budget)
        rows.append(
            Bot(
                name=f"bot {index:04d}",
                strategy_type=strategy,
                strategy_config=config,
                product_id=spec.product_id,
                timeframe=TIMEFRAME,
                budget=budget,
                is_active=True,
                manager_state={},
            )
        )
    return rows


async def main(args: argparse.Namespace) -> None:
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    upgrade_database(url)
    balances = {"BTC": Decimal(1000), "USD": Decimal(100_000_000), "USDC": Decimal(0)}
    settings = Settings(
        database_url=url,
        market=MarketKind.SIMULATED,
        paper_balances=balances,
        _env_file=None,  # type: ignore[call-arg]
    )
    clock = ManualClock(START + 1)
    source = SimulatedSource(settings.simulated_seed, clock, simulated_catalog(args.products))
    market = MarketService(source, clock)
    prices = {
        p.product_id: float(await market.last_price(p.product_id)) for p in await market.products()
    }
    sessions = make_session_factory(make_engine(url))
    with sessions() as session:
        session.add_all(bot_rows(args.bots, args.products, prices))
        session.commit()
    engine = Engine(settings, make_session_factory(make_engine(url, immediate=True)), market, clock)
    started = time.perf_counter()
    await engine.load()
    load_seconds = time.perf_counter() - started
    clock.advance(TF_SECONDS)
    first = await engine.run_cycle()  # fetches each pair's warm-up history
    reports = []
    for _ in range(args.cycles):
        clock.advance(TF_SECONDS)
        reports.append(await engine.run_cycle())
    with sessions() as session:
        fills = session.query(Fill).count()
        deals = session.query(Position).count()
        errors = session.query(Bot).filter(Bot.last_error.is_not(None)).count()
    seconds = [r.seconds for r in reports]
    pairs = len({(p, TIMEFRAME) for p in prices})
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    backend = url.split(":")[0]
    print(f"bots: {args.bots}, products: {args.products}, timeframe: {TIMEFRAME}, db: {backend}")
    print(f"load {len(engine.registry)} bots: {load_seconds:.2f} s")
    print(f"first cycle (warm-up history): {first.seconds:.2f} s, fetches {first.fetches}")
    print(
        f"seconds per cycle over {len(reports)} cycles: mean {statistics.mean(seconds):.3f}, "
        f"median {statistics.median(seconds):.3f}, max {max(seconds):.3f}"
    )
    print(
        f"fetches per cycle: {sorted({r.fetches for r in reports})} "
        f"(distinct product x timeframe pairs: {pairs})"
    )
    print(f"bots stepped per cycle: {sorted({r.bots_stepped for r in reports})}")
    print(f"bot steps failed per cycle: {sorted({r.errors for r in reports})} (should be 0)")
    print(f"fills: {fills}, deals: {deals}, bots with errors: {errors}")
    print(f"peak memory (max RSS): {peak_mb:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bots", type=int, default=1000)
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    asyncio.run(main(parser.parse_args()))
