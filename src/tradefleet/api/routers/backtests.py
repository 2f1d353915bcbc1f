"""Backtests on the local candle store, run in the background: queue, poll, list, delete."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy.orm import Session

from tradefleet.api.deps import BacktestJobsDep, DatabaseDep, SettingsDep
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
async def read_backtests(
    db: DatabaseDep, limit: Limit = 100, offset: Offset = 0, cursor: CursorText = None
) -> BacktestsPublic:
    """Runs newest first, without trades and equity; ``count`` is the number of all runs."""

    def listed(session: Session) -> BacktestsPublic:
        after = read_cursor(runs.RUN_ORDER, cursor)
        page = runs.list_runs(session, limit, offset=offset, cursor=after)
        return BacktestsPublic(
            data=[BacktestPublic.from_run(r) for r in page.items],
            count=page.total,
            next_cursor=page.next_cursor,
        )

    return await db.read(listed)


@router.post("", status_code=status.HTTP_202_ACCEPTED)
async def create_backtest(
    body: BacktestCreate, db: DatabaseDep, settings: SettingsDep, jobs: BacktestJobsDep
) -> BacktestPublic:
    """Check the request and queue the run; GET /backtests/{id} shows its progress.

    422 names the bad field; a product without a candle file in the store
    (``TRADEFLEET_CANDLE_DIR``) is refused on ``product_id``.
    """

    def store(session: Session) -> tuple[int, BacktestPublic]:
        defaults = fee_service.load_fees(session, settings)
        session.rollback()  # no lock held while the candle file is checked
        request = checked_request(body.to_request(defaults), settings.candle_dir)
        run = runs.create_run(session, request)
        return run.id, BacktestPublic.from_run(run)

    run_id, queued = await db.write(store)
    jobs.submit(run_id)  # on the loop, which ties the run's life to it
    return queued


@router.get("/{backtest_id}")
async def read_backtest(backtest_id: RowId, db: DatabaseDep) -> BacktestDetail:
    """Status and progress; once done, the metrics, every trade and the equity curve."""
    return await db.read(
        lambda session: BacktestDetail.from_run(runs.get_run(session, backtest_id))
    )


@router.delete("/{backtest_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_backtest(backtest_id: RowId, db: DatabaseDep, jobs: BacktestJobsDep) -> None:
    """Delete a run; a queued or running one is stopped first."""
    jobs.cancel(backtest_id)
    await db.write(lambda session: runs.delete_run(session, backtest_id))
