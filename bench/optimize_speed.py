"""How fast ``tradefleet optimize`` searches: 1,000 RSI trials over a year of 5 m candles.

    .venv/bin/python bench/optimize_speed.py [--trials 1000] [--jobs 2] [--sampler tpe]
                                             [--engine NAME] [--candles 105120]

Generates a seeded random walk of 5-minute candles (one year: 105,120; about 70 %
annualised volatility, prices on a 0.01 grid), then runs the very call behind
``tradefleet optimize --strategy rsi --trials N --jobs J`` in-process: the default 70/30
split, the RSI strategy's default search space (its signal/entry/exit parameters), the
fastest registered fill engine unless ``--engine`` says otherwise. Prints the wall time
of the search (worker start-up included), trials per second, the sampler's own share of
the wall time (ask, rule check and tell in the parent), the invalid proposals pruned,
and the total with the out-of-sample judging of the best five. Goal: 1,000 trials in
<= 30 s wall with two jobs. Prints figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal

import numpy as np

from tradefleet.domain import CandleArrays, FeeSchedule, ProductSpec
from tradefleet.optimize.evaluate import EvalSetup, pick_engine
from tradefleet.optimize.runner import OptimizeRequest, optimize
from tradefleet.optimize.space import build_space, max_warmup
from tradefleet.optimize.windows import parse_share, split_folds
from tradefleet.strategies import StrategyRegistry

FIVE_MINUTES = 300
START = 1_704_067_200  # 2024-01-01 00:00 UTC
GOAL_SECONDS = 30.0
PRODUCT = ProductSpec(
    product_id="ETH-USD",
    base_currency="ETH",
    quote_currency="USD",
    base_increment=Decimal("0.00000001"),
    quote_increment=Decimal("0.01"),
    price_increment=Decimal("0.01"),
    base_min_size=Decimal("0.00000001"),
    quote_min_size=Decimal("1"),
)


def make_candles(count: int, seed: int = 11, start_price: float = 2000.0) -> CandleArrays:
    """A reproducible 5-minute random walk; each candle opens at the previous close."""
    rng = np.random.default_rng(seed)
    vol = 0.7 / np.sqrt(105_120)  # per 5 minutes, ~70 % a year
    close = np.round(start_price * np.exp(np.cumsum(rng.normal(0.0, vol, count))), 2)
    open_ = np.concatenate(([start_price], close[:-1]))
    wick = np.abs(rng.normal(0.0, vol / 2, (2, count)))
    return CandleArrays(
        time=START + FIVE_MINUTES * np.arange(count, dtype=np.int64),
        open=open_,
        high=np.round(np.maximum(open_, close) * (1 + wick[0]), 2),
        low=np.round(np.minimum(open_, close) * (1 - wick[1]), 2),
        close=close,
        volume=np.ones(count),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sampler", choices=("tpe", "random"), default="tpe")
    parser.add_argument("--engine", default=None, help="default: the fastest registered")
    parser.add_argument("--candles", type=int, default=105_120)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    candles = make_candles(args.candles)
    space = build_space(StrategyRegistry.get("rsi"), {})
    history = max_warmup(space) - 1
    engine = pick_engine(args.engine)
    request = OptimizeRequest(
        setup=EvalSetup(
            strategy_id="rsi",
            product=PRODUCT,
            budget=Decimal(10_000),
            fees=FeeSchedule(),
            timeframe="5m",
            engine=engine,
            objective="sharpe",
        ),
        space=space,
        candles=candles,
        folds=split_folds(history, len(candles) - history, parse_share("0.7")),
        trials=args.trials,
        jobs=args.jobs,
        sampler=args.sampler,
        seed=args.seed,
    )
    print(
        f"{len(candles):,} 5m candles (train {len(request.folds[0].train):,}, "
        f"test {len(request.folds[0].test):,}), rsi over {', '.join(space.names)}; "
        f"engine {engine}, sampler {args.sampler}, {args.jobs} jobs, {args.trials:,} trials"
    )
    started = time.perf_counter()
    result = optimize(request)
    total = time.perf_counter() - started
    stats = result.folds[0].stats
    search = stats.wall_seconds
    print(f"search wall      {search:8.2f} s  (worker start-up before it: see total)")
    print(f"trials/s         {stats.evaluated / search:8.1f}  ({stats.evaluated:,} backtested)")
    print(
        f"sampler          {stats.sampler_seconds:8.2f} s  "
        f"({stats.sampler_seconds / search * 100:.1f} % of the search wall)"
    )
    print(f"invalid pruned   {stats.invalid:8,}  (not backtested, not counted as trials)")
    print(f"total            {total:8.2f} s  (worker start-up + search + OOS judging of the top 5)")
    verdict = "met" if total <= GOAL_SECONDS else "NOT met"
    print(f"goal <= {GOAL_SECONDS:g} s wall for {args.trials:,} trials: {verdict}")
    best = result.chosen
    if best is not None:
        print(f"best: trial {best.trial_number}, IS sharpe {best.train.objective:.3f}")


if __name__ == "__main__":
    main()
