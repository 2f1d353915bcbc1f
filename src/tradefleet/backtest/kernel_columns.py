"""The kernel's fills as exact columns, vectorised: ``to_fills`` without the objects.

``kernel.to_fills`` applies ``fill_model``'s Decimal rules fill by fill. The same rules
over whole integer columns (``units``) give the same amounts:

- base = lots x base increment; price = ticks x price increment for an order's own
  price, else the candle's open as ``Decimal(repr(open))`` (``units.float_decimals``);
- quote = ``quantize_18(price x base)``: exact here, as the chosen scale holds every
  place of the product; fee = ``fee_for(quote, rate)``: quote x rate rounded half up to
  1e-12.

The scale is the fewest places that hold the quotes, the fees (12) and the budget;
a run needing more than 18 (a quote that ``quantize_18`` would round) returns ``None``.
Each Decimal product is taken in the decimal context, which rounds a product with more
digits than its precision (28) before it is quantized, where integers would not: where
any coefficient could exceed the precision (never for realistic amounts) this returns
``None`` too, and the caller takes the Decimal path; so does slippage, whose slipped
price is such a rounded product.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from tradefleet.backtest.columns import FillColumns
from tradefleet.backtest.kernel.result import PURPOSES, SIDES, KernelResult
from tradefleet.backtest.units import (
    PLACES,
    UnitArray,
    fits_context,
    float_decimals,
    half_up_divide,
    largest,
    parts,
    places_of,
    powers_of_ten,
    repr_coefficient,
    unit_dtype,
)
from tradefleet.domain import FeeSchedule, OrderPurpose, ProductSpec, Side
from tradefleet.money import FEE_QUANTUM

_TAKER_CODES = [
    code
    for code, purpose in enumerate(PURPOSES)
    if purpose in {OrderPurpose.BASE, OrderPurpose.ADD, OrderPurpose.EXIT, OrderPurpose.STOP}
]
_FEE_PLACES = places_of(FEE_QUANTUM)  # fee_for rounds to 1e-12
_BUY = SIDES.index(Side.BUY)
_INT64_END = 2**63


def fill_columns(result: KernelResult, product: ProductSpec, budget: Decimal) -> FillColumns | None:
    """The exact columns of ``to_fills(result, product)``, or None (module docstring)."""
    fees, fills = result.fees, result.fills
    if fees.slippage:
        return None
    own = fills.raw_ticks >= 0
    opens = float_decimals(fills.raw_price[~own])
    if opens is None:
        return None
    open_digits, open_places = opens
    base_coefficient, base_exponent = parts(product.base_increment)
    tick_coefficient, tick_exponent = parts(product.price_increment)
    base_places, tick_places = max(0, -base_exponent), max(0, -tick_exponent)
    price_places = max(tick_places, int(open_places.max(initial=0)))
    scale = max(price_places + base_places, _FEE_PLACES, places_of(budget))
    if scale > PLACES:
        return None
    # The coefficients the reference's Decimals have: Decimal(lots) * increment, ticks
    # likewise, repr of the open, their product, and the quote at 18 places x the rate.
    base_digits = int(fills.base_lots.max(initial=0)) * base_coefficient
    price_digits = max(
        int(fills.raw_ticks.max(initial=0)) * tick_coefficient,
        repr_coefficient(open_digits, open_places),
    )
    if not fits_context(base_digits, price_digits, base_digits * price_digits):
        return None
    dtype = unit_dtype(_bound(result, budget, scale))
    base: UnitArray = fills.base_lots.astype(dtype) * (
        base_coefficient * 10 ** (scale + base_exponent)
    )
    price: UnitArray = np.empty(len(fills), dtype=dtype)  # at price_places
    price[own] = fills.raw_ticks[own].astype(dtype) * (
        tick_coefficient * 10 ** (price_places + tick_exponent)
    )
    price[~own] = open_digits.astype(dtype) * powers_of_ten(price_places - open_places, dtype)
    # price x base has price_places + base_places <= scale places: exact, no rounding.
    quote = _exact_quote(price, fills.base_lots, product.base_increment, scale - price_places)
    fee = _fees(quote, fees, np.isin(fills.purpose, _TAKER_CODES), scale)
    if fee is None:
        return None
    shift = 10 ** (scale - price_places)
    wide = largest(price) * shift >= _INT64_END  # a price can outgrow the amounts' bound
    return FillColumns(
        time=fills.time, buy=fills.side == _BUY, base=base, quote=quote, fee=fee, scale=scale,
        price=(price.astype(object) if wide else price) * shift,
    )  # fmt: skip


def _exact_quote(price: UnitArray, lots: np.ndarray, increment: Decimal, places: int) -> UnitArray:
    """price x base with ``places`` more places than the price's units: (price units) x
    (lots x increment coefficient) carries the base's own places, padded with zeros."""
    coefficient, exponent = parts(increment)
    own_places = max(0, -exponent)
    base = lots.astype(price.dtype) * (coefficient * 10 ** (own_places + exponent))
    out: UnitArray = price * base * (10 ** (places - own_places))
    return out


