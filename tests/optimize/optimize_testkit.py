"""Small builders for the optimiser tests: a seeded random walk, its CSV, a request."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from tradefleet.domain import CandleArrays, FeeSchedule
from tradefleet.market.products import default_spec
from tradefleet.optimize.evaluate import EvalSetup
from tradefleet.optimize.runner import OptimizeRequest
from tradefleet.optimize.space import build_space, max_warmup, parse_ranges
from tradefleet.optimize.windows import parse_share, split_folds
from tradefleet.strategies import StrategyRegistry

FIVE_MINUTES = 300
START = 1_704_067_200  # 2024-01-01 00:00 UTC
PRODUCT = default_spec("ETH-USD")  # price and quote increments 0.01, minimum order 1 USD
BUDGET = Decimal(1000)
# Short RSI periods keep the warm-up (and so the candles a test needs) small.
RSI_RANGES = ["rsi_period=5:20", "profit_target_pct=0:3"]


def random_walk(count: int, seed: int = 5, start_price: float = 100.0) -> CandleArrays:
    """5-minute candles, 0.5 % volatility per candle: the RSI crosses its levels often."""
    rng = np.random.default_rng(seed)
    close = np.round(start_price * np.exp(np.cumsum(rng.normal(0.0, 0.005, count))), 2)
    open_ = np.concatenate(([start_price], close[:-1]))
    wick = np.abs(rng.normal(0.0, 0.002, (2, count)))
    return CandleArrays(
        time=START + FIVE_MINUTES * np.arange(count, dtype=np.int64),
        open=open_,
        high=np.round(np.maximum(open_, close) * (1 + wick[0]), 2),
        low=np.round(np.minimum(open_, close) * (1 - wick[1]), 2),
        close=close,
        volume=np.ones(count),
    )


def write_candles(path: Path, candles: CandleArrays) -> Path:
    lines = ["timestamp,open,high,low,close,volume"]
    for i in range(len(candles)):
        lines.append(
            f"{candles.time[i]},{candles.open[i]:.2f},{candles.high[i]:.2f},"
            f"{candles.low[i]:.2f},{candles.close[i]:.2f},1"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


SETUP = EvalSetup(
    strategy_id="rsi",
    product=PRODUCT,
    budget=BUDGET,
    fees=FeeSchedule(),
    timeframe="5m",
    engine="reference",
    objective="sharpe",
)


def rsi_request(candles: CandleArrays, **changes: Any) -> OptimizeRequest:
    """A seeded random search of RSI over a 70/30 split of ``candles``."""
    space = build_space(StrategyRegistry.get("rsi"), {}, None, parse_ranges(RSI_RANGES))
    history = max_warmup(space) - 1
    request = OptimizeRequest(
        setup=SETUP,
        space=space,
        candles=candles,
        folds=split_folds(history, len(candles) - history, parse_share("0.7")),
        trials=10,
        jobs=1,
        sampler="random",
        seed=3,
        top=3,
    )
    return replace(request, **changes)
