"""GET /api/health: answered without a token, for monitors and the UI's status dot."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.api.deps import ContextDep
from tradefleet.api.schemas.health import HealthPublic
from tradefleet.capacity import HEALTH_SECONDS

router = APIRouter(tags=["health"])
logger = logging.getLogger(__name__)


def _ping(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        session.execute(text("SELECT 1"))


async def _database_ok(context: ContextDep) -> bool:
    """``SELECT 1`` on the health check's own connection, in a thread and within
    ``HEALTH_SECONDS``: a database that does not answer in time counts as down."""
    try:
        await asyncio.wait_for(
            asyncio.to_thread(_ping, context.health_sessions), timeout=HEALTH_SECONDS
        )
    except Exception:
        logger.warning("database health check failed", exc_info=True)
        return False
    return True


def _engine_health(context: ContextDep) -> dict[str, Any]:
    try:
        return dict(context.engine.health())
    except Exception:
        logger.warning("engine health check failed", exc_info=True)
        return {"status": "error"}


def engine_ok(report: dict[str, Any]) -> bool:
    """False when the engine reports a ``status`` other than ok, that it is not ``running``,
    or that its ``market`` source is not ``ok``; keys it does not report count as fine."""
    market = report.get("market")
    market_down = isinstance(market, dict) and market.get("ok") is False
    return (
        report.get("status", "ok") == "ok"
        and report.get("running") is not False
        and not market_down
    )


@router.get("/health")
async def read_health(context: ContextDep) -> HealthPublic:
    """``degraded`` when the database does not answer or the engine is not well.

    Answered on the event loop (nothing here waits for the API's worker threads), so it
    answers within about ``HEALTH_SECONDS`` however busy the server is."""
    database_ok = await _database_ok(context)
    engine = _engine_health(context)
    return HealthPublic(
        status="ok" if database_ok and engine_ok(engine) else "degraded",
        database="ok" if database_ok else "error",
        engine=engine,
    )
