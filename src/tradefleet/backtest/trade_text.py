"""The report's trades as JSON text, written from the exact fill columns.

``report.trade_json`` of each ``Fill`` needs the objects, which a kernel run builds only
when read: tens of thousands of Decimals for a year of one-minute candles. Every amount
of a fill is an integer count of units in the columns (``units``), the price too where
the engine gave it, and the plain text of ``units x 10**-scale`` is the text
``report.decimal_text`` gives the Decimal, so the list can be written straight from
them (``fixed_text``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from tradefleet.backtest.columns import FillColumns
from tradefleet.backtest.fixed_text import Constant, Either, Field, FixedPoint, Integers, render
from tradefleet.backtest.units import PLACES, UnitArray
from tradefleet.domain import IntArray

BLOCK = 32768  # fills written at once
_INT64_END = 2**63


def trades_json(columns: FillColumns) -> str | None:
    """``json.dumps([trade_json(fill) for fill in fills])``, or None where the columns lack
    the price or hold a negative time or amount (or an integer part beyond int64)."""
    price = columns.price
    if price is None or columns.scale > PLACES or int(columns.time.min(initial=0)) < 0:
        return None
    unit = 10**columns.scale
    amounts = [_parts(values, unit) for values in (price, columns.base, columns.quote, columns.fee)]
    known = [parts for parts in amounts if parts is not None]
    if len(known) < len(amounts):
        return None
    return "[" + ", ".join(_pieces(columns, known)) + "]"


def _parts(values: UnitArray, unit: int) -> tuple[IntArray, IntArray] | None:
    """(integer part, fraction) of non-negative units as int64 columns, or None. Units
    beyond int64 (Python ints: one per fill, not per candle) are split first."""
    if values.size and int(values.min()) < 0:
        return None
    integer = values // unit
    fraction = values - integer * unit  # below unit <= 10**18: fits int64
    if values.dtype != np.int64 and integer.size and int(integer.max()) >= _INT64_END:
        return None
    return integer.astype(np.int64), fraction.astype(np.int64)


def _pieces(columns: FillColumns, amounts: list[tuple[IntArray, IntArray]]) -> Iterator[str]:
    names = ("price", "base_amount", "quote_amount", "fee")
    for first in range(0, len(columns), BLOCK):
        part = slice(first, first + BLOCK)
        fields: list[Field] = [
            Constant('{"time": '),
            Integers(columns.time[part]),
            Constant(', "side": "'),
            Either("buy", "sell", columns.buy[part]),
        ]
        for name, (integer, fraction) in zip(names, amounts, strict=True):
            fields += [
                Constant(f'", "{name}": "'),
                FixedPoint(integer[part], fraction[part], columns.scale),
            ]
        fields.append(Constant('"}, '))
        yield render(fields, columns.time[part].shape[0])[:-2].decode("ascii")
