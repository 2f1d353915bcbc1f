"""A live bot at a closed candle: the exchange first, then the decision, then the orders.

The same deal machine as on paper; only where its fills come from and where its orders
go differ. One step, in this order:

1. **Up to date.** Every order the deal machine holds is brought up to date with the
   exchange (``LiveOrders.refresh``; one a stopped run left as an intent or as sent is
   settled, ``LiveOrders.settle``), and every order whose cancel was asked for and not
   yet confirmed is asked again (``cancel_requested_at``).
2. **Told.** What ended is told to the deal machine oldest first (``replay``), after
   ``on_fees``, each order once (``told_at``, stored with the deal machine's answer);
   then, unless the bot is halted, a deal left with no order gets its exits back
   (``rearm``) and the strategy's signal is decided (``on_candle``).
3. **Stored.** One transaction stores the deals, the manager's state and every new
   order as an intent (a stop as watched: the engine watches it on live prices), and
   marks the cancels asked for; nothing is sent before it commits.
4. **Sent.** Cancels first, each confirmed by reading the order back; the new orders,
   oldest first, only when every cancel is confirmed ended with nothing executed (else
   they are rejected unsent, superseded, and the cancel is asked again next step).
5. **Again.** What the orders just sent did (a market buy fills at once, the exchange
   refused an order) is told at once, and the deal machine's answer (the take profit
   and safety orders of the buy) is stored and sent the same way, up to
   ``MAX_ROUNDS`` times; anything left is told at the next step.

What the replay cannot explain (a sell that ended part executed, a fill that beat a
cancel) halts the bot: every order of it is withdrawn, nothing is placed, and its
``last_error`` and the signal log say why until a user starts it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.brokers.live.orders import LiveOrders, record_intent
from tradefleet.brokers.live.replay import OrderRecord, replay
from tradefleet.db.models import Bot, Fill, Order, Signal
from tradefleet.db.session import transaction
from tradefleet.deals.protocol import Manager
from tradefleet.domain import (
    WORKING_STATUSES,
    CancelOrder,
    Candle,
    FeeSchedule,
    OrderIntent,
    OrderStatus,
    OrderType,
    SignalAction,
)
from tradefleet.domain import Signal as SignalEvent
from tradefleet.engine.cycle import error_row, signal_row
from tradefleet.engine.events import StepEvents
from tradefleet.engine.runtime import BotRuntime
from tradefleet.engine.store import persist_step
from tradefleet.engine.threads import in_thread

MAX_ROUNDS = 6  # rounds of send-then-tell within one step (buy, its exits, refusals)
MARKET_WAITS = (0.2, 0.5, 1.0, 2.0)  # a market order not yet ended is read again after
UNSENT = (OrderStatus.INTENT.value, OrderStatus.WATCHED.value)


@dataclass(slots=True)
class LiveContext:
    sessions: sessionmaker[Session]  # a writer's factory (see ``LiveOrders``)
    orders: LiveOrders
    fees: FeeSchedule
    manager: Manager


@dataclass(slots=True)
class LiveStepReport:
    """What one live step did; ``problems`` stopped the bot."""

    sent: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    told: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # shown, they do not stop the bot


@dataclass(slots=True)
class _Batch:
    sends: list[int] = field(default_factory=list)  # orders.id, in placement order
    cancels: list[int] = field(default_factory=list)


async def live_step(
    runtime: BotRuntime, candle: Candle, signal: SignalEvent, ctx: LiveContext
) -> LiveStepReport:
    """Process ``candle`` for one live bot (module steps); mutates the runtime."""
    step = _LiveStep(runtime, ctx, LiveStepReport(), candle.time, candle, signal)
    followed = await in_thread(step.followed_ids)
    await step.bring_up_to_date(followed)
    manager, state, product, fees = ctx.manager, runtime.state, runtime.product, ctx.fees
    pending = manager.on_fees(state, product, fees)
    pending += await step.tell(followed)
    if runtime.halted and not state.halted:  # halted while it was not loaded: withdraw
        withdrawn, problems = manager.halt(state, product, fees, sell=False)
        pending += withdrawn
        step.report.notes += problems
    if not runtime.halted:
        # started again after an emergency stop, or a deal left holding base with no
        # order at all (its stop's sell refused): its exits are put back
        pending += manager.rearm(state, product, fees)
        pending += manager.on_candle(state, candle, signal, product, fees)
    await step.store_and_send(pending)
    return step.report


async def live_settle(
    runtime: BotRuntime,
    ctx: LiveContext,
    now: int,
    then: Callable[[], list[OrderIntent]] | None = None,
) -> LiveStepReport:
    """Between candle closes (a stop just sold, a manual close, an emergency stop): the
    same step without a decision. ``then``: the deal machine's call once it knows what
    ended (``close_deal``, ``halt``); ``now`` (unix seconds) dates what it logs."""
    step = _LiveStep(runtime, ctx, LiveStepReport(), now)
    followed = await in_thread(step.followed_ids)
    await step.bring_up_to_date(followed)
    pending = await step.tell(followed)
    if then is not None:
        pending += then()
    await step.store_and_send(pending)
    return step.report


@dataclass(slots=True)
class _LiveStep:
    runtime: BotRuntime
    ctx: LiveContext
    report: LiveStepReport
    now: int  # unix seconds: the candle's time, or the moment between closes
    candle: Candle | None = None  # None between closes: nothing is decided
    signal: SignalEvent | None = None
    shown: int = 0  # of the report's messages, how many the signal log has
    seen: list[str] = field(default_factory=list)  # ended orders dealt with, to mark told
    frozen: bool = False  # a problem halted the bot in this step
    names: dict[int, str] = field(default_factory=dict)  # orders.id -> client order id
    markets: set[int] = field(default_factory=set)  # orders.id of market orders
    signal_logged: bool = False

    # -- 1. up to date ---------------------------------------------------------------

    def followed_ids(self) -> list[int]:
        """Rows of the orders the deal machine holds, and of the cancels not confirmed or
        not yet told (a fill that beat one is told, as a problem)."""
        held = [order.client_order_id for order in self.runtime.state.working_orders()]
        with transaction(self.ctx.sessions) as session:
            rows = session.scalars(
                select(Order.id)
                .where(
                    Order.bot_id == self.runtime.bot_id,
                    or_(
                        Order.client_order_id.in_(held),
                        Order.cancel_requested_at.is_not(None)
                        & (Order.status.in_(WORKING_STATUSES) | Order.told_at.is_(None)),
                    ),
                )
                .order_by(Order.id)
            )
            return list(rows)

    async def bring_up_to_date(self, order_ids: Collection[int]) -> None:
        """Each order as the exchange has it; one a stopped run left as an intent or as
        sent is settled (``LiveOrders.settle``)."""
        orders, product = self.ctx.orders, self.runtime.product
        for order_id, status, withdrawn in await in_thread(lambda: self._statuses(order_ids)):
            if status not in WORKING_STATUSES:
                continue
            if status == OrderStatus.SENT.value:
                await orders.settle(order_id, product)  # found (or not) before anything else
            if withdrawn:
                await orders.cancel(order_id, product)
            elif status == OrderStatus.INTENT.value:
                await orders.settle(order_id, product)
            elif status != OrderStatus.SENT.value:
                await orders.refresh(order_id, product)

    def _statuses(self, order_ids: Collection[int]) -> list[tuple[int, str, bool]]:
        with transaction(self.ctx.sessions) as session:
            rows = session.execute(
                select(Order.id, Order.status, Order.cancel_requested_at)
                .where(Order.id.in_(list(order_ids)))
                .order_by(Order.id)
            ).all()
        return [(row[0], row[1], row[2] is not None) for row in rows]

    # -- 2. told ---------------------------------------------------------------------

    async def tell(self, order_ids: Collection[int]) -> list[OrderIntent]:
        """Show the deal machine what ended among ``order_ids``."""
        records = await in_thread(lambda: self._records(order_ids))
        runtime, ctx = self.runtime, self.ctx
        told = replay(ctx.manager, runtime.state, records, runtime.product, ctx.fees)
        self.report.told += told.told
        self.seen += told.seen
        if not told.problems:
            return told.intents
        # What cannot be explained halts the bot: every order of it is withdrawn (a
        # cancel never costs money, a sell of a holding it cannot vouch for might) and
        # nothing is placed until a user, having looked, starts it again.
        self.report.problems += told.problems
        self.frozen = runtime.halted = True
        runtime.is_active = False
        withdrawn, _notes = ctx.manager.halt(runtime.state, runtime.product, ctx.fees, sell=False)
        return withdrawn

    def _records(self, order_ids: Collection[int]) -> list[OrderRecord]:
        with transaction(self.ctx.sessions) as session:
            rows = session.scalars(select(Order).where(Order.id.in_(list(order_ids)))).all()
            last_fills = dict(
                session.execute(
                    select(Fill.order_id, func.max(Fill.time))
                    .where(Fill.order_id.in_(list(order_ids)))
                    .group_by(Fill.order_id)
                ).all()
            )
            return [OrderRecord.of(row, _seconds(last_fills.get(row.id))) for row in rows]

    # -- 3-5. stored, sent, again ----------------------------------------------------

    async def store_and_send(self, pending: list[OrderIntent]) -> None:
        for round_number in range(MAX_ROUNDS):
            batch = await in_thread(partial(self._store, pending))
            if not batch.sends and not batch.cancels:
                return
            if not await self._cancel(batch.cancels):
                # a cancel not confirmed, or one that revealed a fill: nothing this round
                # decided is sent (an exit would sell what a resting order still holds);
                # the replay of the cancels says at once whether the bot must halt
                await in_thread(partial(self._supersede, batch.sends))
                pending = await self.tell(batch.cancels)
                continue
            await self._send(batch.sends)
            if round_number == MAX_ROUNDS - 1:  # the rest is told at the next step
                await in_thread(partial(self._store, []))
                return
            pending = await self.tell(batch.sends + batch.cancels + self._held_ids())

    def _held_ids(self) -> list[int]:
        book = self.runtime.book.row_ids
        return [book[o.client_order_id] for o in self.runtime.state.working_orders()
                if o.client_order_id in book]  # fmt: skip

    async def _cancel(self, order_ids: Sequence[int]) -> bool:
        """Cancel each order and confirm it; True only when every one is confirmed
        ended with nothing executed (else the cancel is asked again at the next step,
        or the fill that beat it is reported)."""
        clean = True
        for order_id in order_ids:
            await self.ctx.orders.cancel(order_id, self.runtime.product)
            self.report.cancelled.append(self.names.get(order_id, str(order_id)))
            clean = await in_thread(partial(cancelled_clean, self.ctx.sessions, order_id)) and clean
        return clean

    async def _send(self, order_ids: Sequence[int]) -> None:
        for order_id in order_ids:
            outcome = await self.ctx.orders.place(order_id, self.runtime.product)
            for pause in MARKET_WAITS if order_id in self.markets else ():
                if outcome.status not in (OrderStatus.OPEN, OrderStatus.PARTLY_FILLED):
                    break  # ended (or unknown: settled at the next step)
                await asyncio.sleep(pause)  # its fills are not out yet: the exits wait on them
                outcome = await self.ctx.orders.refresh(order_id, self.runtime.product)
            self.report.sent.append(self.names.get(order_id, str(order_id)))
            if outcome.status is OrderStatus.REJECTED and outcome.reason:
                name = self.names.get(order_id, str(order_id))
                self.report.notes.append(f"order {name} refused: {outcome.reason}")

    def _supersede(self, order_ids: Sequence[int]) -> None:
        if not order_ids:
            return
        with transaction(self.ctx.sessions) as session:
            session.execute(
                update(Order)
                .where(Order.id.in_(list(order_ids)), Order.status == OrderStatus.INTENT.value)
                .values(
                    status=OrderStatus.REJECTED.value,
                    error="superseded: a cancel of its deal revealed a fill",
                    updated_at=datetime.now(UTC),
                )
            )

    def _store(self, pending: list[OrderIntent]) -> _Batch:
        """One transaction: deals, the bot's row and signal log, new orders, cancels."""
        runtime = self.runtime
        batch = _Batch()
        with transaction(self.ctx.sessions) as session:
            touched = {deal.seq for deal in runtime.state.deals}
            touched |= {i.deal_seq for i in pending if not isinstance(i, CancelOrder)}
            persist_step(session, runtime, StepEvents(touched_deals=touched))
            unsent: dict[str, Order] = {}
            for intent in pending:
                if isinstance(intent, CancelOrder):
                    self._withdraw(session, intent.client_order_id, unsent, batch)
                    continue
                row = record_intent(
                    session, intent, runtime.product, bot_id=runtime.bot_id,
                    position_id=runtime.position_ids.get(intent.deal_seq),
                    active_from=self.now + runtime.tf_seconds,
                )  # fmt: skip
                runtime.book.row_ids[intent.client_order_id] = row.id
                self.names[row.id] = intent.client_order_id
                if intent.order_type is OrderType.MARKET:
                    self.markets.add(row.id)
                if row.status in UNSENT:
                    unsent[intent.client_order_id] = row
                if row.status == OrderStatus.INTENT.value:
                    batch.sends.append(row.id)
                elif row.status == OrderStatus.REJECTED.value:
                    note = f"order {intent.client_order_id} rejected: {row.error}"
                    self.report.notes.append(note)
            self._write_bot(session)
        return batch

    def _withdraw(
        self, session: Session, client_order_id: str, unsent: dict[str, Order], batch: _Batch
    ) -> None:
        """A cancel: an order of this transaction (or a watched stop) never reaches the
        exchange; one the exchange holds is marked and cancelled after the commit."""
        self.runtime.book.row_ids.pop(client_order_id, None)
        row = (
            unsent.pop(client_order_id, None)
            or session.scalars(
                select(Order).where(Order.client_order_id == client_order_id)
            ).one_or_none()
        )
        if row is None or row.status not in WORKING_STATUSES:
            return
        if row.status in UNSENT:
            if row.id in batch.sends:
                batch.sends.remove(row.id)
            row.status = OrderStatus.CANCELLED.value
            row.error = None
            row.updated_at = datetime.now(UTC)
            return
        row.cancel_requested_at = datetime.now(UTC)
        batch.cancels.append(row.id)
        self.names[row.id] = client_order_id

    def _write_bot(self, session: Session) -> None:
        runtime, report = self.runtime, self.report
        values: dict[str, Any] = {"manager_state": runtime.state.to_manager_state()}
        if self.candle is not None and self.signal is not None:
            runtime.last_candle_time = self.candle.time
            values["last_candle_time"] = self.candle.time
            values["last_signal_check"] = datetime.now(UTC)
            values["last_indicators"] = signal_row(runtime.bot_id, self.signal)["indicators"]
        report.notes += runtime.state.take_notes()
        messages = report.problems + report.notes
        shown, self.shown = messages[self.shown :], len(messages)
        if self.frozen:  # halted, as by an emergency stop without its sells
            values["is_active"] = False
            values["halted_at"] = datetime.now(UTC)
        if self.seen:
            session.execute(
                update(Order)
                .where(Order.bot_id == runtime.bot_id, Order.client_order_id.in_(self.seen),
                       Order.told_at.is_(None))
                .values(told_at=datetime.now(UTC))
            )  # fmt: skip
            self.seen = []
        if shown:
            values["last_error"] = "; ".join(shown[-3:])
        elif runtime.is_active and not runtime.halted and self.candle is not None:
            values["last_error"] = None  # a halted bot keeps saying why it halted
        session.execute(update(Bot).where(Bot.id == runtime.bot_id).values(**values))
        rows = [error_row(runtime.bot_id, self.now, message) for message in shown]
        signal = self.signal
        if signal is not None and signal.action is not SignalAction.HOLD and not self.signal_logged:
            rows.append(signal_row(runtime.bot_id, signal))
            self.signal_logged = True
        if rows:
            session.execute(insert(Signal), rows)


def cancelled_clean(sessions: sessionmaker[Session], order_id: int) -> bool:
    """The order ended without executing anything (its cancel is confirmed)."""
    with transaction(sessions) as session:
        row = session.get_one(Order, order_id)
        ended = row.status in (
            OrderStatus.CANCELLED.value,
            OrderStatus.EXPIRED.value,
            OrderStatus.REJECTED.value,
        )
        return ended and row.filled_base == 0


def _seconds(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()
