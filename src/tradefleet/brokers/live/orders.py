"""Live orders exactly once: stored before they are sent, settled by asking the exchange.

An order's life is intent -> sent -> open -> partly filled -> filled / cancelled /
rejected / expired, each step a row of ``order_events``. The rules that make a
duplicate impossible:

1. ``record_intent`` stores the order (status intent) with its deterministic client
   order id; the caller commits it. An order the product cannot take (below the minimum
   size, off the increments) is stored rejected with the reason and never sent.
2. ``place`` commits "sent" before the request leaves. Then, whatever happens, the same
   request (same client order id) may be sent again: the exchange answers a repeated
   client order id with the order it already made. An order is refused only when the
   exchange's refusal arrived whole; a timeout, a dropped connection, a 5xx or a body
   cut short is an unknown outcome, never read from the exception's class: the request
   is sent again (with backoff) and, if no answer comes, the exchange's own list of
   orders is searched for the client order id. What is still unknown stays "sent" with
   the reason, for the next ``place`` (after a restart too) to settle.
3. ``refresh`` reads the order and its fills from the exchange; fills are stored once
   each (by the exchange's trade id), and the order's filled amounts are the sum of its
   stored fills, never more than the exchange reports.
4. ``cancel`` asks for a cancel and then reads the order back: the status stored is the
   one the exchange reports (a fill that beat the cancel is a fill).
5. A stop (stop loss, trailing take profit) is not an exchange order: Coinbase has no
   trailing stop, and the take profit's resting sell holds the base. ``record_intent``
   stores it watched; the engine watches live prices and, when it triggers, ``place``
   sends it as a market sell by base under its own client order id. One whose sell
   never reached the exchange (a crash between) is watched again, not rejected.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.brokers.fill_model import validate_order
from tradefleet.brokers.live.gateway import (
    ExchangeFill,
    ExchangeGateway,
    ExchangeOrder,
    OrderRequest,
)
from tradefleet.db.models import Fill, Order, OrderEvent, intent_columns
from tradefleet.db.session import transaction
from tradefleet.domain import OrderPurpose, OrderStatus, OrderType, PlaceOrder, ProductSpec, Side
from tradefleet.money import ZERO
from tradefleet.redact import said

log = logging.getLogger(__name__)

RETRY_SECONDS = (0.5, 1.0, 2.0, 4.0)  # pauses between sends of the same order
LOOKBACK = timedelta(minutes=10)  # how far before the intent the exchange's list is searched
MAKER_PURPOSES = frozenset(
    {OrderPurpose.TAKE_PROFIT, OrderPurpose.SAFETY, OrderPurpose.GRID_BUY, OrderPurpose.GRID_SELL}
)
MANUAL = OrderPurpose.MANUAL_CLOSE.value  # a sell the user asked for: wanted after a restart
DONE = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """Where an order stands after a call, and why (a refusal, an unknown outcome)."""

    status: OrderStatus
    exchange_order_id: str | None = None
    reason: str | None = None
    new_fills: int = 0


def record_intent(
    session: Session,
    intent: PlaceOrder,
    product: ProductSpec,
    *,
    bot_id: int | None,
    position_id: int | None,
    active_from: int,
) -> Order:
    """Store the order before anything is sent (the caller commits): status intent, or
    rejected with the reason when the product could not take it."""
    reason = validate_order(intent, product)
    waits = OrderStatus.WATCHED if intent.order_type is OrderType.STOP else OrderStatus.INTENT
    status = waits if reason is None else OrderStatus.REJECTED
    row = Order(
        **intent_columns(intent),
        bot_id=bot_id,
        position_id=position_id,
        product_id=product.product_id,
        status=status.value,
        active_from=active_from,
        error=reason,
    )
    session.add(row)
    session.flush()
    _event(session, row, status, reason)
    return row


class LiveOrders:
    """Places, follows and cancels stored orders on the exchange (see the module rules).

    ``sessions`` must be a writer's factory: on SQLite its transactions take the write
    lock when they begin (``make_engine(immediate=True)``), as every read-then-write here
    does; several orders may be followed at once."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        gateway: ExchangeGateway,
        *,
        retry_seconds: Sequence[float] = RETRY_SECONDS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._sessions = sessions
        self.gateway = gateway
        self._retry_seconds = tuple(retry_seconds)
        self._sleep = sleep

    async def place(self, order_id: int, product: ProductSpec) -> Outcome:
        """Send a stored order (intent, a watched stop that triggered, or sent with an
        unknown outcome) exactly once."""
        row = await self._mark_sent(order_id)
        status = OrderStatus(row.status)
        if status is not OrderStatus.SENT:
            return Outcome(status, row.exchange_order_id, row.error)
        request = request_for(row, product)
        unknown = "no answer"
        for pause in (0.0, *self._retry_seconds):
            if pause:
                await self._sleep(pause * random.uniform(0.8, 1.2))
            try:
                exchange_order_id = await self.gateway.create(request)
            except Exception as error:  # the outcome is settled below, not guessed from this
                refused = self.gateway.refusal(row.client_order_id)
                if refused is not None:
                    return await self._write(order_id, OrderStatus.REJECTED, refused)
                unknown = said(error)
                log.warning("order %s: outcome unknown (%s); sending it again",
                            row.client_order_id, unknown)  # fmt: skip
                continue
            await self._write(order_id, OrderStatus.OPEN, None, exchange_order_id)
            return await self.refresh(order_id, product)
        return await self._ask(row, product, unknown)

    async def settle(self, order_id: int, product: ProductSpec) -> Outcome:
        """After a restart: an order stored as intent was never sent (``sent`` is committed
        first). A resting one (a take profit, a safety order, a grid level) is sent now:
        what it was decided for still holds, and its deal counts on it; so is a sell the
        user asked for (a manual close, an emergency stop's); any other market order is
        rejected unsent (its moment has passed). One stored as sent is looked for on the
        exchange, not sent again: found, it is followed; not there, it never arrived and
        is rejected (a triggered stop: watched again)."""
        row = await self._load(order_id)
        status = OrderStatus(row.status)
        wanted = row.order_type == OrderType.LIMIT.value or row.purpose == MANUAL
        if status is OrderStatus.INTENT and wanted:
            return await self.place(order_id, product)
        if status is OrderStatus.INTENT:
            reason = "not sent: the server stopped before sending it"
            return await self._write(order_id, OrderStatus.REJECTED, reason)
        if status is not OrderStatus.SENT:
            return await self.refresh(order_id, product)
        found = await self._find(row, product)
        if found is None and row.order_type == OrderType.STOP.value:
            reason = "its sell never reached the exchange: watched again"
            return await self._write(order_id, OrderStatus.WATCHED, reason)
        if found is None:
            reason = "never reached the exchange (not in its list of orders)"
            return await self._write(order_id, OrderStatus.REJECTED, reason)
        return await self._adopt(row, found, product)

    async def refresh(
        self, order_id: int, product: ProductSpec, known: ExchangeOrder | None = None
    ) -> Outcome:
        """Read the order (unless ``known``, just read in a listing) and, when its filled
        amount moved, its fills from the exchange; store what is new."""
        row = await self._load(order_id)
        if row.exchange_order_id is None:
            return Outcome(OrderStatus(row.status), None, row.error)
        found = known or await self.gateway.order(row.exchange_order_id, product)
        fills = []
        if found.filled_base != row.filled_base:
            fills = await self.gateway.fills(row.exchange_order_id, product)
        return await asyncio.to_thread(self._apply, order_id, found, fills, product)

    async def cancel(self, order_id: int, product: ProductSpec) -> Outcome:
        """Ask the exchange to cancel, then store what it says became of the order."""
        row = await self._load(order_id)
        if row.status == OrderStatus.WATCHED.value:  # never sent: nothing to ask
            return await self._write(order_id, OrderStatus.CANCELLED, "withdrawn unsent")
        if OrderStatus(row.status) in DONE or row.exchange_order_id is None:
            return Outcome(OrderStatus(row.status), row.exchange_order_id, row.error)
        try:
            await self.gateway.cancel(row.exchange_order_id, product)
        except Exception as error:  # the order read back below says what happened
            log.warning("order %s: cancel answered %s", row.client_order_id, said(error))
        return await self.refresh(order_id, product)

    # -- the steps ------------------------------------------------------------------

    async def _ask(self, row: Order, product: ProductSpec, unknown: str) -> Outcome:
        """No answer came: search the exchange's own orders for the client order id."""
        try:
            found = await self._find(row, product)
        except Exception as error:
            found = None
            unknown = f"{unknown}; the exchange's orders could not be read: {said(error)}"
        if found is None:
            reason = f"outcome unknown, to be settled with the exchange: {unknown}"
            await self._write(row.id, OrderStatus.SENT, reason)
            return Outcome(OrderStatus.SENT, None, reason)
        return await self._adopt(row, found, product)

    async def _find(self, row: Order, product: ProductSpec) -> ExchangeOrder | None:
        """The exchange's order of ``row``'s client order id, made since just before it."""
        return await self.gateway.find(row.client_order_id, product, row.created_at - LOOKBACK)

    async def _adopt(self, row: Order, found: ExchangeOrder, product: ProductSpec) -> Outcome:
        """Follow an order the exchange's own list showed (its answer had been lost)."""
        await self._write(row.id, OrderStatus.OPEN, "found on the exchange", found.order_id)
        return await self.refresh(row.id, product, found)

    async def _mark_sent(self, order_id: int) -> Order:
        def mark() -> Order:
            with transaction(self._sessions) as session:
                row = _locked(session, order_id)
                if row.status in (OrderStatus.INTENT.value, OrderStatus.WATCHED.value):
                    _move(session, row, OrderStatus.SENT, None)
                return row

        return await asyncio.to_thread(mark)

    async def _write(
        self,
        order_id: int,
        status: OrderStatus,
        reason: str | None,
        exchange_order_id: str | None = None,
    ) -> Outcome:
        def write() -> Outcome:
            with transaction(self._sessions) as session:
                row = _locked(session, order_id)
                if exchange_order_id is not None:
                    row.exchange_order_id = exchange_order_id
                # the reason of a refusal or of an unknown outcome is the order's error; a
                # note such as "found on the exchange" is only the event's detail
                row.error = reason if status in (OrderStatus.REJECTED, OrderStatus.SENT) else None
                _move(session, row, status, reason)
                return Outcome(status, row.exchange_order_id, reason)

        return await asyncio.to_thread(write)

    async def _load(self, order_id: int) -> Order:
        def load() -> Order:
            with transaction(self._sessions) as session:
                return _locked(session, order_id)

        return await asyncio.to_thread(load)

    def _apply(
        self, order_id: int, found: ExchangeOrder, fills: list[ExchangeFill], product: ProductSpec
    ) -> Outcome:
        with transaction(self._sessions) as session:
            row = _locked(session, order_id)
            known = set(session.scalars(select(Fill.trade_id).where(Fill.order_id == row.id)).all())
            added = 0
            for fill in sorted(fills, key=lambda f: (f.time, f.trade_id)):
                trade_id = f"{self.gateway.exchange_id}:{fill.trade_id}"
                if trade_id in known:
                    continue
                session.add(_fill_row(row, fill, trade_id, product))
                known.add(trade_id)
                added += 1
            session.flush()
            base, quote, fee = _sums(session, row.id)
            row.filled_base, row.filled_quote, row.fee = base, quote, fee
            status = found.status
            if status in DONE and base < found.filled_base:
                # the fills list lags the order (filled, or cancelled after a part filled):
                # it stays working, to be read again, until every fill is stored
                status = OrderStatus.PARTLY_FILLED
            detail = f"filled {base:f} of {row.base_amount or row.quote_amount}" if added else None
            if status.value != row.status or added:
                _move(session, row, status, detail)
            return Outcome(status, row.exchange_order_id, row.error, added)


