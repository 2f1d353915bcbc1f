"""What the API needs from the running platform, so routers depend on a contract only.

The real implementation is ``tradefleet.engine.runner.Engine``; ``create_app`` receives it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from tradefleet.domain import Candle, ProductSpec
from tradefleet.engine.emergency import EmergencyReport


class MarketView(Protocol):
    """Read-only market data for the API (cached; see tradefleet.market)."""

    async def products(self) -> list[ProductSpec]: ...

    async def product(self, product_id: str) -> ProductSpec | None: ...

    async def candles(self, product_id: str, timeframe: str, limit: int) -> list[Candle]: ...

    async def last_price(self, product_id: str) -> Decimal: ...


class EngineControl(Protocol):
    """Bot lifecycle: every call takes effect at once, without a restart.

    The coroutines run on the server's event loop, where the API's routes await them
    (the stats' database work, in a worker thread, asks for prices through
    ``anyio.from_thread``). None of them does database work on the loop itself.
    """

    @property
    def market(self) -> MarketView: ...

    def bot_changed(self, bot_id: int) -> None:
        """A bot row was written (created, edited, started, stopped, deleted): pick it up
        now. Called on the loop; it only wakes the engine, whose next cycle reloads it."""

    async def close_position(self, position_id: int) -> None:
        """Cancel the deal's resting orders and sell what it holds at market."""

    async def emergency_stop(self, sell_all: bool) -> EmergencyReport:
        """Stop and halt every bot, cancel every resting order, and with ``sell_all``
        sell every open deal at market; says what was done and what could not be."""

    async def reload_settings(self) -> None:
        """Re-read run-time settings (fees, slippage) from the ``settings`` table."""

    def live_problem(self) -> str | None:
        """Why a bot cannot be given the live account now; None when it can (the server
        trades live and its exchange keys work)."""

    def health(self) -> dict[str, Any]:
        """Engine and market-source status for GET /api/health."""
