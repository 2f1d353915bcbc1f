"""Market data: sources (exchange via ccxt, simulated, replay) behind one interface, and the
caches that make one fetch serve every bot."""

from __future__ import annotations

import time

from tradefleet.config import MarketKind, Settings
from tradefleet.market.base import (
    TIMEFRAMES,
    AcceleratedClock,
    Clock,
    ManualClock,
    MarketError,
    MarketSource,
    MarketUnavailable,
    UnknownProductError,
    WallClock,
    timeframe_seconds,
)
from tradefleet.market.exchange import ExchangeSource
from tradefleet.market.replay import ReplaySource
from tradefleet.market.service import MarketService
from tradefleet.market.simulated import SimulatedSource

__all__ = [
    "TIMEFRAMES",
    "AcceleratedClock",
    "Clock",
    "ExchangeSource",
    "ManualClock",
    "MarketError",
    "MarketService",
    "MarketSource",
    "MarketUnavailable",
    "ReplaySource",
    "SimulatedSource",
    "UnknownProductError",
    "WallClock",
    "build_source",
    "timeframe_seconds",
]


def build_source(settings: Settings, clock: Clock | None = None) -> MarketSource:
    """The source ``settings.market`` names.

    Without a clock: the exchange runs on wall time; simulated and replay markets get an
    AcceleratedClock at ``settings.speed`` starting now (simulated) or at the first recorded
    candle (replay).  A caller that restores a saved clock passes it, or calls the
    source's ``bind_clock`` later.
    """
    if settings.market is MarketKind.EXCHANGE:
        return ExchangeSource(
            settings.exchange, settings.exchange_api_url, clock=clock or WallClock()
        )
    if settings.market is MarketKind.SIMULATED:
        return SimulatedSource(
            settings.simulated_seed, clock or AcceleratedClock(settings.speed, time.time())
        )
    replay = ReplaySource(settings.replay_dir, clock)
    if clock is None:
        replay.bind_clock(AcceleratedClock(settings.speed, replay.start_time()))
    return replay
