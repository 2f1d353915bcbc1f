"""GET /api/health: answered without a token, for monitors and the UI's status dot."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from tradefleet.api.deps import ContextDep
from tradefleet.api.schemas.health import HealthPublic

router = APIRouter(tags=["health"])
logger = logging.getLogger(__name__)


def _database_ok(context: ContextDep) -> bool:
    try:
        with context.session_factory() as session:
            session.execute(text("SELECT 1"))
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
def read_health(context: ContextDep) -> HealthPublic:
    """``degraded`` when the database does not answer or the engine is not well."""
    database_ok = _database_ok(context)
    engine = _engine_health(context)
    return HealthPublic(
        status="ok" if database_ok and engine_ok(engine) else "degraded",
        database="ok" if database_ok else "error",
        engine=engine,
    )
