"""Market data: sources (exchange via ccxt, simulated, replay) behind one interface, and the
caches that make one fetch serve every bot.

The sources are imported on first use (PEP 562): ccxt alone costs a quarter of a second
and a good deal of memory, which commands that only read candle files never need.
"""

from __future__ import annotations

import importlib
import time
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from tradefleet.config import Settings
    from tradefleet.market.exchange import ExchangeSource
    from tradefleet.market.replay import ReplaySource
    from tradefleet.market.service import MarketService
    from tradefleet.market.simulated import SimulatedSource

_LAZY = {
    "ExchangeSource": "tradefleet.market.exchange",
    "ReplaySource": "tradefleet.market.replay",
    "MarketService": "tradefleet.market.service",
    "SimulatedSource": "tradefleet.market.simulated",
}

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


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def build_source(settings: Settings, clock: Clock | None = None) -> MarketSource:
    """The source ``settings.market`` names.

    Without a clock: the exchange runs on wall time; simulated and replay markets get an
    AcceleratedClock at ``settings.speed`` starting now (simulated) or at the first recorded
    candle (replay).  A caller that restores a saved clock passes it, or calls the
    source's ``bind_clock`` later.
    """
    # The settings (pydantic-settings) load here, not with every candle-file reader.
    from tradefleet.config import MarketKind  # noqa: PLC0415

    if settings.market is MarketKind.EXCHANGE:
        from tradefleet.market.exchange import ExchangeSource  # noqa: PLC0415

        return ExchangeSource(
            settings.exchange, settings.exchange_api_url, clock=clock or WallClock()
        )
    if settings.market is MarketKind.SIMULATED:
        from tradefleet.market.simulated import SimulatedSource  # noqa: PLC0415

        return SimulatedSource(
            settings.simulated_seed, clock or AcceleratedClock(settings.speed, time.time())
        )
    from tradefleet.market.replay import ReplaySource  # noqa: PLC0415

    replay = ReplaySource(settings.replay_dir, clock)
    if clock is None:
        replay.bind_clock(AcceleratedClock(settings.speed, replay.start_time()))
    return replay
