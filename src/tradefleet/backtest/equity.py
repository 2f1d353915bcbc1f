"""The equity curve, derived from fills alone so every fill engine gets the same one.

The bot starts with ``budget`` in quote. A buy fill costs ``quote_amount + fee``, a sell
brings ``quote_amount - fee``, and base is held in between, so at the close of candle i

    equity_i = cash_i + base_held_i x close_i
             = budget + realized PnL + (base held x close - cost of the open deals)

(the two lines are the same sum: a closed deal's cash flows are its realized PnL). The
fee a still-open deal would pay to exit is not subtracted. ``cash`` and ``base`` change
only on candles with fills, so they are kept exactly (Decimal) per such candle and
spread over the candles by index: the float curve for charts and ratios is vectorised,
and the exact value of any candle is one Decimal multiplication away.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from tradefleet.domain import BoolArray, Fill, FloatArray, IntArray, Side
from tradefleet.money import ZERO, quantize_amount, to_decimal


@dataclass(frozen=True, slots=True)
class Holdings:
    """Exact cash and base after the fills of each candle that had any."""

    budget: Decimal
    fill_candles: IntArray  # ascending indices of the candles with fills
    cash: list[Decimal]  # after that candle's fills
    base: list[Decimal]

    def segment(self, count: int) -> IntArray:
        """Per candle, the index into ``cash``/``base`` in force at its close (-1: none yet)."""
        # ``fill_candles`` ascend without repeats: count them up to each candle.
        starts = np.zeros(count, dtype=np.int64)
        starts[self.fill_candles[self.fill_candles < count]] = 1
        return np.cumsum(starts) - 1

    def at(self, index: int) -> tuple[Decimal, Decimal]:
        """(cash, base) at the close of candle ``index``."""
        j = int(np.searchsorted(self.fill_candles, index, side="right")) - 1
        return (self.budget, ZERO) if j < 0 else (self.cash[j], self.base[j])


def holdings(fills: Sequence[Fill], times: IntArray, budget: Decimal) -> Holdings:
    """Cash and base after every candle with fills; a fill must fall on one of ``times``."""
    fill_times = np.fromiter((fill.time for fill in fills), dtype=np.int64, count=len(fills))
    found = np.searchsorted(times, fill_times)
    on_candle = found < len(times)
    on_candle[on_candle] = times[found[on_candle]] == fill_times[on_candle]
    if not on_candle.all():
        fill = fills[int(np.flatnonzero(~on_candle)[0])]
        raise ValueError(f"fill {fill.client_order_id} at {fill.time} is on no traded candle")
    if np.any(np.diff(found) < 0):
        fill = fills[int(np.flatnonzero(np.diff(found) < 0)[0]) + 1]
        raise ValueError(f"fill {fill.client_order_id} is out of time order")
    # The last fill of each candle gives the holdings at its close.
    last = np.flatnonzero(np.append(np.diff(found) != 0, True)) if len(fills) else found
    cash, base = budget, ZERO
    balances: list[tuple[Decimal, Decimal]] = []
    for fill in fills:
        if fill.side is Side.BUY:
            cash -= fill.quote_amount + fill.fee
            base += fill.base_amount
        else:
            cash += fill.quote_amount - fill.fee
            base -= fill.base_amount
        balances.append((cash, base))
    ends = last.tolist()
    return Holdings(
        budget,
        np.asarray(found[last], dtype=np.int64),
        [balances[k][0] for k in ends],
        [balances[k][1] for k in ends],
    )


def equity_curve(held: Holdings, closes: FloatArray) -> FloatArray:
    """Equity at each candle's close, as floats (charts, drawdown, Sharpe)."""
    segment = held.segment(len(closes))
    cash = np.array([float(held.budget), *map(float, held.cash)], dtype=np.float64)
    base = np.array([0.0, *map(float, held.base)], dtype=np.float64)
    curve: FloatArray = cash[segment + 1] + base[segment + 1] * closes
    return curve


def holding_mask(held: Holdings, count: int) -> BoolArray:
    """True for the candles at whose close the bot holds base (a deal is exposed)."""
    positive = np.array([False, *(amount > 0 for amount in held.base)], dtype=np.bool_)
    mask: BoolArray = positive[held.segment(count) + 1]
    return mask


def exact_equity(held: Holdings, index: int, close: float) -> Decimal:
    """Equity at the close of candle ``index`` exactly, to 18 places."""
    cash, base = held.at(index)
    if not base:
        return cash
    return quantize_amount(cash + base * to_decimal(close))


def exact_curve(held: Holdings, times: IntArray, closes: FloatArray) -> list[tuple[int, Decimal]]:
    """``[(candle open time, exact equity at its close)]`` for every candle."""
    segment = held.segment(len(times))
    points: list[tuple[int, Decimal]] = []
    for index, j in enumerate(segment.tolist()):
        cash, base = (held.budget, ZERO) if j < 0 else (held.cash[j], held.base[j])
        value = quantize_amount(cash + base * to_decimal(float(closes[index]))) if base else cash
        points.append((int(times[index]), value))
    return points
