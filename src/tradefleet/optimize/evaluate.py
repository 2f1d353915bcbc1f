"""One trial: backtest a config over one window and judge it, in a worker or in-process.

Backtests go through ``backtest.runner.run_backtest``, the same call ``tradefleet
backtest`` makes, so a config scores here exactly what a backtest of it reports. The fill
engine is the fastest one registered (:func:`pick_engine`). A worker process receives the
candles once, when it starts, and then only configs and windows.

A backtest that raises is a failed trial with its message, never a crashed search: the
result crosses the process boundary as a plain :class:`Failure` (a strategy's own
exception types need not survive pickling).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradefleet.backtest.data import slice_candles
from tradefleet.backtest.engines import engine_names
from tradefleet.backtest.runner import run_backtest
from tradefleet.domain import CandleArrays, FeeSchedule, ProductSpec
from tradefleet.optimize.objectives import ObjectiveName, Score, score
from tradefleet.optimize.windows import Window

REFERENCE_ENGINE = "reference"
_ENGINE_PACKAGES = ("tradefleet.backtest.kernel",)  # register their engines on import


@dataclass(frozen=True, slots=True)
class Failure:
    """A backtest that raised: its exception type and message."""

    message: str


Outcome = Score | Failure


@dataclass(frozen=True, slots=True)
class EvalSetup:
    """Everything a trial's backtest needs besides the config and the window."""

    strategy_id: str
    product: ProductSpec
    budget: Decimal
    fees: FeeSchedule
    timeframe: str
    engine: str
    objective: ObjectiveName


def load_engines() -> list[str]:
    """Import the packages that register faster fill engines; the names now registered."""
    for package in _ENGINE_PACKAGES:
        if importlib.util.find_spec(package) is not None:
            importlib.import_module(package)
    return engine_names()


def pick_engine(requested: str | None = None) -> str:
    """``requested`` if registered, else the fastest registered engine.

    ``reference`` steps the exact Decimal simulator candle by candle; every other engine
    is registered as a faster implementation that must give the same fills, so any of
    them is preferred (the first by name when there are several).
    """
    names = load_engines()
    if requested is not None:
        if requested not in names:
            raise ValueError(f"unknown backtest engine {requested!r}; known: {', '.join(names)}")
        return requested
    fast = [name for name in names if name != REFERENCE_ENGINE]
    return fast[0] if fast else REFERENCE_ENGINE


class Evaluator:
    """Scores configs over windows of one candle array."""

    def __init__(self, setup: EvalSetup, candles: CandleArrays) -> None:
        self.setup = setup
        self.candles = candles

    def __call__(self, config: Mapping[str, Any], window: Window) -> Outcome:
        setup = self.setup
        try:
            result = run_backtest(
                setup.strategy_id, config, slice_candles(self.candles, 0, window.end),
                setup.product, setup.budget, setup.fees,
                timeframe=setup.timeframe, start=window.begin, engine=setup.engine,
            )  # fmt: skip
        except Exception as error:  # any failure is the trial's, never the search's
            return Failure(f"{type(error).__name__}: {error}")
        return score(setup.objective, result.metrics)


_worker: Evaluator | None = None


def init_worker(setup: EvalSetup, candles: CandleArrays) -> None:
    """Process-pool initializer: keep the candles for every trial this worker runs."""
    global _worker  # noqa: PLW0603 - one evaluator per worker process, set once
    load_engines()
    _worker = Evaluator(setup, candles)


def evaluate_in_worker(config: Mapping[str, Any], window: Window) -> Outcome:
    if _worker is None:
        raise RuntimeError("evaluate_in_worker runs only in a worker started by init_worker")
    return _worker(config, window)


def warm_worker() -> bool:
    """A no-op task that makes the pool start its processes before the search is timed."""
    return _worker is not None
