"""Writes that must not interleave with an engine cycle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.orm import Session

from tradefleet.engine.protocols import EngineControl


@asynccontextmanager
async def engine_paused(engine: EngineControl, session: Session) -> AsyncIterator[None]:
    """Write between engine cycles, on a fresh transaction: the engine may have committed
    while we waited, and SQLite refuses a write on an older read snapshot."""
    async with engine.exclusive():
        session.rollback()
        yield
