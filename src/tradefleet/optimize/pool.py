"""Where trials run: worker processes (one per job), or this process for ``--jobs 1``.

Processes, not threads: a backtest is Python and NumPy code that holds the GIL for most of
its time. Each worker receives the candles once, through the pool's initializer, and then
only a config and a window per trial. On Linux the workers are forked, so they start in
milliseconds with the candles and the compiled engines already in memory; elsewhere they
are spawned and import tradefleet once. Create the pool before opening database
connections or starting threads: a forked child must not inherit either.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor, wait
from types import TracebackType
from typing import Any

from tradefleet.domain import CandleArrays
from tradefleet.optimize.evaluate import (
    EvalSetup,
    Evaluator,
    Outcome,
    evaluate_in_worker,
    init_worker,
    warm_worker,
)
from tradefleet.optimize.windows import Window


class Workers:
    """Runs ``Evaluator`` calls: in ``jobs`` processes, or inline when ``jobs`` is 1."""

    def __init__(self, jobs: int, setup: EvalSetup, candles: CandleArrays) -> None:
        if jobs < 1:
            raise ValueError("jobs must be at least 1")
        self.jobs = jobs
        self._inline = Evaluator(setup, candles)  # cheap: it only holds references
        self._pool: Executor | None = None
        if jobs > 1:
            self._pool = ProcessPoolExecutor(
                max_workers=jobs,
                mp_context=_context(),
                initializer=init_worker,
                initargs=(setup, candles),
            )
            wait([self._pool.submit(warm_worker) for _ in range(jobs)])

    def submit(self, config: Mapping[str, Any], window: Window) -> Future[Outcome]:
        """The trial's outcome; inline runs finish before this returns."""
        if self._pool is not None:
            return self._pool.submit(evaluate_in_worker, dict(config), window)
        done: Future[Outcome] = Future()
        done.set_result(self._inline(config, window))
        return done

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")
