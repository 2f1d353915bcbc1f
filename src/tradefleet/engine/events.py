"""What one bot step changed: the engine's unit of persistence.

A step (one closed candle for one bot) collects its orders, cancellations, fills and
rejections here; ``store.persist_step`` writes them in one transaction together with the
deals and balances, so a crash either keeps the whole step or none of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tradefleet.brokers.fill_model import WorkingOrder
from tradefleet.domain import Fill, PlaceOrder, Signal


@dataclass(slots=True)
class Rejection:
    intent: PlaceOrder
    reason: str
    active_from: int


@dataclass(slots=True)
class StepEvents:
    placed: list[WorkingOrder] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)  # client order ids
    fills: list[tuple[WorkingOrder, Fill]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    touched_deals: set[int] = field(default_factory=set)  # deal seqs to write back
    notes: list[str] = field(default_factory=list)  # the deal manager's, for the user
    signal: Signal | None = None
    candle_time: int | None = None

    @property
    def changed_orders(self) -> bool:
        return bool(self.placed or self.cancelled or self.fills or self.rejected)
