"""``optimize``: search each fold's train window, then judge its best configs out of sample.

For every fold (one for a train/test split, K for walk-forward) a study is opened (with
shared storage, fold k of K is the study ``NAME.fold-k-of-K``; a split uses ``NAME``),
``trials`` configs are backtested on the train window, and the ``top`` best distinct
configs in the study (this machine's trials and any other's) are backtested on the test
window that follows. Ranking is by the train objective only: the test figures judge the
choice, they never make it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from tradefleet.domain import CandleArrays
from tradefleet.optimize.evaluate import EvalSetup, Evaluator, Outcome
from tradefleet.optimize.objectives import Score
from tradefleet.optimize.pool import Workers
from tradefleet.optimize.search import (
    TRAIN_ATTR,
    SearchStats,
    TrialProgress,
    params_key,
    run_search,
)
from tradefleet.optimize.space import SearchSpace
from tradefleet.optimize.study import open_study
from tradefleet.optimize.windows import MIN_WINDOW, Fold, Window


@dataclass(frozen=True, slots=True)
class OptimizeRequest:
    setup: EvalSetup
    space: SearchSpace
    candles: CandleArrays  # traded windows index into these; earlier candles are history
    folds: list[Fold]
    trials: int  # backtested trials per fold, on this machine
    jobs: int = 1
    sampler: str = "tpe"
    seed: int | None = None
    top: int = 5
    storage: str | None = None
    study: str | None = None


@dataclass(frozen=True, slots=True)
class RankedConfig:
    trial_number: int
    params: dict[str, Any]  # the searched values
    config: dict[str, Any]  # the complete strategy config
    train: Score
    test: Outcome


@dataclass(frozen=True, slots=True)
class FoldResult:
    fold: Fold
    study_name: str
    stats: SearchStats
    best: list[RankedConfig]  # best train objective first
    completed: int  # completed trials in the study, other machines' included


@dataclass(frozen=True, slots=True)
class OptimizeResult:
    folds: list[FoldResult]
    wall_seconds: float

    @property
    def chosen(self) -> RankedConfig | None:
        """The config to trade: the best of the most recent fold's training."""
        best = self.folds[-1].best
        return best[0] if best else None


FoldProgress = Callable[[Fold], TrialProgress | None]
"""Given the fold about to be searched, the trial progress callback to use for it."""


def study_name(base: str | None, fold: Fold, folds: int) -> str | None:
    if base is None or folds == 1:
        return base
    return f"{base}.fold-{fold.number}-of-{folds}"


def optimize(request: OptimizeRequest, progress: FoldProgress | None = None) -> OptimizeResult:
    """Search and judge every fold of ``request``; workers start before any storage opens.

    One tiny backtest runs here first: it loads (or compiles) a compiled fill engine in
    this process, so forked workers inherit it instead of each loading it again.
    """
    started = time.perf_counter()
    first = request.folds[0].train
    warm_up = Window(first.begin, first.begin + MIN_WINDOW)
    Evaluator(request.setup, request.candles)(request.space.base_config, warm_up)
    results: list[FoldResult] = []
    with Workers(request.jobs, request.setup, request.candles) as workers:
        for fold in request.folds:
            on_trial = None if progress is None else progress(fold)
            results.append(_fold(request, workers, fold, on_trial))
    return OptimizeResult(results, time.perf_counter() - started)


def _fold(
    request: OptimizeRequest, workers: Workers, fold: Fold, progress: TrialProgress | None
) -> FoldResult:
    study = open_study(
        storage=request.storage,
        name=study_name(request.study, fold, len(request.folds)),
        sampler=request.sampler,
        seed=request.seed,
        trials=request.trials,
        setup=study_setup(request, fold.train),
    )
    stats = run_search(
        study, request.space, workers, fold.train,
        trials=request.trials, budget=request.setup.budget,
        history=fold.train.begin, progress=progress,
    )  # fmt: skip
    leaders = best_trials(study, request.top)
    configs = [request.space.config(trial.params) for trial in leaders]
    tests = [workers.submit(config, fold.test) for config in configs]
    best = [
        RankedConfig(
            trial_number=trial.number,
            params=dict(trial.params),
            config=config,
            train=Score.from_attr(trial.user_attrs[TRAIN_ATTR]),
            test=test.result(),
        )
        for trial, config, test in zip(leaders, configs, tests, strict=True)
    ]
    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return FoldResult(fold, study.study_name, stats, best, len(completed))


def best_trials(study: optuna.Study, top: int) -> list[FrozenTrial]:
    """The ``top`` completed trials with the highest value, one per distinct config
    (ties: the earlier trial)."""
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    ranked = sorted(
        (t for t in done if TRAIN_ATTR in t.user_attrs and t.value is not None),
        key=lambda t: (-(t.value or 0.0), t.number),
    )
    seen: set[str] = set()
    leaders: list[FrozenTrial] = []
    for trial in ranked:
        key = params_key(dict(trial.params))
        if key not in seen:
            seen.add(key)
            leaders.append(trial)
        if len(leaders) == top:
            break
    return leaders


def study_setup(request: OptimizeRequest, train: Window) -> dict[str, Any]:
    """What a shared study must agree on across machines (see ``study``)."""
    setup = request.setup
    candles = request.candles
    return {
        "strategy": setup.strategy_id,
        "objective": setup.objective,
        "space": request.space.describe(),
        "base_config": request.space.base_config,
        "product": setup.product.product_id,
        "timeframe": setup.timeframe,
        "budget": str(setup.budget),
        "fees": [str(setup.fees.taker), str(setup.fees.maker), str(setup.fees.slippage)],
        "train": [int(candles.time[train.begin]), int(candles.time[train.end - 1])],
        "history": train.begin,
        "data": candle_fingerprint(candles, train.end),
    }


def candle_fingerprint(candles: CandleArrays, end: int) -> str:
    """SHA-256 (first 16 hex digits) of the candles ``[0, end)``: same data, same hash."""
    digest = hashlib.sha256()
    for column in (candles.time, candles.open, candles.high, candles.low, candles.close):
        digest.update(np.ascontiguousarray(column[:end]).tobytes())
    return digest.hexdigest()[:16]
