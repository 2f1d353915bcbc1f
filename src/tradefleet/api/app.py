"""The FastAPI application: routers under /api, JSON errors, OpenAPI docs at /docs."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.api.admission import AdmissionLimit
from tradefleet.api.auth import SigningKey
from tradefleet.api.deps import ApiContext, get_current_user
from tradefleet.api.errors import install_error_handlers
from tradefleet.api.limits import BodySizeLimit
from tradefleet.api.routers import (
    auth,
    backtests,
    bots,
    emergency,
    health,
    market,
    positions,
    settings,
    signals,
    stats,
    strategies,
    trades,
)
from tradefleet.api.schemas.common import error_responses
from tradefleet.api.static import mount_frontend
from tradefleet.api.throttle import LoginThrottle
from tradefleet.backtest.jobs import BacktestJobs
from tradefleet.capacity import ADMISSION_SECONDS, API_IN_FLIGHT
from tradefleet.config import Settings
from tradefleet.engine.protocols import EngineControl

PROTECTED = (
    bots, emergency, strategies, positions, trades, signals, settings, market, stats, backtests,
)  # fmt: skip


def operation_id(route: APIRoute) -> str:
    """``"bots-create_bot"``: the generated client reads ``BotsService.createBot``."""
    return f"{route.tags[0]}-{route.name}"


def create_app(
    settings: Settings,
    session_factory: sessionmaker[Session],
    engine: EngineControl,
    static_dir: Path | None = None,
    *,
    health_sessions: sessionmaker[Session] | None = None,
    write_sessions: sessionmaker[Session] | None = None,
) -> FastAPI:
    """The app on ``session_factory``. ``write_sessions`` (default: the same) are the
    writers' (``db.session.read_write_factories``); ``health_sessions`` (default: the
    same) the connection ``/api/health`` checks, kept apart so it always answers."""
    app = FastAPI(
        title="tradefleet",
        summary="Run many crypto trading bots: paper, live and backtests on one decision code.",
        generate_unique_id_function=operation_id,
        docs_url="/docs",
        redoc_url=None,
    )
    # The workers write a run's progress and result: with the writers' sessions, which on
    # SQLite take the write lock at once (a read-then-write could fail on a stale snapshot).
    backtest_jobs = BacktestJobs(write_sessions or session_factory, settings.candle_dir)
    backtest_jobs.recover()  # runs a previous server left unfinished are failed
    app.state.context = ApiContext(
        settings=settings,
        session_factory=session_factory,
        write_sessions=write_sessions or session_factory,
        health_sessions=health_sessions or session_factory,
        engine=engine,
        signing_key=SigningKey(session_factory, settings),
        backtests=backtest_jobs,
        login_throttle=LoginThrottle(),
    )
    install_error_handlers(app)
    app.add_middleware(AdmissionLimit, limit=API_IN_FLIGHT, wait_seconds=ADMISSION_SECONDS)
    app.add_middleware(BodySizeLimit)  # outermost: an oversized body never waits for a slot
    api = APIRouter(prefix="/api")
    api.include_router(health.router)
    api.include_router(auth.router)
    for module in PROTECTED:
        api.include_router(
            module.router,
            dependencies=[Depends(get_current_user)],
            responses=error_responses(401),
        )
    app.include_router(api)
    if static_dir is not None:
        mount_frontend(app, static_dir)
    return app
