"""The equity curve, derived from fills alone so every fill engine gets the same one.

The bot starts with ``budget`` in quote. A buy fill costs ``quote_amount + fee``, a sell
brings ``quote_amount - fee``, and base is held in between, so at the close of candle i

    equity_i = cash_i + base_held_i x close_i
             = budget + realized PnL + (base held x close - cost of the open deals)

(the two lines are the same sum: a closed deal's cash flows are its realized PnL). The
fee a still-open deal would pay to exit is not subtracted. ``cash`` and ``base`` change
only on candles with fills, so they are kept exactly (integer units, ``units``)
per such candle and spread over the candles by index: the float curve for charts and
ratios is vectorised, and the exact value of any candle is one Decimal multiplication
away.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, getcontext
from typing import Any

import numpy as np
import numpy.typing as npt

from tradefleet.backtest.columns import FillColumns
from tradefleet.backtest.equity_text import fast_texts
from tradefleet.backtest.units import PLACES, UnitArray, floats, from_units, to_units
from tradefleet.domain import BoolArray, FloatArray, IntArray
from tradefleet.money import AMOUNT_QUANTUM, ZERO, canonical, quantize_amount, to_decimal

AMOUNT_PRECISION = 60  # digits: what quantize_amount works with


@dataclass(frozen=True, slots=True)
class Holdings:
    """Exact cash and base after the fills of each candle that had any, in units."""

    budget: Decimal
    fill_candles: IntArray  # ascending indices of the candles with fills
    cash: UnitArray  # units, after that candle's fills
    base: UnitArray  # units
    scale: int = PLACES  # a unit is 10**-scale

    def spread(self, initial: Any, values: npt.NDArray[Any], count: int) -> npt.NDArray[Any]:
        """Per candle, the value in force at its close: ``initial`` before the first fill,
        then ``values[j]`` from the ``j``-th candle with fills on."""
        edges = np.concatenate(([0], self.fill_candles[self.fill_candles < count], [count]))
        runs = np.diff(edges)
        return np.repeat(np.concatenate(([initial], values[: runs.shape[0] - 1])), runs)

    def at(self, index: int) -> tuple[Decimal, Decimal]:
        """(cash, base) at the close of candle ``index``."""
        j = int(np.searchsorted(self.fill_candles, index, side="right")) - 1
        return (self.budget, ZERO) if j < 0 else self.balance(j)

    def balance(self, j: int) -> tuple[Decimal, Decimal]:
        """(cash, base) after the fills of the ``j``-th candle with fills."""
        return from_units(self.cash[j], self.scale), from_units(self.base[j], self.scale)


def holdings(fills: FillColumns, times: IntArray, budget: Decimal) -> Holdings:
    """Cash and base after every candle with fills; a fill must fall on one of ``times``."""
    fill_times = fills.time
    found = np.searchsorted(times, fill_times)
    on_candle = found < len(times)
    on_candle[on_candle] = times[found[on_candle]] == fill_times[on_candle]
    if not on_candle.all():
        k = int(np.flatnonzero(~on_candle)[0])
        raise ValueError(f"fill {k} at {int(fill_times[k])} is on no traded candle")
    if np.any(np.diff(found) < 0):
        k = int(np.flatnonzero(np.diff(found) < 0)[0]) + 1
        raise ValueError(f"fill {k} at {int(fill_times[k])} is out of time order")
    # The last fill of each candle gives the holdings at its close.
    last = np.flatnonzero(np.append(np.diff(found) != 0, True)) if len(fills) else found
    # A buy costs its quote and fee and brings base; a sell the reverse.
    spent = np.where(fills.buy, -(fills.quote + fills.fee), fills.quote - fills.fee)
    moved = np.where(fills.buy, fills.base, -fills.base)
    cash: UnitArray = np.cumsum(spent) + to_units(budget, fills.scale)
    base: UnitArray = np.cumsum(moved)
    return Holdings(
        budget, np.asarray(found[last], dtype=np.int64), cash[last], base[last], fills.scale
    )


def equity_curve(held: Holdings, closes: FloatArray) -> FloatArray:
    """Equity at each candle's close, as floats (charts, drawdown, Sharpe).

    Python's int division rounds correctly, as ``float(Decimal)`` does.
    """
    count = len(closes)
    cash = held.spread(float(held.budget), floats(held.cash, held.scale), count)
    base = held.spread(0.0, floats(held.base, held.scale), count)
    curve: FloatArray = cash + base * closes
    return curve


def holding_mask(held: Holdings, count: int) -> BoolArray:
    """True for the candles at whose close the bot holds base (a deal is exposed)."""
    mask: BoolArray = held.spread(False, (held.base > 0).astype(np.bool_), count)
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
    one-minute candles must not cost seconds: the integer columns give it (``equity_text``)
    where their sums are exact, else each distinct close of a segment is worked out once
    and the 18-place result is trimmed as text.
    """
    fast = fast_texts(held, closes)
    return _decimal_texts(held, closes) if fast is None else fast


def _decimal_texts(held: Holdings, closes: FloatArray) -> list[str]:
    """``exact_texts`` with Decimals: the reference, and the way where integers are not
    known to give the same numbers."""
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
    """Plain notation, trailing zeros stripped: Decimal("1E-8") -> "0.00000001".

    ``format(canonical(value), "f")``, without ``canonical``'s context and ``normalize``:
    reports write tens of thousands of amounts.
    """
    if not value:
        return "0"
    if not value.is_finite():
        return format(canonical(value), "f")
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _segments(held: Holdings, count: int) -> list[tuple[int, int, Decimal, Decimal]]:
    """(first candle, end, cash, base) for each run of candles between fills."""
    edges = [0, *(i for i in held.fill_candles.tolist() if i < count), count]
    return [
        (start, stop, *((held.budget, ZERO) if k == 0 else held.balance(k - 1)))
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
