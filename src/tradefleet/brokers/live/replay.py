"""What the exchange did to a live bot's working orders, told to its deal manager.

Once ``LiveOrders`` has brought each working order's row up to date with the exchange
(``refresh``, ``settle``), the orders that ended are shown to the deal manager the way
the paper broker shows its fills, so the same deal machine runs both: oldest first (by
when each ended), each as one fill of everything it executed, at its average price,
with the fees as charged (the ``Fill`` of ``deals.protocol`` is a complete execution).

- filled: ``on_fill`` with that aggregate;
- cancelled, expired or rejected with nothing executed: ``on_reject``;
- a buy that ended part executed: ``on_fill`` with the part (the deal bought that much,
  and its exits follow what it holds);
- a sell that ended part executed: not guessed; reported, so the caller stops the bot
  and shows it (a deal that sold part of its holding is not a state the deal machine
  has);
- still working (open, partly filled, or not yet answered): nothing yet, so a resting
  take profit that fills bit by bit is told once, when it is done;
- an order the manager no longer holds (it cancelled it) that executed anything: a fill
  that beat the cancel, reported for the caller to resolve before it decides anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from tradefleet.db.models import Order
from tradefleet.deals.protocol import Manager
from tradefleet.deals.state import BotState
from tradefleet.domain import FeeSchedule, Fill, OrderIntent, OrderStatus, ProductSpec, Side
from tradefleet.money import ZERO, quantize_amount

ENDED = (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REJECTED)


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """A live order as stored after asking the exchange (``orders`` row)."""

    client_order_id: str
    side: Side
    status: OrderStatus
    filled_base: Decimal
    filled_quote: Decimal
    fee: Decimal
    ended_at: float  # unix seconds: its last fill, else when its row last changed

    @classmethod
    def of(cls, row: Order, last_fill_at: float | None) -> OrderRecord:
        changed = row.updated_at.timestamp()
        return cls(
            client_order_id=row.client_order_id,
            side=Side(row.side),
            status=OrderStatus(row.status),
            filled_base=row.filled_base,
            filled_quote=row.filled_quote,
            fee=row.fee,
            ended_at=changed if last_fill_at is None else last_fill_at,
        )

    def as_fill(self) -> Fill:
        """Everything it executed as one fill at its average price (18 places)."""
        price = quantize_amount(self.filled_quote / self.filled_base)
        return Fill(
            self.client_order_id, int(self.ended_at), self.side, price, self.filled_base,
            self.filled_quote, self.fee,
        )  # fmt: skip


@dataclass(slots=True)
class Replay:
    intents: list[OrderIntent] = field(default_factory=list)
    told: list[str] = field(default_factory=list)  # client order ids shown to the manager
    problems: list[str] = field(default_factory=list)  # the bot must stop: shown, not guessed
    # every ended record dealt with (told, or a confirmed cancel) and the one reported as
    # a problem: none of them is to be told again (``orders.told_at``)
    seen: list[str] = field(default_factory=list)


def replay(
    manager: Manager,
    state: BotState,
    records: Iterable[OrderRecord],
    product: ProductSpec,
    fees: FeeSchedule,
) -> Replay:
    """Tell ``manager`` about every ended order of ``records``, oldest first; stops at
    the first one it cannot explain (the rest wait, untold, for the caller to resolve).

    ``records``: the rows of the orders the manager holds as working, and of those whose
    cancel it asked for and the exchange has not confirmed yet; an order told once is
    not passed again (it is no longer working)."""
    result = Replay()
    held = {order.client_order_id for order in state.working_orders()}
    ended = sorted(
        (r for r in records if r.status in ENDED),
        key=lambda r: (r.ended_at, r.client_order_id),
    )
    for record in ended:
        executed = record.filled_base > ZERO
        if record.client_order_id not in held:
            result.seen.append(record.client_order_id)
            if executed:
                result.problems.append(
                    f"order {record.client_order_id} executed {record.filled_base:f} after the "
                    "bot had cancelled it"
                )
                return result
            continue  # a cancel the manager asked for, confirmed
        if record.status is not OrderStatus.FILLED and executed and record.side is Side.SELL:
            result.seen.append(record.client_order_id)
            result.problems.append(
                f"sell {record.client_order_id} ended {record.status.value} with "
                f"{record.filled_base:f} executed: a deal that sold part of its holding"
            )
            return result
        if executed:
            result.intents += manager.on_fill(state, record.as_fill(), product, fees)
        else:
            result.intents += manager.on_reject(state, record.client_order_id, product, fees)
        result.told.append(record.client_order_id)
        result.seen.append(record.client_order_id)
        held = {order.client_order_id for order in state.working_orders()}
    return result
