"""The deal manager's state: one ``DealState`` per deal, one ``BotState`` per bot.

``DealState``'s fields are the ``Position`` table's columns (times as unix seconds) plus
the deal's still-working orders. The engine persists deals as ``Position`` rows, orders
as ``Order`` rows and ``BotState.to_manager_state()`` in ``Bot.manager_state``; after a
restart it rebuilds the state with :func:`restore`:

1. ``deals`` = the bot's open positions, each ``DealState.from_columns(position_row)``
   (``opened_at``/``closed_at`` may be given as aware datetimes);
2. ``open_orders`` = its PENDING and OPEN orders as ``PlaceOrder`` (``deal_seq`` = the
   position's ``seq``, ``price`` = ``limit_price``);
3. ``restore(bot.id, bot.manager_state, deals, open_orders, realized_pnl)`` with
   ``realized_pnl`` = the sum of the bot's closed positions' ``realized_pnl``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from tradefleet.domain import CloseReason, FeeSchedule, PlaceOrder
from tradefleet.money import ZERO

OPEN = "open"
CLOSED = "closed"


class UnknownOrderError(ValueError):
    """A fill or rejection names an order none of the bot's open deals is waiting for."""


@dataclass(slots=True)
class DealState:
    """One deal; the fields before ``open_orders`` mirror the ``Position`` columns."""

    seq: int
    opened_at: int  # decision time until the first buy fills, then that fill's time
    status: str = OPEN
    closed_at: int | None = None
    close_reason: CloseReason | None = None
    base_price: Decimal | None = None  # price of the first buy fill
    base_amount: Decimal = ZERO  # base held now
    bought_base: Decimal = ZERO
    bought_quote: Decimal = ZERO  # gross (price x base), fees excluded
    buy_fees: Decimal = ZERO
    sold_base: Decimal = ZERO
    sold_quote: Decimal = ZERO
    sell_fees: Decimal = ZERO
    average_entry_price: Decimal | None = None  # bought_quote / bought_base, 18 places
    safety_orders_filled: int = 0
    adds_filled: int = 0
    take_profit_price: Decimal | None = None  # TP limit, or the trailing activation price
    stop_price: Decimal | None = None  # trigger of the working stop (stop loss or trailing)
    trailing_active: bool = False
    trailing_peak: Decimal | None = None
    realized_pnl: Decimal | None = None
    grid_level: int | None = None
    order_seq: int = 0  # orders placed so far; numbers the next client order id
    open_orders: dict[str, PlaceOrder] = field(default_factory=dict)
    # Candle time of the deal's latest limit buy fill. Limit buys fill last within a
    # candle, so that candle's high came before the fill and may not start or raise
    # the trailing take profit the fill re-armed. Only read in the same step as the
    # fill (fills, then the decision), so it is not persisted.
    limit_buy_filled_at: int | None = None

    def column_values(self) -> dict[str, Any]:
        """The ``Position`` column values (times as unix seconds)."""
        return {name: getattr(self, name) for name in DEAL_COLUMNS}

    @classmethod
    def from_columns(cls, values: Mapping[str, Any]) -> DealState:
        """A deal from ``Position`` column values; extra keys (``id``, ``bot_id``…) are ignored."""
        data = {name: values[name] for name in DEAL_COLUMNS if name in values}
        for name in ("opened_at", "closed_at"):
            if isinstance(data.get(name), datetime):
                data[name] = int(data[name].timestamp())
        if data.get("close_reason") is not None:
            data["close_reason"] = CloseReason(data["close_reason"])
        return cls(**data)


_NOT_COLUMNS = frozenset({"open_orders", "limit_buy_filled_at"})
DEAL_COLUMNS: tuple[str, ...] = tuple(
    f.name for f in fields(DealState) if f.name not in _NOT_COLUMNS
)


@dataclass(slots=True)
class GridState:
    """A grid bot's levels, which of them hold a filled buy, and buy cycles per level."""

    levels: list[Decimal]
    filled: set[int] = field(default_factory=set)
    cycles: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "levels": [str(level) for level in self.levels],
            "filled": sorted(self.filled),
            "cycles": list(self.cycles),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GridState:
        return cls(
            levels=[Decimal(level) for level in data["levels"]],
            filled={int(level) for level in data["filled"]},
            cycles=[int(count) for count in data["cycles"]],
        )


