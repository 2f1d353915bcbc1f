"""A loaded bot: its strategy, deal rules, deal state and working orders, in memory.

The engine keeps one ``BotRuntime`` per bot that is active or still has open deals, so a
cycle touches the database only to write what changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tradefleet.brokers.fill_model import WorkingOrder
from tradefleet.deals.settings import DealSettings, GridSettings
from tradefleet.deals.state import BotState
from tradefleet.domain import ProductSpec
from tradefleet.strategies.base import TradingStrategy


@dataclass(slots=True)
class OrderBook:
    """The engine's view of a bot's working orders: activation time and funds held."""

    active_from: dict[str, int] = field(default_factory=dict)
    reserved: dict[str, Decimal] = field(default_factory=dict)
    row_ids: dict[str, int] = field(default_factory=dict)  # client order id -> orders.id
    placement: dict[str, int] = field(default_factory=dict)  # the fill model's creation order
    placed_count: int = 0

    def accept(self, client_order_id: str, active_from: int, reserved: Decimal) -> None:
        """Record a working order, numbered in the order the bot placed it."""
        self.placed_count += 1
        self.placement[client_order_id] = self.placed_count
        self.active_from[client_order_id] = active_from
        if reserved:
            self.reserved[client_order_id] = reserved

    def forget(self, client_order_id: str) -> Decimal:
        """Drop an order that is done; returns the funds it had reserved."""
        self.active_from.pop(client_order_id, None)
        self.placement.pop(client_order_id, None)
        return self.reserved.pop(client_order_id, Decimal(0))


@dataclass(slots=True)
class BotRuntime:
    bot_id: int
    name: str
    product: ProductSpec
    timeframe: str
    tf_seconds: int
    strategy: TradingStrategy
    settings: DealSettings | GridSettings
    state: BotState
    is_active: bool
    last_candle_time: int | None
    updated_marker: str  # the bot row's updated_at when loaded; a change means reload
    book: OrderBook = field(default_factory=OrderBook)
    position_ids: dict[int, int] = field(default_factory=dict)  # deal seq -> positions.id
    # The latest "budget exhausted" note: shown in last_error until the bot places a
    # buy again, and written to the signal log only when its text changes.
    budget_note: str | None = None
    halted: bool = False  # stopped by an emergency stop, until a user starts it again
    account: str = "paper"  # whose money: the paper account, or the live exchange account

    @property
    def is_live(self) -> bool:
        return self.account == "live"

    @property
    def key(self) -> tuple[str, str]:
        return (self.product.product_id, self.timeframe)

    def working_orders(self) -> list[WorkingOrder]:
        """Orders of open deals in the order they were placed (across deals), with their
        activation times: the fill model breaks ties within a class by creation order."""
        book = self.book
        orders = [o for o in self.state.working_orders() if o.client_order_id in book.placement]
        orders.sort(key=lambda order: book.placement[order.client_order_id])
        return [WorkingOrder(order, book.active_from[order.client_order_id]) for order in orders]

    def window_needed(self, now: float) -> int:
        """Candles to fetch: the strategy's warm-up plus the ones this bot has not seen."""
        latest = int(now // self.tf_seconds) * self.tf_seconds - self.tf_seconds
        missed = (
            1
            if self.last_candle_time is None
            else (latest - self.last_candle_time) // self.tf_seconds
        )
        return self.strategy.warmup() + max(1, missed)

    @property
    def needs_candles(self) -> bool:
        """Stopped bots keep running while they hold deals (their exits must still work)."""
        return self.is_active or bool(self.state.deals)
