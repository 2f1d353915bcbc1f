"""Backtests on the local candle store, run in the background: queue, poll, list, delete."""

from __future__ import annotations

from anyio import from_thread
from fastapi import APIRouter, status

from tradefleet.api.deps import (
    BacktestDep,
    BacktestJobsDep,
    SessionDep,
    SettingsDep,
    WriteSessionDep,
)
from tradefleet.api.schemas.backtests import (
    BacktestCreate,
    BacktestDetail,
    BacktestPublic,
    BacktestsPublic,
)
from tradefleet.api.schemas.common import (
    CursorText,
    Limit,
    Offset,
    RowId,
    error_responses,
    read_cursor,
)
from tradefleet.backtest import runs
from tradefleet.backtest.requests import checked_request
from tradefleet.services import fees as fee_service

router = APIRouter(prefix="/backtests", tags=["backtests"], responses=error_responses(404))


@router.get("")
def read_backtests(
    session: SessionDep, limit: Limit = 100, offset: Offset = 0, cursor: CursorText = None
) -> BacktestsPublic:
    """Runs newest first, without trades and equity; ``count`` is the number of all runs."""
    after = read_cursor(runs.RUN_ORDER, cursor)
    page = runs.list_runs(session, limit, offset=offset, cursor=after)
    return BacktestsPublic(
        data=[BacktestPublic.from_run(r) for r in page.items],
        count=page.total,
        next_cursor=page.next_cursor,
    )


@router.post("", status_code=status.HTTP_202_ACCEPTED)
def create_backtest(
    body: BacktestCreate, session: WriteSessionDep, settings: SettingsDep, jobs: BacktestJobsDep
) -> BacktestPublic:
    """Check the request and queue the run; GET /backtests/{id} shows its progress.

    422 names the bad field; a product without a candle file in the store
    (``TRADEFLEET_CANDLE_DIR``) is refused on ``product_id``.
    """
    defaults = fee_service.load_fees(session, settings)
    session.rollback()  # no lock held while the candle file is checked
    request = checked_request(body.to_request(defaults), settings.candle_dir)
    run = runs.create_run(session, request)
    from_thread.run_sync(jobs.submit, run.id)  # on the loop, which ties the run's life to it
    return BacktestPublic.from_run(run)


@router.get("/{backtest_id}")
def read_backtest(backtest: BacktestDep) -> BacktestDetail:
    """Status and progress; once done, the metrics, every trade and the equity curve."""
    return BacktestDetail.from_run(backtest)


@router.delete("/{backtest_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_backtest(backtest_id: RowId, session: WriteSessionDep, jobs: BacktestJobsDep) -> None:
    """Delete a run; a queued or running one is stopped first."""
    jobs.cancel(backtest_id)
    runs.delete_run(session, backtest_id)
