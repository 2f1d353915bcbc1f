"""The exact equity texts of every candle, vectorised from the integer holdings.

``equity.exact_texts`` works out ``quantize_amount(cash + base x Decimal(repr(close)))``
per distinct close with Decimals: about a microsecond each, half a second for a year of
one-minute candles. The same numbers as integers: with ``s`` the holdings' scale and a
close written ``digits x 10**-places``, ``P`` the most places of any close,

    equity x 10**(s + P) = cash_units x 10**P + base_units x digits x 10**(P - places)

exactly, a sum of up to 28 digits that limbs (``limbs``) hold; quantizing to 18 places
rounds it half up (away from zero) to ``min(s + P, 18)`` places, and the plain text of
that is the text ``equity.plain_text`` gives the Decimal. Cash can be negative (a bot
that lost more than its budget). The Decimal sum is taken in the caller's context,
which rounds a sum or product of more digits than its precision: where any could have
more (or a close has over 15 significant digits) these functions return None and the
caller takes the Decimal path.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tradefleet.backtest.fixed_text import Constant, Field, FixedPoint, Integers, render
from tradefleet.backtest.limbs import (
    INT64_END,
    LimbArray,
    add,
    difference,
    fixed_parts,
    from_int64,
    from_ints,
    limbs_needed,
    multiply,
    round_half_up,
)
from tradefleet.backtest.units import (
    PLACES,
    fits_context,
    float_decimals,
    repr_coefficient,
    to_units,
)
from tradefleet.domain import FloatArray, IntArray

if TYPE_CHECKING:
    from tradefleet.backtest.equity import Holdings

BLOCK = 32768  # candles worked out at once: bounded memory, few numpy calls per candle
_POWERS = np.array([10**k for k in range(PLACES + 1)], dtype=np.int64)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What every block of candles needs: per run of candles between fills its cash
    x 10**P and base units (as int64 where every sum fits, else as limbs with the cash
    split by sign); per candle its run and close."""

    run: IntArray
    gains: LimbArray  # cash x 10**P where cash >= 0, else 0
    debts: LimbArray  # -cash x 10**P where cash < 0, else 0
    base: LimbArray
    digits: IntArray  # the close is digits x 10**-places
    shifts: IntArray  # P - places
    limbs: int
    wide_closes: bool  # digits x 10**shifts may pass int64
    spare: int  # places the quantize to 18 drops
    places: int  # of the result
    narrow: IntArray | None  # when every sum fits int64: (cash x 10**P, base) per run


def _plan(held: Holdings, closes: FloatArray) -> _Plan | None:
    decimals = float_decimals(closes)
    if decimals is None or held.scale > PLACES or not closes.shape[0]:
        return None
    digits, places = decimals
    # Per run of candles between fills: the first run holds the budget alone.
    cash = [to_units(held.budget, held.scale), *map(int, held.cash)]
    base = [0, *map(int, held.base)]
    count = closes.shape[0]
    edges = held.fill_candles[held.fill_candles < count]
    if min(base) < 0 or len(cash) != edges.shape[0] + 1:
        return None
    # The coefficients of the Decimal product and sum: Decimal(repr(2000.0)) is 20000E-1.
    cash_bound, product = max(map(abs, cash)), max(base) * repr_coefficient(digits, places)
    repr_places = max(int(places.max()), int((places == 0).any()))
    if not fits_context(product, cash_bound * 10**repr_places + product):
        return None
    most = int(places.max())
    spare = held.scale + most - min(held.scale + most, PLACES)
    # The largest digits x 10**(P - places), from above: floats of a relative error below
    # 2**-52, with room to spare.
    close_bound = int(float(np.max(digits * 10.0 ** (most - places))) * (1 + 1e-12)) + 1
    bound = cash_bound * 10**most + max(base) * close_bound + 10**spare
    if bound // 10 ** (held.scale + most) >= INT64_END:
        return None  # an integer part beyond int64
    limbs = limbs_needed(bound)
    fits = bound < INT64_END and close_bound < INT64_END
    narrow = np.array([[c * 10**most for c in cash], base], np.int64) if fits else None
    return _Plan(
        run=np.repeat(np.arange(len(cash)), np.diff(edges, prepend=0, append=count)),
        gains=from_ints([max(c, 0) * 10**most for c in cash], limbs),
        debts=from_ints([max(-c, 0) * 10**most for c in cash], limbs),
        base=from_ints(base, limbs),
        digits=digits,
        shifts=most - places,
        limbs=limbs,
        wide_closes=close_bound >= INT64_END,
        spare=spare,
        places=held.scale + most - spare,
        narrow=narrow,
    )


def _block(plan: _Plan, part: slice) -> FixedPoint:
    """The equity of the candles ``part``, exactly."""
    run, limbs = plan.run[part], plan.limbs
    digits, shifts = plan.digits[part], plan.shifts[part]
    if plan.narrow is not None:  # int64 all the way (USD-quoted pairs, budgets of millions)
        total = plan.narrow[0, run] + plan.narrow[1, run] * (digits * _POWERS[shifts])
        magnitude = np.abs(total)
        if plan.spare:
            magnitude = (magnitude + 5 * 10 ** (plan.spare - 1)) // 10**plan.spare
        integer = magnitude // 10**plan.places
        fraction = magnitude - integer * 10**plan.places
        return FixedPoint(integer, fraction, plan.places, total < 0)
    if plan.wide_closes:
        closes = multiply(from_int64(digits, limbs), from_int64(_POWERS[shifts], limbs), limbs)
    else:
        closes = from_int64(digits * _POWERS[shifts], limbs)
    held = add(plan.gains[:, run], multiply(plan.base[:, run], closes, limbs))
    negative, magnitude = difference(held, plan.debts[:, run])
    integer, fraction = fixed_parts(round_half_up(magnitude, plan.spare), plan.places)
    return FixedPoint(integer, fraction, plan.places, negative)


def fast_texts(held: Holdings, closes: FloatArray) -> list[str] | None:
    """``equity.exact_texts``'s list, or None where the Decimal path must decide."""
    plan = _plan(held, closes)
    if plan is None:
        return None
    texts: list[str] = []
    for first in range(0, closes.shape[0], BLOCK):
        part = slice(first, first + BLOCK)
        equity = _block(plan, part)
        text = render([equity, Constant("\n")], equity.integer.shape[0])
        texts += text.decode("ascii").split("\n")[:-1]
    return texts


def points_json_blocks(held: Holdings, times: IntArray, closes: FloatArray) -> Iterator[str] | None:
    """The equity list's points as JSON text, ``[time, "equity"]`` joined by ", ", in
    pieces of ``BLOCK`` points (the caller joins pieces with ", "); None as
    ``fast_texts``."""
    if times.shape != closes.shape or (times.size and int(times.min()) < 0):
        return None
    plan = _plan(held, closes)
    if plan is None:
        return None

    def pieces() -> Iterator[str]:
        for first in range(0, times.shape[0], BLOCK):
            part = slice(first, first + BLOCK)
            equity = _block(plan, part)
            fields: list[Field] = [Constant("["), Integers(times[part]), Constant(', "')]
            fields += [equity, Constant('"], ')]
            yield render(fields, equity.integer.shape[0])[:-2].decode("ascii")

    return pieces()