@dataclass(slots=True)
class BotState:
    """Everything the deal manager knows about one bot.

    ``realized_pnl`` is the sum of the realised PnL of every deal the bot closed (the
    engine sums its closed positions on restore): realised losses shrink what the bot
    may commit (``book.spendable``). ``notes`` collects what a call wants the user to
    see (a buy refused because the budget is exhausted); the engine drains it into
    ``last_error`` and the signal log with ``take_notes``.

    ``deals`` are the open deals, oldest first. A deal that closes moves to ``closed``;
    a deal dropped before anything was bought (its first buy rejected or cancelled)
    moves to ``discarded``. The engine drains both with ``take_closed`` /
    ``take_discarded`` and persists them (closed: update the row; discarded: delete it).
    """

    bot_id: int
    deals: list[DealState] = field(default_factory=list)
    closed: list[DealState] = field(default_factory=list)
    discarded: list[DealState] = field(default_factory=list)
    next_deal_seq: int = 1
    last_deal_closed_at: int | None = None
    grid: GridState | None = None
    realized_pnl: Decimal = ZERO
    notes: list[str] = field(default_factory=list)
    fees_seen: FeeSchedule | None = None  # the fees ``book.fit_to_fees`` last checked
    # A stopped bot manages the deals it holds but enters nothing new (grid: no arming,
    # and its resting entry buys are withdrawn). Set by the engine, never persisted.
    entries_paused: bool = False
    # An emergency stop withdrew the bot's orders (``book.halt``): it places nothing but
    # the emergency sells until ``rearm`` puts its exits back when it is started again.
    halted: bool = False

    def deal(self, seq: int) -> DealState | None:
        return next((deal for deal in self.deals if deal.seq == seq), None)

    def find_order(self, client_order_id: str) -> tuple[DealState, PlaceOrder]:
        """The open deal waiting for ``client_order_id`` and the order itself."""
        for deal in self.deals:
            order = deal.open_orders.get(client_order_id)
            if order is not None:
                return deal, order
        raise UnknownOrderError(f"bot {self.bot_id} has no working order {client_order_id}")

    def working_orders(self) -> list[PlaceOrder]:
        """Every order the bot's open deals wait for, deal by deal, in placement order."""
        return [order for deal in self.deals for order in deal.open_orders.values()]

    def take_closed(self) -> list[DealState]:
        closed, self.closed = self.closed, []
        return closed

    def take_discarded(self) -> list[DealState]:
        discarded, self.discarded = self.discarded, []
        return discarded

    def take_notes(self) -> list[str]:
        notes, self.notes = self.notes, []
        return notes

    def to_manager_state(self) -> dict[str, Any]:
        """The JSON kept in ``Bot.manager_state``: what outlives the bot's deals."""
        data: dict[str, Any] = {
            "next_deal_seq": self.next_deal_seq,
            "last_deal_closed_at": self.last_deal_closed_at,
            "grid": None if self.grid is None else self.grid.to_json(),
        }
        if self.halted:  # absent otherwise: the JSON of bots never halted is unchanged
            data["halted"] = True
        return data

    @classmethod
    def from_manager_state(cls, bot_id: int, data: Mapping[str, Any]) -> BotState:
        """A state without deals from ``Bot.manager_state`` (``{}`` for a new bot)."""
        grid = data.get("grid")
        closed_at = data.get("last_deal_closed_at")
        return cls(
            bot_id=bot_id,
            next_deal_seq=int(data.get("next_deal_seq", 1)),
            last_deal_closed_at=None if closed_at is None else int(closed_at),
            grid=None if grid is None else GridState.from_json(grid),
            halted=bool(data.get("halted", False)),
        )


def restore(
    bot_id: int,
    manager_state: Mapping[str, Any],
    deals: Iterable[DealState],
    open_orders: Iterable[PlaceOrder],
    realized_pnl: Decimal = ZERO,
) -> BotState:
    """Rebuild a bot's state from its persisted rows (see the module docstring);
    ``realized_pnl`` = the sum over the bot's closed positions."""
    state = BotState.from_manager_state(bot_id, manager_state)
    state.realized_pnl = realized_pnl
    for deal in sorted(deals, key=lambda d: d.seq):
        if deal.status != OPEN:
            raise ValueError(f"deal {deal.seq} of bot {bot_id} is not open")
        deal.open_orders = {}
        state.deals.append(deal)
        state.next_deal_seq = max(state.next_deal_seq, deal.seq + 1)
    for order in open_orders:
        deal_found = state.deal(order.deal_seq)
        if deal_found is None:
            raise ValueError(
                f"order {order.client_order_id} belongs to no open deal of bot {bot_id}"
            )
        deal_found.open_orders[order.client_order_id] = order
    return state
