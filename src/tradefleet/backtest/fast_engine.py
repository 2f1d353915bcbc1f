"""The ``"kernel"`` fill engine, the default: the compiled kernel behind ``engines``.

``backtest.kernel`` runs the deal machine and the paper fill model over the traded
candles in one compiled call, tens of times faster than the reference's Python loop.
Its fills come back exact, as integer columns (``kernel_columns``) and as ``Fill``
objects (``to_fills``); the deals come from ``kernel_ledger`` where the fills alone fix
them (signal deals whose market buys cannot be refused: a few vectorised passes over the
columns), else from ``kernel_replay``, which replays the reference's own bookkeeping over
the fills. The run therefore equals the
``"reference"`` engine's to the last digit. On the ledger's path the ``Fill`` and
``DealSummary`` objects are built only when read: the metrics need only the columns, so
an optimizer's trial never pays for tens of thousands of Decimal objects.

The first call on a machine compiles the kernel (about 25 s) and numba caches the
machine code on disk next to its sources (or under ``NUMBA_CACHE_DIR``); later processes
load it in well under a second. numba is imported on the first backtest, not when the
CLI starts. Settings the kernel refuses (amounts beyond its exact range, such as more
than 12 digits of price ticks or 15 of budget units) and any output the replay
contradicts fall back to the reference engine, which then gives the answer (or the
error) the reference gives, with a log line saying why.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt

from tradefleet.backtest.columns import FillColumns, LazySequence
from tradefleet.backtest.engines import (
    BACKTEST_BOT_ID,
    EngineJob,
    EngineRun,
    reference_engine,
    register_engine,
)
from tradefleet.domain import CandleArrays

KERNEL_ENGINE = "kernel"
DEFAULT_ENGINE = KERNEL_ENGINE  # what ``run_backtest`` and ``tradefleet backtest`` use

log = logging.getLogger(__name__)


def _plain(values: npt.NDArray[Any], dtype: type[np.generic]) -> npt.NDArray[Any]:
    """``values`` as a writeable C-contiguous array (a view when it already is one).

    numba compiles a separate machine-code variant for read-only arrays (Arrow's, from a
    Parquet file), which would cost seconds of compilation on the first such run.
    """
    return np.require(values, dtype=dtype, requirements=("C", "W"))


def traded(candles: CandleArrays, start: int) -> CandleArrays:
    """``candles[start:]``: the reference steps exactly these candles."""
    return CandleArrays(
        time=_plain(candles.time[start:], np.int64),
        open=_plain(candles.open[start:], np.float64),
        high=_plain(candles.high[start:], np.float64),
        low=_plain(candles.low[start:], np.float64),
        close=_plain(candles.close[start:], np.float64),
        volume=candles.volume[start:],
    )


def kernel_engine(job: EngineJob) -> EngineRun:
    """The reference engine's answer for ``job``, from the compiled kernel."""
    # numba loads only when a backtest runs, not with every CLI command.
    from tradefleet.backtest.kernel import run_kernel, to_fills  # noqa: PLC0415
    from tradefleet.backtest.kernel_columns import fill_columns  # noqa: PLC0415
    from tradefleet.backtest.kernel_ledger import LedgerInput, ledger  # noqa: PLC0415
    from tradefleet.backtest.kernel_replay import (  # noqa: PLC0415
        ReplayInput,
        ReplayMismatchError,
        replay_book,
    )

    candles = traded(job.candles, job.start)
    buy, sell = _plain(job.buy[job.start :], np.bool_), _plain(job.sell[job.start :], np.bool_)
    total = len(candles)
    if job.progress is not None:
        job.progress(0, total)
    try:
        result = run_kernel(job.settings, buy, sell, candles, job.product, job.fees, job.tf_seconds)
    except ValueError as error:
        log.info("backtest on the reference engine: the kernel refused (%s)", error)
        return reference_engine(job)
    product = job.product
    columns = fill_columns(result, product, job.settings.budget)
    built = None  # the Fill objects, where the columns had to be read off them
    if columns is None:
        built = to_fills(result, product, BACKTEST_BOT_ID)
        columns = FillColumns.of(built)
    book = ledger(LedgerInput(job.settings, candles, buy, product, job.fees, result, columns))
    if book is not None:
        if job.progress is not None:
            job.progress(total, total)
        return EngineRun(
            fills=LazySequence(len(columns), lambda: to_fills(result, product, BACKTEST_BOT_ID))
            if built is None
            else built,
            deals=LazySequence(len(book), book.summaries),
            fill_columns=columns,
            deal_columns=book.columns,
        )
    fills = to_fills(result, product, BACKTEST_BOT_ID) if built is None else built
    replay = ReplayInput(
        job.settings, candles, buy, sell, job.product, job.fees, job.tf_seconds, fills, result
    )
    try:
        replayed = replay_book(replay)
    except ReplayMismatchError as error:
        log.warning("backtest on the reference engine: the kernel's run disagrees (%s)", error)
        return reference_engine(job)
    if job.progress is not None:
        job.progress(total, total)
    return EngineRun(
        fills=fills,
        deals=replayed.deals,
        fill_columns=columns,
    )


register_engine(KERNEL_ENGINE, kernel_engine)