def request_for(row: Order, product: ProductSpec) -> OrderRequest:
    """The order as it is sent, written to its increments' places ("100.00" on a 0.01
    quote increment; ``record_intent`` refused any amount off them); makers (take profit,
    safety orders, grid) are post-only; a stop that triggered sells at market."""
    purpose = OrderPurpose(row.purpose)
    order_type = OrderType(row.order_type)
    return OrderRequest(
        client_order_id=row.client_order_id,
        product=product,
        side=Side(row.side),
        order_type=OrderType.MARKET if order_type is OrderType.STOP else order_type,
        base_amount=_on(row.base_amount, product.base_increment),
        quote_amount=_on(row.quote_amount, product.quote_increment),
        limit_price=None
        if order_type is OrderType.STOP
        else _on(row.limit_price, product.price_increment),
        post_only=purpose in MAKER_PURPOSES and row.order_type == OrderType.LIMIT.value,
    )


def _on(amount: Decimal | None, increment: Decimal) -> Decimal | None:
    if amount is None:
        return None
    placed = amount.quantize(increment)
    if placed != amount:
        raise ValueError(f"{amount} is off the increment {increment}")
    return placed


def _locked(session: Session, order_id: int) -> Order:
    row = session.scalars(select(Order).where(Order.id == order_id).with_for_update()).one()
    return row


