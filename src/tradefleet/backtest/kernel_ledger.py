"""The exact deal book of a signal run, from its fill columns.

``kernel_replay`` rebuilds the deals by running the reference's managers on every
candle that can change the book; that costs tens of microseconds per fill. When no
market buy can be refused (a refused base order drops its deal, which no fill shows)
and no buy is left working after the last candle (an empty open deal), the fills alone
fix the book, so this module derives it from the exact fill columns
(``kernel_columns``) in a few vectorised passes: a deal's summary is the reference's
``book.record_buy`` / ``book.close`` arithmetic over its fills — sums of exact amounts
(integer units), one base fill first, then safety fills and adds, and at most one
closing sell last — checked field by field against the kernel's own deal records.

The ``DealSummary`` objects, with the Decimals the reference's arithmetic gives (the same
values and exponents), are built only when read (``Ledger.summaries``). Anything outside
those conditions, or any disagreement with the kernel's deal records, returns ``None``
and the caller replays instead.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from decimal import Decimal

import numpy as np

from tradefleet.backtest.columns import DealColumns, FillColumns
from tradefleet.backtest.engines import DealSummary
from tradefleet.backtest.kernel import CLOSE_REASONS, PURPOSES, KernelResult
from tradefleet.backtest.kernel.result import quantize_18
from tradefleet.backtest.kernel_replay import refusable
from tradefleet.backtest.units import (
    PLACES,
    UnitArray,
    fits_context,
    from_units,
    largest,
    places_of,
    to_units,
)
from tradefleet.deals.settings import DealSettings, GridSettings
from tradefleet.deals.state import CLOSED, OPEN
from tradefleet.domain import (
    BoolArray,
    CandleArrays,
    CloseReason,
    FeeSchedule,
    IntArray,
    ProductSpec,
)
from tradefleet.domain import OrderPurpose as P
from tradefleet.money import FEE_QUANTUM, ZERO

_CODE = {purpose: code for code, purpose in enumerate(PURPOSES)}
_REASON = {reason: code for code, reason in enumerate(CLOSE_REASONS)}
_BASE, _ADD, _SAFETY = _CODE[P.BASE], _CODE[P.ADD], _CODE[P.SAFETY]
_SELL_REASONS = {  # a closing fill's purpose -> the close reasons it can carry
    _CODE[P.TAKE_PROFIT]: (_REASON[CloseReason.TAKE_PROFIT],),
    _CODE[P.STOP]: (_REASON[CloseReason.STOP_LOSS], _REASON[CloseReason.TRAILING]),
    _CODE[P.EXIT]: (_REASON[CloseReason.SIGNAL],),
}
_FEE_PLACES = places_of(FEE_QUANTUM)


@dataclass(frozen=True, slots=True)
class LedgerInput:
    """One kernel run over the traded candles and its exact fill columns."""

    settings: DealSettings | GridSettings
    candles: CandleArrays  # the traded candles
    buy: BoolArray
    product: ProductSpec
    fees: FeeSchedule
    kernel: KernelResult
    fills: FillColumns  # ``kernel_columns.fill_columns`` of the kernel's


@dataclass(frozen=True, slots=True)
class _Deals:
    """Per deal, in summary order (closed in closing order, then open by opening)."""

    seq: IntArray
    closed: BoolArray
    opened_at: IntArray
    closed_at: IntArray  # -1 while open
    closing: IntArray  # the closing fill's purpose (index into PURPOSES), -1 while open
    reason: IntArray  # index into CLOSE_REASONS (the kernel's record), -1 while open
    adds: IntArray
    safety: IntArray  # safety orders filled
    bought_base: UnitArray  # units
    bought_quote: UnitArray
    buy_fees: UnitArray
    sold_base: UnitArray
    sold_quote: UnitArray
    sell_fees: UnitArray

    def realized(self) -> UnitArray:
        pnl: UnitArray = self.sold_quote - self.sell_fees - (self.bought_quote + self.buy_fees)
        out: UnitArray = np.where(self.closed, pnl, 0).astype(pnl.dtype)
        return out


@dataclass(frozen=True, slots=True)
class Ledger:
    columns: DealColumns
    deals: _Deals
    base_places: int  # decimal places of the base increment
    scale: int  # the units' (``FillColumns.scale``)

    def __len__(self) -> int:
        return len(self.columns)

    def summaries(self) -> list[DealSummary]:
        """The deals as ``book`` records them: each Decimal with the exponent its sums get
        (a sum starts at ``ZERO``; bases have the increment's places, fees 12, quotes 18)."""
        d, places = self.deals, self.base_places

        def amount(units: int, written_with: int = PLACES) -> Decimal:
            return from_units(units, self.scale, written_with)

        realized = d.realized().tolist()
        out: list[DealSummary] = []
        for k, (seq, closed, opened_at, closed_at, reason, adds, safety) in enumerate(
            zip(
                d.seq.tolist(), d.closed.tolist(), d.opened_at.tolist(), d.closed_at.tolist(),
                d.reason.tolist(), d.adds.tolist(), d.safety.tolist(), strict=True,
            )
        ):  # fmt: skip
            bought_base = amount(d.bought_base[k], places)
            bought_quote = amount(d.bought_quote[k])
            sold = (
                (amount(d.sold_base[k], places), amount(d.sold_quote[k]),
                 amount(d.sell_fees[k], _FEE_PLACES))
                if closed else (ZERO, ZERO, ZERO)
            )  # fmt: skip
            out.append(
                DealSummary(
                    seq=seq,
                    status=CLOSED if closed else OPEN,
                    opened_at=opened_at,
                    closed_at=closed_at if closed else None,
                    close_reason=CLOSE_REASONS[reason].value if closed else None,
                    base_amount=amount(d.bought_base[k] - d.sold_base[k], places),
                    bought_base=bought_base,
                    bought_quote=bought_quote,
                    buy_fees=amount(d.buy_fees[k], _FEE_PLACES),
                    sold_base=sold[0],
                    sold_quote=sold[1],
                    sell_fees=sold[2],
                    average_entry_price=quantize_18(bought_quote / bought_base),
                    safety_orders_filled=safety,
                    adds_filled=adds,
                    realized_pnl=amount(realized[k]) if closed else None,
                )
            )
        return out


def ledger(data: LedgerInput) -> Ledger | None:
    """The exact book of ``data`` from its fills, or ``None`` where only a replay knows it."""
    settings = data.settings
    if not isinstance(settings, DealSettings):
        return None
    if len(data.candles) == 0 or data.buy[-1]:
        return None  # a buy placed on the last candle stays working: replay it
    kernel, fills = data.kernel, data.fills
    times = data.candles.time
    fill_candle = np.searchsorted(times, fills.time)
    if len(fills) != len(kernel.fills) or np.any(fill_candle < 1):
        return None
    if not np.array_equal(times[np.minimum(fill_candle, len(times) - 1)], fills.time):
        return None
    buying = np.flatnonzero(data.buy)
    if np.any(refusable(data.candles, data.product, data.fees, settings, at=buying)):
        return None
    purpose = kernel.fills.purpose
    if not np.all(np.isin(purpose, [_BASE, _ADD, _SAFETY, *_SELL_REASONS])):
        return None  # a grid order
    buys = np.isin(purpose, [_BASE, _ADD, _SAFETY])
    grouped = _deals(data, buys)
    reasons = None if grouped is None else _close_reasons(grouped, data)
    if grouped is None or reasons is None:
        return None
    deals = replace(grouped, reason=reasons)
    columns = DealColumns(
        closed=deals.closed,
        opened_at=deals.opened_at,
        closed_at=deals.closed_at,
        realized=deals.realized(),
        holds=(deals.bought_base > 0).astype(np.bool_),
        safety_orders=deals.safety,
        scale=fills.scale,
    )
    return Ledger(columns, deals, places_of(data.product.base_increment), fills.scale)


def _deals(data: LedgerInput, buys: BoolArray) -> _Deals | None:
    """Group the fills by deal: one BASE first, SAFETYs and ADDs, at most one closing
    sell last."""
    kernel, fills = data.kernel, data.fills
    seq, purpose = kernel.fills.deal_seq, kernel.fills.purpose
    count = len(seq)
    if count == 0:
        none, nothing = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=fills.quote.dtype)
        return _Deals(none, np.zeros(0, dtype=np.bool_), *[none] * 6, *[nothing] * 6)
    order = np.argsort(seq, kind="stable")  # by deal, in fill order within a deal
    starts = np.flatnonzero(np.concatenate(([True], np.diff(seq[order]) != 0)))
    ends = np.append(starts[1:], count) - 1
    first = np.zeros(count, dtype=np.bool_)
    first[starts] = True
    last = np.zeros(count, dtype=np.bool_)
    last[ends] = True
    sorted_purpose = purpose[order]
    sells = ~buys[order]
    if not np.array_equal(sorted_purpose == _BASE, first) or np.any(sells & ~last):
        return None
    closed = sells[ends]

    def per_deal(values: UnitArray, mask: BoolArray) -> UnitArray:
        chosen = np.where(mask, values, 0).astype(values.dtype)[order]
        out: UnitArray = np.add.reduceat(chosen, starts)
        return out

    sorted_time = fills.time[order]
    grouped = _Deals(
        seq=seq[order][starts],
        closed=closed,
        opened_at=sorted_time[starts],
        closed_at=np.where(closed, sorted_time[ends], -1),
        closing=np.where(closed, sorted_purpose[ends], -1),
        reason=np.full(len(starts), -1, dtype=np.int64),  # read from the records later
        adds=np.add.reduceat((sorted_purpose == _ADD).astype(np.int64), starts),
        safety=np.add.reduceat((sorted_purpose == _SAFETY).astype(np.int64), starts),
        bought_base=per_deal(fills.base, buys),
        bought_quote=per_deal(fills.quote, buys),
        buy_fees=per_deal(fills.fee, buys),
        sold_base=per_deal(fills.base, ~buys),
        sold_quote=per_deal(fills.quote, ~buys),
        sell_fees=per_deal(fills.fee, ~buys),
    )
    if np.any((grouped.sold_base > grouped.bought_base).astype(np.bool_)):
        return None  # a deal sells more than it holds
    return _in_summary_order(grouped, order, ends)


