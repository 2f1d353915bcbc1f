"""Backtests requested through the API, run in the background.

Each accepted run is handed to a small thread pool (``MAX_CONCURRENT_BACKTESTS`` at once;
the rest wait in its queue), so the event loop serving the API never computes. The
worker records the run's state, progress (at most every ``PROGRESS_INTERVAL`` seconds)
and result in the database with short statements of its own. An asyncio task watches
every run: when the server stops, the loop cancels it and the run is told to stop at its
next progress report, so a shutdown never waits for a long backtest. Deleting a run
stops it the same way. Runs that a stopped server left unfinished are marked failed
("interrupted by a restart") when the next one starts.

A run equals ``tradefleet backtest`` with the same options on the store's candle file,
with the product's default increments (``market.products.default_spec``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tradefleet.backtest import runs
from tradefleet.backtest.data import load_period
from tradefleet.backtest.report import result_json
from tradefleet.backtest.requests import BacktestRequest, candle_file
from tradefleet.backtest.runner import run_backtest
from tradefleet.market.products import default_spec
from tradefleet.strategies import StrategyRegistry, UnknownStrategyError

log = logging.getLogger(__name__)

MAX_CONCURRENT_BACKTESTS = 2
PROGRESS_INTERVAL = 0.5  # seconds between two progress writes of one run
STOPPED = "stopped before it finished (the server shut down)"


class RunCancelled(Exception):  # noqa: N818 - a signal, not a failure
    """Raised inside a worker from its progress report: the run was deleted or the server
    is stopping."""


def backtest_document(
    request: BacktestRequest, path: Path, progress: Callable[[int, int], None]
) -> dict[str, Any]:
    """Load the period from ``path`` and backtest it: ``tradefleet backtest``'s document."""
    strategy = StrategyRegistry.create(request.strategy_type, request.strategy_config)
    data = load_period(
        path, request.timeframe, start=request.start, end=request.end,
        warmup=strategy.warmup(), allow_gaps=request.allow_gaps,
    )  # fmt: skip
    result = run_backtest(
        request.strategy_type, strategy.params, data.candles, default_spec(request.product_id),
        request.budget, request.fees, timeframe=request.timeframe, start=data.start,
        progress=progress,
    )  # fmt: skip
    return result_json(result)


def failure_message(error: Exception) -> str:
    """What a user reads on a failed run: the data or strategy problem as the CLI words it,
    with the CLI's ``--allow-gaps`` advice in the request's terms."""
    return str(error).replace("pass --allow-gaps", 'set "allow_gaps": true')


class ProgressWriter:
    """The engine's progress callback: saves the fraction done now and then, and stops the
    run once ``cancel`` is set."""

    def __init__(
        self, sessions: sessionmaker[Session], run_id: int, cancel: threading.Event
    ) -> None:
        self._sessions = sessions
        self._run_id = run_id
        self._cancel = cancel
        self._last = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        if self._cancel.is_set():
            raise RunCancelled
        now = time.monotonic()
        if now - self._last >= PROGRESS_INTERVAL and total:
            self._last = now
            runs.save_progress(self._sessions, self._run_id, done / total)


class BacktestJobs:
    """The API's background backtests; one per application."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        candle_dir: Path,
        workers: int = MAX_CONCURRENT_BACKTESTS,
    ) -> None:
        self.sessions = sessions
        self.candle_dir = candle_dir
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="backtest")
        self._lock = threading.Lock()
        self._cancels: dict[int, threading.Event] = {}
        self._futures: dict[int, Future[None]] = {}
        self._watchers: set[asyncio.Task[None]] = set()

    def recover(self) -> int:
        """Fail the runs a previous server left unfinished; how many there were."""
        with self.sessions() as session:
            return runs.fail_interrupted(session)

    def submit(self, run_id: int) -> None:
        """Queue a stored run; it starts when a worker is free."""
        cancel = threading.Event()
        with self._lock:
            self._cancels[run_id] = cancel
            future = self._pool.submit(self._work, run_id, cancel)
            self._futures[run_id] = future
        future.add_done_callback(lambda _: self._forget(run_id))
        self._watch(run_id, future)

    def cancel(self, run_id: int) -> None:
        """Stop a run: a queued one never starts, a running one stops at its next report."""
        with self._lock:
            cancel, future = self._cancels.get(run_id), self._futures.get(run_id)
        if cancel is not None:
            cancel.set()
        if future is not None:
            future.cancel()

    def active(self) -> list[int]:
        """Ids of the runs queued or running in this process."""
        with self._lock:
            return sorted(self._futures)

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop every run and the workers (``wait``: until their threads have ended)."""
        for run_id in self.active():
            self.cancel(run_id)
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def _forget(self, run_id: int) -> None:
        with self._lock:
            self._cancels.pop(run_id, None)
            self._futures.pop(run_id, None)

    def _watch(self, run_id: int, future: Future[None]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # submitted outside an event loop: nothing to tie the run's life to
        task = loop.create_task(self._await(run_id, future))
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _await(self, run_id: int, future: Future[None]) -> None:
        try:
            await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            self.cancel(run_id)  # the loop is stopping: so does the run
            raise

    def _work(self, run_id: int, cancel: threading.Event) -> None:
        """One run in a worker thread; every outcome is recorded, nothing escapes."""
        request = runs.start_run(self.sessions, run_id)
        if request is None:
            return  # deleted while queued
        try:
            progress = ProgressWriter(self.sessions, run_id, cancel)
            document = backtest_document(request, candle_file(request, self.candle_dir), progress)
        except RunCancelled:
            runs.fail_run(self.sessions, run_id, STOPPED)
        except (ValueError, UnknownStrategyError, OSError) as error:
            runs.fail_run(self.sessions, run_id, failure_message(error))
        except Exception:
            log.exception("backtest %s failed", run_id)
            runs.fail_run(self.sessions, run_id, "internal error; see the server log")
        else:
            metrics = document.pop("metrics")
            runs.finish_run(self.sessions, run_id, metrics, document)
