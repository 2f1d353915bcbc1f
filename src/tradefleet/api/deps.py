"""Typed dependencies: handlers list ``db: DatabaseDep, market: MarketDep`` and stay thin.

All are coroutines that only read ``app.state``, so they run on the event loop at once;
a route's database work goes to a worker thread through ``Database`` (``api.database``).
The token check (``CurrentUser``) lives here once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.api.auth import COOKIE_NAME, SigningKey, token_subject
from tradefleet.api.database import Database, ThreadShares
from tradefleet.api.throttle import LoginThrottle
from tradefleet.backtest.jobs import BacktestJobs
from tradefleet.config import Settings
from tradefleet.engine.protocols import EngineControl, MarketView


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
    threads: ThreadShares = field(default_factory=ThreadShares)

    @property
    def database(self) -> Database:
        return Database(self.session_factory, self.write_sessions, self.threads)


async def get_context(request: Request) -> ApiContext:
    context = request.app.state.context
    assert isinstance(context, ApiContext)
    return context


ContextDep = Annotated[ApiContext, Depends(get_context)]


async def get_database(context: ContextDep) -> Database:
    return context.database


async def get_settings(context: ContextDep) -> Settings:
    return context.settings


async def get_engine(context: ContextDep) -> EngineControl:
    return context.engine


async def get_market(context: ContextDep) -> MarketView:
    return context.engine.market


async def get_backtest_jobs(context: ContextDep) -> BacktestJobs:
    return context.backtests


DatabaseDep = Annotated[Database, Depends(get_database)]
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