def _in_summary_order(deals: _Deals, order: IntArray, ends: IntArray) -> _Deals:
    """Closed deals by the position of their closing fill, then open ones by their base
    fill (``order[start]`` is a deal's first fill, ``order[end]`` its last)."""
    starts = np.concatenate(([0], ends[:-1] + 1))
    key = np.where(deals.closed, order[ends], order[starts] + len(order))
    pick = np.argsort(key, kind="stable")
    return _Deals(*(getattr(deals, field.name)[pick] for field in fields(_Deals)))


def _close_reasons(deals: _Deals, data: LedgerInput) -> IntArray | None:
    """The close reason of each deal from the kernel's deal records, if those agree with
    the deals the fills make, field by field (each closing fill's purpose must allow the
    record's reason); else None."""
    records = data.kernel.deals
    if not np.array_equal(np.sort(records.seq), np.sort(deals.seq)):
        return None
    row = np.argsort(records.seq)[np.searchsorted(np.sort(records.seq), deals.seq)]
    increment = to_units(data.product.base_increment, data.fills.scale)
    # As Python ints: a count beyond int64 is a disagreement, not an error.
    bought_lots = (deals.bought_base // increment).tolist()
    if not (
        np.array_equal(records.closed_at[row], deals.closed_at)
        and np.array_equal(records.safety_orders[row], deals.safety)
        and np.array_equal(records.adds[row], deals.adds)
        and records.bought_lots[row].tolist() == bought_lots
    ):
        return None
    reasons = records.close_reason[row]
    for sell_purpose, allowed in _SELL_REASONS.items():
        selling = deals.closing == sell_purpose
        if not np.all(np.isin(reasons[selling], allowed)):
            return None
    # The reference sums 18-place Decimals: their coefficients must fit the context.
    amounts = (deals.bought_quote, deals.sold_quote, deals.realized())
    if not fits_context(*(largest(a) * 10 ** (PLACES - data.fills.scale) for a in amounts)):
        return None
    out: IntArray = np.where(deals.closed, reasons, -1)
    return out
