"""Typed dependencies: handlers list ``session: SessionDep, bot: BotDep`` and stay thin.

Those that only read ``app.state`` are coroutines, so they run on the event loop at once;
those that touch the database are plain functions, which FastAPI runs in worker threads.

Each check lives here once: the token check (``CurrentUser``) and the loaders that turn an
unknown id into a 404 (``BotDep``, ``PositionDep``, ``BacktestDep``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from anyio import CancelScope, CapacityLimiter, to_thread
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.api.auth import COOKIE_NAME, SigningKey, token_subject
from tradefleet.api.schemas.common import RowId
from tradefleet.api.throttle import LoginThrottle
from tradefleet.backtest import runs as backtest_runs
from tradefleet.backtest.jobs import BacktestJobs
from tradefleet.config import Settings
from tradefleet.db.models import Backtest, Bot, Position
from tradefleet.engine.protocols import EngineControl, MarketView
from tradefleet.services import bots as bot_service
from tradefleet.services import records


@dataclass(frozen=True, slots=True)
class ApiContext:
    """What ``create_app`` was given, kept on ``app.state.context``."""

    settings: Settings
    session_factory: sessionmaker[Session]
    write_sessions: sessionmaker[Session]
    health_sessions: sessionmaker[Session]
    engine: EngineControl
    signing_key: SigningKey
    backtests: BacktestJobs
    login_throttle: LoginThrottle


async def get_context(request: Request) -> ApiContext:
    context = request.app.state.context
    assert isinstance(context, ApiContext)
    return context


ContextDep = Annotated[ApiContext, Depends(get_context)]


async def _close(session: Session) -> None:
    """Close a request's session (its connection goes back to the pool, rolling back what
    was not committed) in a thread with a limiter of its own, as FastAPI closes a plain
    generator's: a request never waits for a worker thread while it holds a connection.
    Shielded, so a cancelled request still gives its connection back (an open transaction
    left behind would hold its locks until the process ends)."""
    with CancelScope(shield=True):
        await to_thread.run_sync(session.close, limiter=CapacityLimiter(1))


async def get_session(context: ContextDep) -> AsyncIterator[Session]:
    """One session per request; whatever a handler did not commit is rolled back. Made on
    the loop (no I/O until first used, in the route's worker thread)."""
    session = context.session_factory()
    try:
        yield session
    finally:
        await _close(session)


async def get_write_session(context: ContextDep) -> AsyncIterator[Session]:
    """A session for a route that writes (on SQLite it holds the write lock from its first
    statement; see ``db.session.api_session_factories``)."""
    session = context.write_sessions()
    try:
        yield session
    finally:
        await _close(session)


async def get_settings(context: ContextDep) -> Settings:
    return context.settings


async def get_engine(context: ContextDep) -> EngineControl:
    return context.engine


async def get_market(context: ContextDep) -> MarketView:
    return context.engine.market


async def get_backtest_jobs(context: ContextDep) -> BacktestJobs:
    return context.backtests


SessionDep = Annotated[Session, Depends(get_session)]
WriteSessionDep = Annotated[Session, Depends(get_write_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[EngineControl, Depends(get_engine)]
MarketDep = Annotated[MarketView, Depends(get_market)]
BacktestJobsDep = Annotated[BacktestJobs, Depends(get_backtest_jobs)]

bearer_scheme = HTTPBearer(auto_error=False, description="token from POST /api/auth/login")
cookie_scheme = APIKeyCookie(name=COOKIE_NAME, auto_error=False, description="web UI cookie")


async def get_current_user(
    context: ContextDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> str:
    """The logged-in user from the ``Authorization: Bearer`` header or the cookie, else 401.

    On the event loop: the key is in memory once loaded (the server loads it at start), so
    every request is spared a trip to a worker thread; the first load runs in one."""
    tokens = [token for token in (bearer.credentials if bearer else None, cookie) if token]
    key = context.signing_key
    loaded = key.cached()
    if tokens and loaded is None:
        loaded = await asyncio.to_thread(lambda: (key.get(), key.password_id()))
    for token in tokens:
        assert loaded is not None
        user = token_subject(loaded[0], token, loaded[1])
        if user is not None:
            return user
    raise HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="not authenticated",
        headers={"WWW-Authenticate": "Bearer"},
    )


CurrentUser = Annotated[str, Depends(get_current_user)]


def load_bot(session: SessionDep, bot_id: RowId) -> Bot:
    return bot_service.get_bot(session, bot_id)


def load_position(session: SessionDep, position_id: RowId) -> Position:
    return records.get_position(session, position_id)


def load_backtest(session: SessionDep, backtest_id: RowId) -> Backtest:
    return backtest_runs.get_run(session, backtest_id)


BotDep = Annotated[Bot, Depends(load_bot)]
PositionDep = Annotated[Position, Depends(load_position)]
BacktestDep = Annotated[Backtest, Depends(load_backtest)]
