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

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, getcontext

import numpy as np

from tradefleet.domain import BoolArray, Fill, FloatArray, IntArray, Side
from tradefleet.money import AMOUNT_QUANTUM, ZERO, canonical, quantize_amount, to_decimal

AMOUNT_PRECISION = 60  # digits: what quantize_amount works with


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
    values: list[Decimal] = []
    for start, stop, cash, base in _segments(held, len(times)):
        if not base:
            values.extend([cash] * (stop - start))
            continue
        values.extend(_exact_values(cash, base, closes[start:stop].tolist()))
    return list(zip(times.tolist(), values, strict=True))


def exact_texts(held: Holdings, closes: FloatArray) -> list[str]:
    """Each candle's exact equity in plain notation, trailing zeros stripped (``"1000.5"``).

    The same text as formatting ``exact_curve``'s values with ``canonical``, but a year of
    one-minute candles must not cost seconds: each distinct close of a segment is worked
    out once, and the 18-place result is trimmed as text.
    """
    texts: list[str] = []
    for start, stop, cash, base in _segments(held, len(closes)):
        if not base:
            texts.extend([plain_text(cash)] * (stop - start))
            continue
        segment = closes[start:stop].tolist()
        distinct = list(dict.fromkeys(segment))
        texts_of = map(_quantized_text, _exact_values(cash, base, distinct))
        known = dict(zip(distinct, texts_of, strict=True))
        texts.extend(map(known.__getitem__, segment))
    return texts


def plain_text(value: Decimal) -> str:
    """Plain notation, trailing zeros stripped: Decimal("1E-8") -> "0.00000001"."""
    return format(canonical(value), "f")


def _segments(held: Holdings, count: int) -> list[tuple[int, int, Decimal, Decimal]]:
    """(first candle, end, cash, base) for each run of candles between fills."""
    edges = [0, *(i for i in held.fill_candles.tolist() if i < count), count]
    balances = [(held.budget, ZERO), *zip(held.cash, held.base, strict=True)]
    return [
        (start, stop, *balances[k])
        for k, (start, stop) in enumerate(itertools.pairwise(edges))
        if start < stop
    ]


def _exact_values(cash: Decimal, base: Decimal, closes: list[float]) -> list[Decimal]:
    """``quantize_amount(cash + base x close)`` for each close, with one context for all.

    The sum is taken in the caller's context, as ``exact_equity`` does; only the
    quantizing needs the wide one.
    """
    wide = getcontext().copy()
    wide.prec = AMOUNT_PRECISION
    return [
        (cash + base * Decimal(repr(close))).quantize(
            AMOUNT_QUANTUM, rounding=ROUND_HALF_UP, context=wide
        )
        for close in closes
    ]


def _quantized_text(value: Decimal) -> str:
    """``plain_text`` of an 18-place value: its fixed-point text without trailing zeros."""
    if not value or not value.is_finite():
        return plain_text(value)
    return format(value, "f").rstrip("0").rstrip(".")