def _fees(quote: UnitArray, fees: FeeSchedule, taker: np.ndarray, scale: int) -> UnitArray | None:
    """``money.fee_for`` of each quote at its rate, in units; None where the Decimal
    arithmetic would round differently (a product beyond the context's precision)."""
    out: UnitArray = np.empty(quote.shape[0], dtype=quote.dtype)
    for chosen, rate in ((taker, fees.taker), (~taker, fees.maker)):
        coefficient, exponent = parts(rate)
        part = quote[chosen]
        # The reference multiplies the 18-place quote's coefficient by the rate's.
        if not fits_context(largest(part) * 10 ** (PLACES - scale) * coefficient):
            return None
        # quote x rate has scale + places(rate) places; the fee keeps 12, halves up.
        shift = scale - exponent - _FEE_PLACES if exponent < 0 else scale - _FEE_PLACES
        factor = coefficient if exponent < 0 else coefficient * 10**exponent
        if largest(part) * factor * 2 + 2 * 10**shift >= _INT64_END:
            part = part.astype(object)  # e.g. a tiny rate: a divisor beyond int64
        count = half_up_divide(part * factor, 10**shift)
        if not fits_context(largest(count)):
            return None  # fee_for's quantize would fail: the Decimal path reports it
        out[chosen] = count * 10 ** (scale - _FEE_PLACES)
    return out


def _bound(result: KernelResult, budget: Decimal, scale: int) -> float:
    """A generous float bound, in units, on every value the exact columns and their sums
    reach: the largest quote x the larger rate coefficient x 2 (rounding half up), the
    fees paid, the running cash and base (int64 sums may wrap in between: only the values
    read must fit), a deal's bought and sold quote, and the peak committed quote. The
    realized PnL of the closed deals is final cash - budget + what open deals spent."""
    fills, deals = result.fills, result.deals
    factor = max(
        float(coefficient) * 10.0 ** max(exponent, 0)
        for coefficient, exponent in (parts(result.fees.taker), parts(result.fees.maker))
    )
    buy = fills.side == _BUY
    cash = float(budget) + np.cumsum(
        np.where(buy, -(fills.quote_amount + fills.fee), fills.quote_amount - fills.fee)
    )
    base = np.cumsum(np.where(buy, fills.base_amount, -fills.base_amount))
    values = [
        2.0 * _largest(fills.quote_amount) * max(factor, 1.0),
        float(np.abs(fills.fee).sum()),  # the total of every fee, which only grows
        float(budget), _largest(cash), _largest(base), _largest(fills.raw_price),
        _largest(deals.bought_quote) + _largest(deals.buy_fees),
        _largest(deals.sold_quote) + _largest(deals.sell_fees),
        result.max_committed_quote,
    ]  # fmt: skip
    return 10.0**scale * (4.0 * max(values) + 4.0)


def _largest(values: np.ndarray) -> float:
    return float(np.abs(values).max(initial=0.0))
