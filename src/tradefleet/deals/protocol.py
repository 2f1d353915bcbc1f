"""One interface for both deal machines, so the engine and the backtester need not care
which kind of bot they drive: ``manager = manager_for(settings)``.

Call order per closed candle: ``on_fees`` (before anything can fill at the fees now in
force), ``on_reject`` for orders the broker refused, ``on_fill`` for each fill of the
candle (as the broker reports them), then ``on_candle``. ``halt`` (an emergency stop)
withdraws every order; while halted only fills, rejections and ``close_deal`` are
called, and ``rearm`` starts the bot again before its next ``on_fees``. Every call
returns the order intents to record and send, in order, and updates ``state`` in place.
An order placed by any call may fill from the next candle on (see ``fill_model``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tradefleet.domain import Candle, FeeSchedule, Fill, OrderIntent, ProductSpec, Signal

from . import book, grid, manager
from .settings import DealSettings, GridSettings
from .state import BotState


class Manager(Protocol):
    """A bot's deal machine; pure, holding only its settings."""

    def on_candle(
        self,
        state: BotState,
        candle: Candle,
        signal: Signal,
        product: ProductSpec,
        fees: FeeSchedule,
    ) -> list[OrderIntent]: ...

    def on_fill(
        self, state: BotState, fill: Fill, product: ProductSpec, fees: FeeSchedule
    ) -> list[OrderIntent]: ...

    def on_reject(
        self, state: BotState, client_order_id: str, product: ProductSpec, fees: FeeSchedule
    ) -> list[OrderIntent]: ...

    def close_deal(
        self, state: BotState, deal_seq: int, product: ProductSpec, fees: FeeSchedule
    ) -> list[OrderIntent]: ...

    def on_fees(
        self, state: BotState, product: ProductSpec, fees: FeeSchedule
    ) -> list[OrderIntent]: ...

    def halt(
        self, state: BotState, product: ProductSpec, fees: FeeSchedule, *, sell: bool
    ) -> tuple[list[OrderIntent], list[str]]: ...

    def rearm(
        self, state: BotState, product: ProductSpec, fees: FeeSchedule
    ) -> list[OrderIntent]: ...


@dataclass(frozen=True, slots=True)
class SignalDealManager:
    """Deals opened, grown and closed by a strategy's signals (``deals.manager``)."""

    settings: DealSettings

    def on_candle(
        self,
        state: BotState,
        candle: Candle,
        signal: Signal,
        product: ProductSpec,
        fees: FeeSchedule,
    ) -> list[OrderIntent]:
        return manager.on_candle(self.settings, state, candle, signal, product, fees=fees)

    def on_fill(
        self, state: BotState, fill: Fill, product: ProductSpec, fees: FeeSchedule
    ) -> list[OrderIntent]:
        return manager.on_fill(self.settings, state, fill, product, fees)

    def on_reject(
        self, state: BotState, client_order_id: str, product: ProductSpec, fees: FeeSchedule
    ) -> list[OrderIntent]:
        return manager.on_reject(self.settings, state, client_order_id, product, fees)

    def close_deal(
        self, state: BotState, deal_seq: int, product: ProductSpec, fees: FeeSchedule
    ) -> list[OrderIntent]:
        return book.close_deal(state, deal_seq, product, fees)

    def on_fees(
        self, state: BotState, product: ProductSpec, fees: FeeSchedule
    ) -> list[OrderIntent]:
        s = self.settings
        return book.fit_to_fees(state, s.budget, s.compound_profits, product, fees)

    def halt(
        self, state: BotState, product: ProductSpec, fees: FeeSchedule, *, sell: bool
    ) -> tuple[list[OrderIntent], list[str]]:
        return book.halt(state, product, fees, sell=sell)

    def rearm(self, state: BotState, product: ProductSpec, fees: FeeSchedule) -> list[OrderIntent]:
        return manager.rearm(self.settings, state, product, fees)


@dataclass(frozen=True, slots=True)
class GridManager:
    """A grid bot (``deals.grid``); it ignores the strategy's signals."""

    settings: GridSettings

    def on_candle(
        self,
        state: BotState,
        candle: Candle,
        signal: Signal,
        product: ProductSpec,
        fees: FeeSchedule,
    ) -> list[OrderIntent]:
        return grid.grid_on_candle(self.settings, state, candle, product, fees)

    def on_fill(
        self, state: BotState, fill: Fill, product: ProductSpec, fees: FeeSchedule
    ) -> list[OrderIntent]:
        return grid.grid_on_fill(self.settings, state, fill, product, fees)

    def on_reject(
        self, state: BotState, client_order_id: str, product: ProductSpec, fees: FeeSchedule
    ) -> list[OrderIntent]:
        return grid.grid_on_reject(state, client_order_id, product, fees)

    def close_deal(
        self, state: BotState, deal_seq: int, product: ProductSpec, fees: FeeSchedule
    ) -> list[OrderIntent]:
        return book.close_deal(state, deal_seq, product, fees)

    def on_fees(
        self, state: BotState, product: ProductSpec, fees: FeeSchedule
    ) -> list[OrderIntent]:
        return book.fit_to_fees(state, self.settings.budget, False, product, fees)

    def halt(
        self, state: BotState, product: ProductSpec, fees: FeeSchedule, *, sell: bool
    ) -> tuple[list[OrderIntent], list[str]]:
        return book.halt(state, product, fees, sell=sell)

    def rearm(self, state: BotState, product: ProductSpec, fees: FeeSchedule) -> list[OrderIntent]:
        return grid.grid_rearm(state, product, fees)


def manager_for(settings: DealSettings | GridSettings) -> Manager:
    """The deal machine for a bot's settings."""
    if isinstance(settings, GridSettings):
        return GridManager(settings)
    return SignalDealManager(settings)
