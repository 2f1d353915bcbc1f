"""The search loop: ask the study for configs, backtest them in the workers, tell results.

All asking and telling happens in this (the parent) process, so the sampler sees every
result and a seeded random search proposes the same configs in the same order whatever
``--jobs`` is. With several workers, up to two trials per worker are in flight, so a
worker never waits for the sampler; with one job each result is told before the next
ask. ``trials`` counts backtested configs.

A proposal that breaks a rule between parameters (:meth:`SearchSpace.check`) is pruned
without a backtest and does not count: it is told FAIL with the reason in its
``invalid`` attribute. Not PRUNED: TPE counts pruned trials into its history and, while
few trials have completed, into its "good" group, so it would keep proposing near
invalid configs (measured: 519 invalid proposals for 40 valid ones on RSI); failed
trials it ignores. A config already scored in this run is told its known score without
a second backtest. A backtest that raises is told FAIL with its message in ``error``.
After ``MAX_INVALID_IN_A_ROW`` invalid proposals in a row the search ends early with
what it has.

``sampler_seconds`` times the parent's ask, check and tell: the sampler's own overhead.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import optuna
from optuna.trial import Trial, TrialState

from tradefleet.optimize.evaluate import Failure, Outcome
from tradefleet.optimize.objectives import Score
from tradefleet.optimize.pool import Workers
from tradefleet.optimize.space import SearchSpace
from tradefleet.optimize.windows import Window

MAX_INVALID_IN_A_ROW = 1000
IN_FLIGHT_PER_JOB = 2
TRAIN_ATTR = "train"

TrialProgress = Callable[[int, int], None]
"""Called as ``progress(trials_done, trials_total)``."""


@dataclass(slots=True)
class SearchStats:
    """What one search did and how long it took."""

    evaluated: int = 0  # trials told a score or a failure (backtested or known)
    repeated: int = 0  # of those, configs scored earlier in this run (no backtest)
    invalid: int = 0  # proposals pruned for breaking a parameter rule
    failed: int = 0
    first_invalid: str = ""
    first_failure: str = ""
    stopped_early: bool = False
    sampler_seconds: float = 0.0
    wall_seconds: float = 0.0


@dataclass(slots=True)
class _Run:
    study: optuna.Study
    space: SearchSpace
    budget: Decimal
    history: int
    stats: SearchStats = field(default_factory=SearchStats)
    known: dict[str, Score] = field(default_factory=dict)
    invalid_in_a_row: int = 0

    def propose(self) -> tuple[Trial, dict[str, Any]] | None:
        """The next valid proposal, pruning invalid ones; None after too many in a row."""
        while self.invalid_in_a_row < MAX_INVALID_IN_A_ROW:
            started = time.perf_counter()
            trial = self.study.ask(self.space.distributions)
            reason = self.space.check(trial.params, self.budget, self.history)
            if not reason:
                self.invalid_in_a_row = 0
                self.stats.sampler_seconds += time.perf_counter() - started
                return trial, dict(trial.params)
            trial.set_user_attr("invalid", reason)
            self.study.tell(trial, state=TrialState.FAIL)
            self.stats.sampler_seconds += time.perf_counter() - started
            self.stats.invalid += 1
            self.stats.first_invalid = self.stats.first_invalid or reason
            self.invalid_in_a_row += 1
        self.stats.stopped_early = True
        return None

    def tell(self, trial: Trial, key: str, outcome: Outcome) -> None:
        started = time.perf_counter()
        self.stats.evaluated += 1
        if isinstance(outcome, Failure):
            self.stats.failed += 1
            self.stats.first_failure = self.stats.first_failure or outcome.message
            trial.set_user_attr("error", outcome.message)
            self.study.tell(trial, state=TrialState.FAIL)
        else:
            self.known[key] = outcome
            trial.set_user_attr(TRAIN_ATTR, outcome.to_attr())
            self.study.tell(trial, outcome.objective)
        self.stats.sampler_seconds += time.perf_counter() - started


def params_key(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True)


def run_search(
    study: optuna.Study,
    space: SearchSpace,
    workers: Workers,
    window: Window,
    *,
    trials: int,
    budget: Decimal,
    history: int,
    progress: TrialProgress | None = None,
) -> SearchStats:
    """Run ``trials`` backtested trials of ``space`` over ``window`` into ``study``."""
    run = _Run(study, space, budget, history)
    started = time.perf_counter()
    pending: dict[Future[Outcome], tuple[Trial, str]] = {}
    submitted = 0
    in_flight = 1 if workers.jobs == 1 else workers.jobs * IN_FLIGHT_PER_JOB
    while submitted < trials or pending:
        while submitted < trials and len(pending) < in_flight:
            proposal = run.propose()
            if proposal is None:
                trials = submitted
                break
            trial, params = proposal
            submitted += 1
            key = params_key(params)
            if key in run.known:
                run.stats.repeated += 1
                run.tell(trial, key, run.known[key])
                _report(progress, run.stats.evaluated, trials)
                continue
            pending[workers.submit(space.config(params), window)] = (trial, key)
        if not pending:
            continue
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            trial, key = pending.pop(future)
            run.tell(trial, key, future.result())
            _report(progress, run.stats.evaluated, trials)
    run.stats.wall_seconds = time.perf_counter() - started
    return run.stats


def _report(progress: TrialProgress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)
