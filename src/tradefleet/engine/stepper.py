"""One bot, one closed candle, in paper mode: fills first, then the decision.

A bot halted by an emergency stop only takes the fills of its emergency sells; one
started again after it first gets its exits back (``Manager.rearm``).

The order of work is the fill model's (see ``brokers/fill_model.py``) and the same as
``deals.simulate``'s: orders that cannot fill at this open are rejected, then the
candle's fills are taken one at a time and each is shown to the deal manager before the
next, then the strategy's signal on the closed candle goes to the deal manager. Orders
placed during the step become active on the next candle. Funds are reserved in the
paper account when an order is accepted, so bots sharing a currency can never spend
the same money twice; an order the account cannot cover is rejected, never half-done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tradefleet.brokers.fill_model import WorkingOrder, next_fill, unfillable, validate_order
from tradefleet.brokers.paper_account import InsufficientFundsError, PaperAccount
from tradefleet.deals.book import reserved as reservation
from tradefleet.deals.protocol import Manager
from tradefleet.domain import (
    CancelOrder,
    Candle,
    FeeSchedule,
    OrderIntent,
    PlaceOrder,
    Side,
    Signal,
)
from tradefleet.engine.events import Rejection, StepEvents
from tradefleet.engine.runtime import BotRuntime
from tradefleet.money import ZERO


@dataclass(slots=True)
class StepContext:
    account: PaperAccount
    fees: FeeSchedule
    manager: Manager


def run_step(runtime: BotRuntime, candle: Candle, signal: Signal, ctx: StepContext) -> StepEvents:
    """Process ``candle`` for one bot; mutates the runtime and the account."""
    step = BotStep(runtime, ctx, StepEvents(signal=signal, candle_time=candle.time))
    step.active_from = candle.time + runtime.tf_seconds
    if runtime.halted:  # an emergency stop: only its sells still fill
        if not runtime.state.halted:  # halted while it was not loaded: withdraw now
            intents, problems = ctx.manager.halt(
                runtime.state, runtime.product, ctx.fees, sell=False
            )
            step.apply(intents)
            step.events.notes += problems
        step.take_fills(candle)
        step.events.notes += runtime.state.take_notes()
        return step.events
    if runtime.state.halted:  # started again after an emergency stop
        step.apply(ctx.manager.rearm(runtime.state, runtime.product, ctx.fees))
    step.apply(ctx.manager.on_fees(runtime.state, runtime.product, ctx.fees))
    step.take_fills(candle)
    step.apply(ctx.manager.on_candle(runtime.state, candle, signal, runtime.product, ctx.fees))
    step.events.notes += runtime.state.take_notes()
    return step.events


@dataclass(slots=True)
class BotStep:
    """The work of one step; ``active_from`` is when orders placed now may first fill."""

    runtime: BotRuntime
    ctx: StepContext
    events: StepEvents
    active_from: int = 0

    def take_fills(self, candle: Candle) -> None:
        runtime, ctx = self.runtime, self.ctx
        for working, reason in unfillable(
            runtime.working_orders(), candle, runtime.product, ctx.fees
        ):
            self.reject(working.intent, reason)
        while True:
            found = next_fill(runtime.working_orders(), candle, runtime.product, ctx.fees)
            if found is None:
                return
            working, fill = found
            order_id = working.intent.client_order_id
            held = (
                runtime.book.reserved.get(order_id, ZERO)
                if fill.side is Side.BUY
                else (
                    fill.base_amount  # a sell releases the base its deal holds
                )
            )
            try:
                ctx.account.settle(runtime.product, fill, held)
            except InsufficientFundsError as error:
                self.reject(working.intent, str(error))
                continue
            runtime.book.forget(order_id)
            self.events.fills.append((working, fill))
            self.events.touched_deals.add(working.intent.deal_seq)
            self.apply(ctx.manager.on_fill(runtime.state, fill, runtime.product, ctx.fees))

    def reject(self, intent: PlaceOrder, reason: str) -> None:
        """Refuse a working or just-proposed order and let the deal manager react."""
        active_from = self.runtime.book.active_from.get(intent.client_order_id, self.active_from)
        self._release(intent.client_order_id)
        self.events.rejected.append(Rejection(intent, reason, active_from))
        self.events.touched_deals.add(intent.deal_seq)
        runtime = self.runtime
        self.apply(
            self.ctx.manager.on_reject(
                runtime.state, intent.client_order_id, runtime.product, self.ctx.fees
            )
        )

    def apply(self, intents: Sequence[OrderIntent]) -> None:
        """Accept or reject each intent; cancellations take effect at once."""
        for intent in intents:
            if isinstance(intent, CancelOrder):
                self._cancel(intent.client_order_id)
            else:
                self._place(intent)

    def _release(self, client_order_id: str) -> None:
        reserved = self.runtime.book.forget(client_order_id)
        if reserved:
            self.ctx.account.release(self.runtime.product.quote_currency, reserved)

    def _cancel(self, client_order_id: str) -> None:
        self._release(client_order_id)
        placed = self.events.placed
        same_step = [w for w in placed if w.intent.client_order_id == client_order_id]
        for working in same_step:  # placed and cancelled in one step: never reached the book
            placed.remove(working)
        if not same_step:
            self.events.cancelled.append(client_order_id)

    def _place(self, intent: PlaceOrder) -> None:
        self.events.touched_deals.add(intent.deal_seq)
        reason = validate_order(intent, self.runtime.product)
        reserve = ZERO if reason is not None else reservation(intent, self.ctx.fees)
        if reserve:
            try:
                self.ctx.account.reserve(self.runtime.product.quote_currency, reserve)
            except InsufficientFundsError as error:
                reason = str(error)
        if reason is not None:
            self.reject(intent, reason)
            return
        self.runtime.book.accept(intent.client_order_id, self.active_from, reserve)
        self.events.placed.append(WorkingOrder(intent=intent, active_from=self.active_from))


def apply_intents(
    runtime: BotRuntime,
    intents: Sequence[OrderIntent],
    ctx: StepContext,
    events: StepEvents,
    active_from: int,
) -> None:
    """Apply intents outside a candle step (a manual close)."""
    step = BotStep(runtime, ctx, events, active_from)
    step.apply(intents)
