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


class EngineControl(Protocol):
    """Bot lifecycle: every call takes effect at once, without a restart."""

    @property
    def market(self) -> MarketView: ...

    def exclusive(self) -> AbstractAsyncContextManager[None]:
        """Hold the engine between cycles while the caller changes bots."""

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
