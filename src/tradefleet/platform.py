"""The composition root: settings -> database, market, clock, engine and web app.

``tradefleet serve`` and the tests build the running platform here and nowhere else, so
what a user runs is what the tests run.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.api.app import create_app
from tradefleet.capacity import (
    API_POOL,
    ENGINE_POOL,
    HEALTH_POOL,
    HEALTH_SECONDS,
    LOCK_WAIT_SECONDS,
    SQLITE_API_BUSY_SECONDS,
    SQLITE_ENGINE_BUSY_SECONDS,
)
from tradefleet.config import MarketKind, Mode, Settings
from tradefleet.db.migrate import upgrade_database
from tradefleet.db.models import Setting
from tradefleet.db.session import (
    make_engine,
    make_session_factory,
    read_write_factories,
    transaction,
)
from tradefleet.engine.live_account import LiveAccount
from tradefleet.engine.runner import Engine
from tradefleet.market import build_source
from tradefleet.market.base import (
    AcceleratedClock,
    Clock,
    ExchangeClock,
    MarketSource,
    WallClock,
)
from tradefleet.market.service import MarketService

log = logging.getLogger(__name__)

CLOCK_KEY = "market_clock"
EXCHANGE_GRACE_SECONDS = 3.0  # the exchange publishes a closed candle a moment after close
CLOCK_MEASURE_SECONDS = 5.0  # the longest start-up waits for the exchange's time


@dataclass(slots=True)
class Platform:
    settings: Settings
    session_factory: sessionmaker[Session]
    source: MarketSource
    market: MarketService
    engine: Engine
    app: FastAPI


def open_database(settings: Settings) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """Upgrade the schema to the newest revision; the API's sessions to read and write."""
    upgrade_database(settings.database_url)
    return read_write_factories(
        settings.database_url, API_POOL, SQLITE_API_BUSY_SECONDS, LOCK_WAIT_SECONDS
    )


async def market_clock(
    settings: Settings, sessions: sessionmaker[Session], source: MarketSource
) -> Clock:
    """The exchange's time for the exchange (``ExchangeClock``: this machine's clock
    corrected by the measured skew); for simulated/replay markets an accelerated clock whose
    position survives restarts (stored in the settings table), so bots resume where they
    stopped instead of seeing time run backwards."""
    if settings.market is MarketKind.EXCHANGE:
        exchange_time = getattr(source, "exchange_time", None)
        if not callable(exchange_time):
            return WallClock()
        clock = ExchangeClock(exchange_time)
        # unreachable now: skew 0 until it answers (see health); never a long start-up
        await clock.measure(timeout=CLOCK_MEASURE_SECONDS)
        return clock
    wall_now = time.time()
    with transaction(sessions) as session:
        row = session.get(Setting, CLOCK_KEY)
        stored = row.value if row is not None and isinstance(row.value, dict) else None
        if stored is not None and stored.get("market") == settings.market.value:
            market_now = stored["market_time"] + (wall_now - stored["wall_time"]) * stored["speed"]
        else:
            market_now = await _market_start(settings, source, wall_now)
        value = {
            "market": settings.market.value,
            "market_time": market_now,
            "wall_time": wall_now,
            "speed": settings.speed,
        }
        if row is None:
            session.add(Setting(key=CLOCK_KEY, value=value))
        else:
            row.value = value
    return AcceleratedClock(settings.speed, market_now)


async def _market_start(settings: Settings, source: MarketSource, wall_now: float) -> float:
    if settings.market is MarketKind.REPLAY:
        start = getattr(source, "start_time", None)
        if callable(start):
            return float(start())
    return wall_now


GC_THRESHOLDS = (20_000, 20, 20)  # Python's are (700, 10, 10)


def _settle_the_heap() -> None:
    """What start-up loaded (modules, the app, every bot) lives as long as the server:
    ``gc.freeze`` keeps it out of every later collection, and a higher first threshold
    collects less often, so a full collection under load no longer walks the whole heap
    while requests wait on the interpreter lock."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def build_platform(settings: Settings, *, settle_heap: bool = False) -> Platform:
    """The running platform; ``settle_heap`` (``tradefleet serve``, not the tests, which
    build many in one process) freezes what start-up loaded (``_settle_the_heap``)."""
    sessions, write_sessions = open_database(settings)
    source = build_source(settings)
    clock = await market_clock(settings, sessions, source)
    bind = getattr(source, "bind_clock", None)
    if callable(bind):
        bind(clock)
    market = MarketService(source, clock)
    grace = EXCHANGE_GRACE_SECONDS if settings.market is MarketKind.EXCHANGE else 0.0
    # The engine's own connections: its writes take SQLite's write lock when they begin
    # (see db.session.make_engine), its reads (a sync, the fees) take none.
    engine_reads, engine_writes = read_write_factories(
        settings.database_url, ENGINE_POOL, SQLITE_ENGINE_BUSY_SECONDS
    )
    live = LiveAccount(settings, engine_writes) if settings.mode is Mode.LIVE else None
    engine = Engine(
        settings, engine_writes, market, clock, read_sessions=engine_reads, grace_seconds=grace,
        live=live,
    )  # fmt: skip
    health_sessions = make_session_factory(
        make_engine(settings.database_url, pool=HEALTH_POOL, busy_seconds=HEALTH_SECONDS)
    )
    app = create_app(
        settings, sessions, engine, health_sessions=health_sessions, write_sessions=write_sessions
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            # Generate and store the token signing key now, not at the first login, where
            # its write could meet a cycle's SQLite write lock.
            await asyncio.to_thread(app.state.context.signing_key.password_id)
            await engine.start()
            if settle_heap:
                _settle_the_heap()
            yield
        finally:
            await engine.stop()
            await source.close()

    app.router.lifespan_context = lifespan
    return Platform(settings, sessions, source, market, engine, app)
