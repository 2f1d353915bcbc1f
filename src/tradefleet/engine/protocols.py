"""What the API needs from the running platform, so routers depend on a contract only.

The real implementation is ``tradefleet.engine.runner.Engine``; ``create_app`` receives it.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import Any, Protocol

from tradefleet.domain import Candle, ProductSpec


class MarketView(Protocol):
    """Read-only market data for the API (cached; see tradefleet.market)."""

    async def products(self) -> list[ProductSpec]: ...

    async def product(self, product_id: str) -> ProductSpec | None: ...

    async def candles(self, product_id: str, timeframe: str, limit: int) -> list[Candle]: ...

    async def last_price(self, product_id: str) -> Decimal: ...


class EngineBusy(Exception):  # noqa: N818 - a state, answered with 503 + Retry-After
    """The engine could not be held in time: a cycle (or other writes) took too long."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        self.message = message
        self.retry_after = retry_after
        super().__init__(message)


class EngineControl(Protocol):
    """Bot lifecycle: every call takes effect at once, without a restart.

    The coroutines run on the server's event loop; the API's worker threads reach them
    through ``anyio.from_thread``. None of them does database work on the loop itself.
    """

    @property
    def market(self) -> MarketView: ...

    def exclusive(self) -> AbstractAsyncContextManager[None]:
        """Hold the engine between cycles while the caller (on the loop) changes bots."""

    async def pause(self, timeout: float) -> None:
        """Hold the engine between cycles for a caller in another thread, who must call
        ``resume`` afterwards; raises ``EngineBusy`` when not held within ``timeout``."""

    def resume(self) -> None:
        """Release what ``pause`` took (called on the loop)."""

    async def start_bot(self, bot_id: int) -> None: ...

    async def stop_bot(self, bot_id: int) -> None:
        """Deactivate; open deals stay open and their resting orders keep working."""

    async def reload_bot(self, bot_id: int) -> None:
        """Re-read an edited bot's config from the database."""

    async def forget_bot(self, bot_id: int) -> None:
        """Drop all in-memory state of a deleted bot."""

    async def close_position(self, position_id: int) -> None:
        """Cancel the deal's resting orders and sell what it holds at market."""

    async def reload_settings(self) -> None:
        """Re-read run-time settings (fees, slippage) from the ``settings`` table."""

    def health(self) -> dict[str, Any]:
        """Engine and market-source status for GET /api/health."""