def _move(session: Session, row: Order, status: OrderStatus, detail: str | None) -> None:
    row.status = status.value
    row.updated_at = datetime.now(UTC)
    _event(session, row, status, detail)


def _event(session: Session, row: Order, status: OrderStatus, detail: str | None) -> None:
    session.add(OrderEvent(order_id=row.id, status=status.value, detail=detail))


def _fill_row(row: Order, fill: ExchangeFill, trade_id: str, product: ProductSpec) -> Fill:
    return Fill(
        trade_id=trade_id,
        order_id=row.id,
        bot_id=row.bot_id,
        position_id=row.position_id,
        product_id=row.product_id,
        side=fill.side.value,
        time=fill.time,
        price=fill.price,
        base_amount=fill.base_amount,
        quote_amount=fill.quote_amount,
        fee=fill.fee,
        fee_currency=product.quote_currency,
    )


def _sums(session: Session, order_id: int) -> tuple[Decimal, Decimal, Decimal]:
    rows = session.execute(
        select(Fill.base_amount, Fill.quote_amount, Fill.fee).where(Fill.order_id == order_id)
    ).all()
    base = sum((r[0] for r in rows), ZERO)
    quote = sum((r[1] for r in rows), ZERO)
    fee = sum((r[2] for r in rows), ZERO)
    return base, quote, fee
