"""``run_backtest``: one strategy over candles, on the live engine's decision code.

The strategy's signals come from ONE vectorised ``compute`` over all the candles (the
live engine computes the same values over its warm-up window; the strategies guarantee
the two agree). A fill engine (``engines``) then steps the deal manager and the paper
fill model through ``candles[start:]``: an order placed at the close of candle i is
active from ``time[i] + timeframe`` (not the next row's time, which differs across a
gap), exactly as in the live engine. Equity and metrics are derived from the fills.
The default engine is the compiled kernel (``fast_engine``); ``engine="reference"``
steps the Python deal manager itself, with identical results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from tradefleet.backtest.columns import FillColumns
from tradefleet.backtest.engines import DealSummary, EngineJob, Progress, get_engine
from tradefleet.backtest.equity import (
    Holdings,
    equity_curve,
    exact_curve,
    exact_equity,
    holding_mask,
    holdings,
)
from tradefleet.backtest.fast_engine import DEFAULT_ENGINE
from tradefleet.backtest.metrics import Metrics, MetricsInput, compute_metrics
from tradefleet.deals.settings import DealSettings, GridSettings, on_timeframe
from tradefleet.domain import CandleArrays, FeeSchedule, Fill, FloatArray, IntArray, ProductSpec
from tradefleet.market.base import TIMEFRAMES, timeframe_seconds
from tradefleet.services.bot_rules import budget_problems
from tradefleet.strategies import StrategyConfigError, StrategyRegistry
from tradefleet.strategies.parameters import field_error


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """What a backtest produced; ``times``/``closes``/``equity`` cover the traded candles."""

    strategy_id: str
    params: dict[str, Any]  # the validated config, defaults filled in
    settings: DealSettings | GridSettings
    product: ProductSpec
    tf_seconds: int
    budget: Decimal
    fees: FeeSchedule
    times: IntArray
    closes: FloatArray
    fills: Sequence[Fill]  # built on first access when the engine gave exact columns
    deals: Sequence[DealSummary]  # closed in closing order, then the open ones
    equity: FloatArray  # value at each traded candle's close, as floats
    holdings: Holdings  # exact cash and base behind the curve
    metrics: Metrics
    fill_columns: FillColumns | None = field(default=None, compare=False)  # ``fills``, exact

    def equity_points(self) -> list[tuple[int, Decimal]]:
        """``[(candle open time, exact equity at its close)]``, 18 decimal places."""
        return exact_curve(self.holdings, self.times, self.closes)


def infer_timeframe(candles: CandleArrays) -> int:
    """The smallest spacing between candles, which must be a supported timeframe."""
    if len(candles) < 2:
        raise ValueError("pass the timeframe: one candle does not show it")
    spacing = int(np.min(np.diff(candles.time)))
    if spacing not in TIMEFRAMES.values():
        raise ValueError(f"candles {spacing} s apart are no supported timeframe")
    return spacing


def run_backtest(  # noqa: PLR0917 - the documented call shape
    strategy_id: str,
    config: Mapping[str, Any] | None,
    candles: CandleArrays,
    product: ProductSpec,
    budget: Decimal,
    fees: FeeSchedule,
    *,
    timeframe: str | None = None,
    start: int = 0,
    engine: str = DEFAULT_ENGINE,
    progress: Progress | None = None,
) -> BacktestResult:
    """Backtest ``strategy_id`` with ``config`` over ``candles[start:]``.

    ``candles[:start]`` only warm the indicators up. ``timeframe`` (e.g. "5m") defaults to
    the candles' smallest spacing; ``engine`` names a fill engine (``engines``). Raises
    ``UnknownStrategyError`` / ``StrategyConfigError`` (bad strategy, parameter or
    budget) and ``ValueError`` (bad range, timeframe, engine).
    """
    strategy = StrategyRegistry.create(strategy_id, config)
    problems = budget_problems(budget)  # e.g. more places than any amount may have
    if problems:
        raise StrategyConfigError([field_error(name, message) for name, message in problems])
    tf = infer_timeframe(candles) if timeframe is None else timeframe_seconds(timeframe)
    settings = on_timeframe(strategy.deal_settings(budget), tf)
    if not 0 <= start < len(candles):
        raise ValueError(f"start {start} is outside the {len(candles)} candles")
    fill_engine = get_engine(engine)
    signals = strategy.compute(candles)
    job = EngineJob(
        settings=settings,
        candles=candles,
        buy=signals.buy,
        sell=signals.sell,
        product=product,
        fees=fees,
        tf_seconds=tf,
        start=start,
        progress=progress,
    )
    run = fill_engine(job)
    times = candles.time[start:]
    closes = candles.close[start:]
    fill_columns, deal_columns = run.columns()
    held = holdings(fill_columns, times, budget)
    equity = equity_curve(held, closes)
    metrics = compute_metrics(
        MetricsInput(
            budget=budget,
            fills=fill_columns,
            deals=deal_columns,
            equity=equity,
            holding=holding_mask(held, len(times)),
            final_equity=exact_equity(held, len(times) - 1, float(closes[-1])),
            first_open=float(candles.open[start]),
            last_close=float(closes[-1]),
            start=int(times[0]),
            end=int(times[-1]) + tf,
            tf_seconds=tf,
        )
    )
    return BacktestResult(
        strategy_id=strategy_id,
        params=dict(strategy.params),
        settings=settings,
        product=product,
        tf_seconds=tf,
        budget=budget,
        fees=fees,
        times=times,
        closes=closes,
        fills=run.fills,
        deals=run.deals,
        equity=equity,
        holdings=held,
        metrics=metrics,
        fill_columns=fill_columns,
    )
