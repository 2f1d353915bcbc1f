"""The exact deal book of a signal run without a safety ladder, straight from its fills.

``kernel_replay`` rebuilds deals and the peak of committed quote by running the
reference's managers on every candle that can change the book; that costs tens of
microseconds per fill. When a run has no limit buys (no safety orders) and no market buy
can be refused, the fills alone fix the book, so this module derives it in one pass:

- a deal's summary is the reference's ``book.record_buy`` / ``book.close`` arithmetic
  over its fills, in fill order (the same Decimal operations in the same order);
- a market buy placed at the close of candle p fills on candle p + 1 (it cannot be
  refused), so p placed a buy exactly when p + 1 has a BASE or ADD fill. Between two
  buys committed quote can only fall, so its peak is the largest total at those closes:
  what the open deals spent (gross + fees) after the fills up to p, plus the placed
  order's quote (``book.reserved``), summed deal by deal as ``book.total_committed`` does.

Anything outside those conditions, or any disagreement with the kernel's own deal records
and float peak, returns ``None`` and the caller replays instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from tradefleet.backtest.engines import DealSummary
from tradefleet.backtest.kernel import CLOSE_REASONS, PURPOSES
from tradefleet.backtest.kernel.result import quantize_18
from tradefleet.backtest.kernel_replay import PEAK_TOLERANCE, ExactBook, ReplayInput, refusable
from tradefleet.deals.settings import DealSettings
from tradefleet.deals.state import CLOSED, OPEN
from tradefleet.domain import CloseReason, Fill, OrderPurpose
from tradefleet.money import ZERO, round_down

_SELL_REASONS = {
    OrderPurpose.TAKE_PROFIT: (CloseReason.TAKE_PROFIT,),
    OrderPurpose.STOP: (CloseReason.STOP_LOSS, CloseReason.TRAILING),
    OrderPurpose.EXIT: (CloseReason.SIGNAL,),
}


class _UnderivableError(Exception):
    """The fills do not form a book this module can derive."""


@dataclass(slots=True)
class _Deal:
    """The ``DealState`` fields a summary reports, kept as ``book`` keeps them."""

    seq: int
    opened_at: int
    base_amount: Decimal = ZERO
    bought_base: Decimal = ZERO
    bought_quote: Decimal = ZERO
    buy_fees: Decimal = ZERO
    sold_base: Decimal = ZERO
    sold_quote: Decimal = ZERO
    sell_fees: Decimal = ZERO
    average_entry_price: Decimal | None = None
    adds_filled: int = 0
    closed_at: int | None = None
    close_reason: CloseReason | None = None
    realized_pnl: Decimal | None = None

    def buy(self, fill: Fill) -> None:
        """``book.record_buy``."""
        self.base_amount += fill.base_amount
        self.bought_base += fill.base_amount
        self.bought_quote += fill.quote_amount
        self.buy_fees += fill.fee
        self.average_entry_price = quantize_18(self.bought_quote / self.bought_base)

    def sell(self, fill: Fill, reason: CloseReason) -> None:
        """``book.close``."""
        if fill.base_amount > self.base_amount:
            raise _UnderivableError(f"deal {self.seq} sells more than it holds")
        self.base_amount -= fill.base_amount
        self.sold_base += fill.base_amount
        self.sold_quote += fill.quote_amount
        self.sell_fees += fill.fee
        self.realized_pnl = self.sold_quote - self.sell_fees - (self.bought_quote + self.buy_fees)
        self.closed_at = fill.time
        self.close_reason = reason

    def summary(self) -> DealSummary:
        return DealSummary(
            seq=self.seq,
            status=OPEN if self.closed_at is None else CLOSED,
            opened_at=self.opened_at,
            closed_at=self.closed_at,
            close_reason=None if self.close_reason is None else self.close_reason.value,
            base_amount=self.base_amount,
            bought_base=self.bought_base,
            bought_quote=self.bought_quote,
            buy_fees=self.buy_fees,
            sold_base=self.sold_base,
            sold_quote=self.sold_quote,
            sell_fees=self.sell_fees,
            average_entry_price=self.average_entry_price,
            safety_orders_filled=0,
            adds_filled=self.adds_filled,
            realized_pnl=self.realized_pnl,
        )


def ledger_book(data: ReplayInput) -> ExactBook | None:
    """The exact book of ``data`` from its fills, or ``None`` where only a replay knows it."""
    settings = data.settings
    if not isinstance(settings, DealSettings) or settings.safety_order_count > 0:
        return None
    if len(data.candles) == 0 or data.buy[-1]:
        return None  # a buy placed on the last candle stays working: replay it
    times = data.candles.time
    fill_candle = np.searchsorted(times, data.kernel.fills.time)
    if len(fill_candle) != len(data.fills) or np.any(fill_candle < 1):
        return None
    if not np.array_equal(times[np.minimum(fill_candle, len(times) - 1)], data.kernel.fills.time):
        return None
    if np.any(np.asarray(data.buy, dtype=np.bool_) & refusable(data, settings)):
        return None
    try:
        closed, still_open, peak = _walk(data, settings, fill_candle.tolist())
        _check(closed + still_open, data)
    except _UnderivableError:
        return None
    if not math.isclose(float(peak), data.kernel.max_committed_quote, rel_tol=PEAK_TOLERANCE):
        return None
    return ExactBook([deal.summary() for deal in closed + still_open], peak)


def _walk(
    data: ReplayInput, settings: DealSettings, fill_candle: list[int]
) -> tuple[list[_Deal], list[_Deal], Decimal]:
    """The fills in order: closed deals in closing order, open ones, the peak committed."""
    increment = data.product.quote_increment
    quotes = {
        OrderPurpose.BASE: round_down(settings.base_order_quote, increment),
        OrderPurpose.ADD: round_down(settings.add_order_quote, increment),
    }
    kernel = data.kernel
    reasons = {
        int(seq): CLOSE_REASONS[int(code)]
        for seq, code in zip(kernel.deals.seq, kernel.deals.close_reason, strict=True)
        if code >= 0
    }
    purposes = [PURPOSES[code] for code in kernel.fills.purpose.tolist()]
    seqs = kernel.fills.deal_seq.tolist()
    deals: dict[int, _Deal] = {}  # open, in opening order
    closed: list[_Deal] = []
    gone: set[int] = set()
    peak, placed_for = ZERO, -1
    for k, fill in enumerate(data.fills):
        purpose, seq = purposes[k], seqs[k]
        if purpose in quotes:
            if fill_candle[k] == placed_for:
                raise _UnderivableError("two market buys placed on one candle")
            placed_for = fill_candle[k]
            peak = max(peak, _committed(deals, seq, quotes[purpose]))
        if purpose is OrderPurpose.BASE:
            if seq in deals or seq in gone:
                raise _UnderivableError(f"deal {seq} opens twice")
            deals[seq] = _Deal(seq, fill.time)
            deals[seq].buy(fill)
        elif purpose is OrderPurpose.ADD:
            _open_deal(deals, seq).buy(fill)
            deals[seq].adds_filled += 1
        elif purpose in _SELL_REASONS:
            reason = reasons.get(seq)
            if reason not in _SELL_REASONS[purpose]:
                raise _UnderivableError(f"deal {seq} closes on a {purpose} as {reason}")
            deal = _open_deal(deals, seq)
            deal.sell(fill, reason)
            closed.append(deals.pop(seq))
            gone.add(seq)
        else:
            raise _UnderivableError(f"a {purpose} fill in a run without limit buys")
    return closed, list(deals.values()), peak


def _open_deal(deals: dict[int, _Deal], seq: int) -> _Deal:
    deal = deals.get(seq)
    if deal is None:
        raise _UnderivableError(f"a fill of deal {seq}, which is not open")
    return deal


def _committed(deals: dict[int, _Deal], seq: int, quote: Decimal) -> Decimal:
    """``book.total_committed`` right after a market buy of ``quote`` for deal ``seq``
    was placed: every open deal's spend, the buying deal's plus its reservation."""
    total = ZERO
    for deal in deals.values():
        pending = ZERO + quote if deal.seq == seq else ZERO
        total += deal.bought_quote + deal.buy_fees + pending
    if seq not in deals:  # a new deal: nothing spent yet
        total += ZERO + ZERO + (ZERO + quote)
    return total


def _check(deals: list[_Deal], data: ReplayInput) -> None:
    """The kernel's deal records agree with the derived deals, field by field."""
    records = data.kernel.deals
    increment = data.product.base_increment
    by_seq = {deal.seq: deal for deal in deals}
    if sorted(by_seq) != sorted(records.seq.tolist()):
        raise _UnderivableError("the kernel and the fills have different deals")
    for row, seq in enumerate(records.seq.tolist()):
        deal = by_seq[seq]
        expected = (
            None if records.closed_at[row] < 0 else int(records.closed_at[row]),
            int(records.safety_orders[row]),
            int(records.adds[row]),
            int(records.bought_lots[row]),
        )
        got = (deal.closed_at, 0, deal.adds_filled, int(deal.bought_base / increment))
        if got != expected:
            raise _UnderivableError(f"deal {seq}: kernel {expected}, fills {got}")
