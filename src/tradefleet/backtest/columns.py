"""A run's fills and deals as exact columns: what the equity curve and metrics read.

Metrics need sums over every fill and deal (fees, cash, realized PnL), not the objects
themselves. An engine that can compute the columns directly (the compiled kernel, with
``kernel_columns`` and ``kernel_ledger``) hands them over and builds its ``Fill`` and
``DealSummary`` objects only when something reads them; for any other engine they are
read off its objects.
Money is in integer units of 10**-scale (``units``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from threading import Lock
from typing import Any, Generic, TypeVar, overload

import numpy as np

from tradefleet.backtest.units import PLACES, UnitArray, unit_array
from tradefleet.domain import BoolArray, Fill, IntArray, Side

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class FillColumns:
    """One entry per fill, in execution order."""

    time: IntArray  # open time of the candle it filled on
    buy: BoolArray
    base: UnitArray  # base amount, units
    quote: UnitArray  # gross quote amount, units
    fee: UnitArray  # units
    scale: int = PLACES  # a unit is 10**-scale
    # The fill price in units, where the engine knows it exactly (the report then writes
    # the trades from the columns, without building the Fill objects).
    price: UnitArray | None = None

    def __len__(self) -> int:
        return int(self.time.shape[0])

    @classmethod
    def of(cls, fills: Sequence[Fill]) -> FillColumns:
        """The columns of fills given as objects."""
        count = len(fills)
        return cls(
            time=np.fromiter((f.time for f in fills), dtype=np.int64, count=count),
            buy=np.fromiter((f.side is Side.BUY for f in fills), dtype=np.bool_, count=count),
            base=unit_array(f.base_amount for f in fills),
            quote=unit_array(f.quote_amount for f in fills),
            fee=unit_array(f.fee for f in fills),
        )


@dataclass(frozen=True, slots=True)
class DealColumns:
    """One entry per deal, in any order."""

    closed: BoolArray
    opened_at: IntArray
    closed_at: IntArray  # -1 while open
    realized: UnitArray  # realized PnL in units, 0 while open
    holds: BoolArray  # bought any base
    safety_orders: IntArray  # safety orders filled
    scale: int = PLACES  # a unit is 10**-scale

    def __len__(self) -> int:
        return int(self.closed.shape[0])

    @classmethod
    def of(cls, deals: Sequence[Any]) -> DealColumns:
        """The columns of ``engines.DealSummary`` objects."""
        count = len(deals)
        return cls(
            closed=np.fromiter((d.status == "closed" for d in deals), dtype=np.bool_, count=count),
            opened_at=np.fromiter((d.opened_at for d in deals), dtype=np.int64, count=count),
            closed_at=np.fromiter(
                (-1 if d.closed_at is None else d.closed_at for d in deals),
                dtype=np.int64,
                count=count,
            ),
            realized=unit_array(
                d.realized_pnl if d.status == "closed" and d.realized_pnl is not None else 0
                for d in deals
            ),
            holds=np.fromiter((d.bought_base > 0 for d in deals), dtype=np.bool_, count=count),
            safety_orders=np.fromiter(
                (d.safety_orders_filled for d in deals), dtype=np.int64, count=count
            ),
        )


class LazySequence(Sequence[T], Generic[T]):
    """A sequence of known length whose items are built on first access.

    A backtest of a year of one-minute candles can have tens of thousands of fills; an
    optimizer trial reads only the metrics, so building their objects is left to whoever
    reads them (the JSON report, the plot, the API).
    """

    __slots__ = ("_build", "_items", "_length", "_lock")

    def __init__(self, length: int, build: Callable[[], list[T]]) -> None:
        self._length = length
        self._build: Callable[[], list[T]] | None = build
        self._items: list[T] | None = None
        self._lock = Lock()

    def _list(self) -> list[T]:
        if self._items is None:
            with self._lock:
                if self._items is None:
                    assert self._build is not None
                    items = self._build()
                    if len(items) != self._length:
                        raise RuntimeError(f"built {len(items)} items, expected {self._length}")
                    self._items, self._build = items, None
        return self._items

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        return self._list()[index]

    def __iter__(self) -> Iterator[T]:
        return iter(self._list())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(other) == self._length and self._list() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        state = "built" if self._items is not None else "not built yet"
        return f"LazySequence({self._length} items, {state})"
