"""Backtest runs in the database: what the API lists and what a worker thread updates.

A run goes ``queued`` -> ``running`` -> ``done`` | ``failed``. The worker writes with
plain UPDATE statements on its own short sessions, so a run deleted meanwhile is simply
not updated (no error), and the API's sessions never wait on a long transaction.

Every write here starts its own transaction with the write itself: on SQLite a
transaction that has read cannot write any more once another connection (a worker
saving progress) has committed in between ("database is locked"), whereas one that
starts by writing waits for its turn.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, defer, sessionmaker

from tradefleet.backtest.requests import BacktestRequest
from tradefleet.db.models import Backtest, utcnow
from tradefleet.services.errors import NotFoundError
from tradefleet.services.paging import Cursor, Page, int_keyset, page

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
UNFINISHED = (QUEUED, RUNNING)
INTERRUPTED = "interrupted by a restart"


def _end_reads(session: Session) -> None:
    """Close the request's read-only transaction so the next statement opens a new one."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("the session holds unsaved changes")
    session.rollback()


def create_run(session: Session, request: BacktestRequest) -> Backtest:
    _end_reads(session)
    run = Backtest(status=QUEUED, progress=0.0, request=request.to_json())
    session.add(run)
    session.commit()
    return run


def get_run(session: Session, run_id: int) -> Backtest:
    run = session.get(Backtest, run_id)
    if run is None:
        raise NotFoundError(f"backtest {run_id} not found")
    return run


RUN_ORDER = int_keyset(Backtest.id, Backtest.id)  # newest first; ids only grow


def list_runs(
    session: Session, limit: int, *, offset: int = 0, cursor: Cursor | None = None
) -> Page[Backtest]:
    """Newest first, without the trades and equity (``result`` is not loaded)."""
    query = select(Backtest).options(defer(Backtest.result))
    return page(session, query, RUN_ORDER, limit, offset=offset, cursor=cursor)


def delete_run(session: Session, run_id: int) -> None:
    _end_reads(session)
    deleted = session.execute(delete(Backtest).where(Backtest.id == run_id))
    session.commit()
    if not getattr(deleted, "rowcount", 0):
        raise NotFoundError(f"backtest {run_id} not found")


def fail_interrupted(session: Session) -> int:
    """Mark the runs a stopped server left queued or running as failed; how many."""
    changed = session.execute(
        update(Backtest)
        .where(Backtest.status.in_(UNFINISHED))
        .values(status=FAILED, error=INTERRUPTED, finished_at=utcnow())
    )
    session.commit()
    return int(getattr(changed, "rowcount", 0) or 0)


def _update(sessions: sessionmaker[Session], run_id: int, *where: Any, **values: Any) -> bool:
    """UPDATE one run (if it still exists and matches ``where``); whether it did."""
    with sessions() as session:
        changed = session.execute(
            update(Backtest).where(Backtest.id == run_id, *where).values(**values)
        )
        session.commit()
        return bool(getattr(changed, "rowcount", 0))


def start_run(sessions: sessionmaker[Session], run_id: int) -> BacktestRequest | None:
    """Mark a queued run running and return its request; None when it is gone or not queued."""
    if not _update(
        sessions, run_id, Backtest.status == QUEUED, status=RUNNING, started_at=utcnow()
    ):
        return None
    with sessions() as session:
        request = session.scalar(select(Backtest.request).where(Backtest.id == run_id))
    return None if request is None else BacktestRequest.from_json(request)


def save_progress(sessions: sessionmaker[Session], run_id: int, fraction: float) -> None:
    _update(sessions, run_id, Backtest.status == RUNNING, progress=fraction)


def finish_run(
    sessions: sessionmaker[Session], run_id: int, metrics: dict[str, Any], result: dict[str, Any]
) -> None:
    _update(
        sessions, run_id, status=DONE, progress=1.0, finished_at=utcnow(),
        metrics=metrics, result=result,
    )  # fmt: skip


def fail_run(sessions: sessionmaker[Session], run_id: int, message: str) -> None:
    _update(sessions, run_id, status=FAILED, error=message, finished_at=utcnow())
