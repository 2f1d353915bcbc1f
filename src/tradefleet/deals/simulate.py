"""A pure driver: one bot over candles, the paper fill model as its broker.

Per candle, exactly as the paper broker and the engine do it: orders that cannot fill
at this open are rejected (``on_reject``), then fills one at a time by the fill model's
priority (``on_fill`` after each, whose cancellations take effect before the next), then
``on_candle`` with the strategy's signal on that candle. Orders placed while handling
a candle may fill from the next candle in the sequence on. The backtester and the
paper/backtest parity tests use this loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tradefleet.brokers.fill_model import WorkingOrder, next_fill, unfillable, validate_order
from tradefleet.domain import (
    CancelOrder,
    Candle,
    CandleArrays,
    FeeSchedule,
    Fill,
    OrderIntent,
    PlaceOrder,
    ProductSpec,
    Signal,
    SignalAction,
)

from .protocol import Manager, manager_for
from .settings import DealSettings, GridSettings
from .state import BotState, DealState


@dataclass(slots=True)
class SimulationResult:
    fills: list[Fill]
    closed_deals: list[DealState]
    final_state: BotState
    orders: list[PlaceOrder] = field(default_factory=list)  # every accepted order, in order
    rejected: list[tuple[PlaceOrder, str]] = field(default_factory=list)
    working: list[WorkingOrder] = field(default_factory=list)  # still working at the end


@dataclass(slots=True)
class Simulator:
    """Steps one bot candle by candle; ``result`` collects what happened so far."""

    manager: Manager
    state: BotState
    product: ProductSpec
    fees: FeeSchedule
    working: list[WorkingOrder] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    orders: list[PlaceOrder] = field(default_factory=list)
    rejected: list[tuple[PlaceOrder, str]] = field(default_factory=list)
    closed: list[DealState] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)  # (candle time, note)
    _active_from: int = 0

    def step(self, candle: Candle, signal: Signal, next_open: int) -> list[Fill]:
        """Process one closed candle; ``next_open`` = open time of the candle after it."""
        self._active_from = next_open
        self._apply(self.manager.on_fees(self.state, self.product, self.fees))
        for order, reason in unfillable(self.working, candle, self.product, self.fees):
            self.working.remove(order)
            self._reject(order.intent, reason)
        filled: list[Fill] = []
        while (hit := next_fill(self.working, candle, self.product, self.fees)) is not None:
            order, fill = hit
            self.working.remove(order)
            filled.append(fill)
            self._apply(self.manager.on_fill(self.state, fill, self.product, self.fees))
        self.fills.extend(filled)
        self._apply(self.manager.on_candle(self.state, candle, signal, self.product, self.fees))
        self.closed.extend(self.state.take_closed())
        self.state.take_discarded()
        self.notes.extend((candle.time, note) for note in self.state.take_notes())
        return filled

    def close_deal(self, deal_seq: int) -> None:
        """The user closes a deal between candles."""
        self._apply(self.manager.close_deal(self.state, deal_seq, self.product, self.fees))

    def result(self) -> SimulationResult:
        return SimulationResult(
            fills=list(self.fills),
            closed_deals=list(self.closed),
            final_state=self.state,
            orders=list(self.orders),
            rejected=list(self.rejected),
            working=list(self.working),
        )

    def _apply(self, intents: list[OrderIntent]) -> None:
        for intent in intents:
            if isinstance(intent, CancelOrder):
                self._cancel(intent.client_order_id)
                continue
            reason = validate_order(intent, self.product)
            if reason is not None:
                self._reject(intent, reason)
            else:
                self.working.append(WorkingOrder(intent, self._active_from))
                self.orders.append(intent)

    def _cancel(self, client_order_id: str) -> None:
        for order in self.working:
            if order.intent.client_order_id == client_order_id:
                self.working.remove(order)
                return
        raise ValueError(f"cancel of an order that is not working: {client_order_id}")

    def _reject(self, intent: PlaceOrder, reason: str) -> None:
        self.rejected.append((intent, reason))
        cid = intent.client_order_id
        self._apply(self.manager.on_reject(self.state, cid, self.product, self.fees))


def simulate(
    settings: DealSettings | GridSettings,
    strategy_signals: Sequence[Signal] | None,
    candles: Sequence[Candle] | CandleArrays,
    product: ProductSpec,
    fees: FeeSchedule,
    *,
    bot_id: int = 1,
) -> SimulationResult:
    """Run a new bot over ``candles``; signal i is the strategy's decision on candle i
    (``None``: HOLD throughout, e.g. for a grid)."""
    count = len(candles)
    if strategy_signals is not None and len(strategy_signals) != count:
        raise ValueError(f"{len(strategy_signals)} signals for {count} candles")
    sim = Simulator(manager_for(settings), BotState(bot_id), product, fees)
    for index in range(count):
        candle = _candle(candles, index)
        nxt = _candle(candles, index + 1).time if index + 1 < count else candle.time + 1
        signal = (
            strategy_signals[index]
            if strategy_signals is not None
            else Signal(candle.time, SignalAction.HOLD, candle.close)
        )
        sim.step(candle, signal, nxt)
    return sim.result()


def _candle(candles: Sequence[Candle] | CandleArrays, index: int) -> Candle:
    return candles.candle(index) if isinstance(candles, CandleArrays) else candles[index]
