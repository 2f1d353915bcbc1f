"""Exact money as integer counts of 10**-scale, in numpy arrays.

Every amount a backtest books has at most 18 decimal places (``money.quantize_amount``,
a Money column's NUMERIC(38, 18)), so with a scale of 18 it is an integer. A run whose
amounts have fewer places (a 0.01 price grid and 1e-8 base increments give quotes of 10
places, fees have 12) uses that smaller scale, and then its amounts usually fit int64:
numpy adds, multiplies, divides and sums whole columns of them at native speed. Where a
column could overflow int64 it holds Python ints instead (an object array, which never
overflows, at tens of nanoseconds per operation); the formulas are the same for both.

Sums and products of units equal the ``Decimal`` ones while those stay within the
decimal context's precision (28 digits by default): callers check with
:func:`fits_context` and otherwise take the Decimal path.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from tradefleet.domain import FloatArray, IntArray

PLACES = 18  # the most places an amount has, and the scale of exact columns by default
INT64_SAFE = float(2**62)  # magnitudes below this stay in int64, with room for one sum
_EXACT_DOUBLE = 2**53
UnitArray = npt.NDArray[Any]  # int64, or object holding Python ints
# repr() of a float has at most 17 significant digits; 15 or fewer identify one decimal.
_UNIQUE_DIGITS = 15


def parts(value: Decimal) -> tuple[int, int]:
    """(coefficient, exponent) of a finite non-negative Decimal, its digits as stored."""
    sign, digits, exponent = value.as_tuple()
    if sign or not isinstance(exponent, int):
        raise ValueError(f"expected a non-negative number, got {value}")
    return (int("".join(map(str, digits))) if digits else 0), exponent


def places_of(value: Decimal) -> int:
    """Decimal places ``value`` is written with (0 for an integer)."""
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(f"{value} is not a finite amount")
    return max(0, -exponent)


def to_units(value: Decimal, scale: int = PLACES) -> int:
    """``value`` x 10**scale exactly; ValueError when it has more places."""
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"{value} is not a finite amount")
    coefficient = int("".join(map(str, digits))) if digits else 0
    shift = exponent + scale
    units: int
    if shift >= 0:
        units = coefficient * 10**shift
    else:
        units, rest = divmod(coefficient, 10**-shift)
        if rest:
            raise ValueError(f"{value} has more than {scale} decimal places")
    return -units if sign else units


def from_units(units: int, scale: int = PLACES, places: int | None = None) -> Decimal:
    """The Decimal of ``units`` x 10**-scale written with ``places`` places (default
    ``scale``: the exponent the Decimal arithmetic it stands for gives), built from text
    so no context rounds it."""
    places = scale if places is None else places
    units = int(units)
    if places >= scale:
        coefficient = units * 10 ** (places - scale)
    else:
        coefficient, rest = divmod(units, 10 ** (scale - places))
        if rest:
            raise ValueError(f"{units} x 1e-{scale} has more than {places} places")
    return Decimal(f"{coefficient}E-{places}")


def unit_array(amounts: Iterable[Decimal | int], scale: int = PLACES) -> UnitArray:
    """Decimals (or ints, already units) as an object array of units."""
    values = [a if isinstance(a, int) else to_units(a, scale) for a in amounts]
    out: UnitArray = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def fits_context(*coefficients: int) -> bool:
    """True if every coefficient has at most the decimal context's precision in digits:
    a Decimal sum or product with such a coefficient is exact, not rounded."""
    limit = 10 ** decimal.getcontext().prec
    return all(abs(int(c)) < limit for c in coefficients)


def largest(values: UnitArray) -> int:
    """The largest absolute value (0 for none), as a Python int."""
    return int(np.abs(values).max()) if values.size else 0


def total(values: UnitArray) -> int:
    """The sum, as a Python int."""
    return int(values.sum()) if values.size else 0


def unit_dtype(bound: float) -> type[Any]:
    """int64 when every intermediate of a column stays below ``bound`` (an estimate with
    margin), else Python ints."""
    return np.int64 if bound < INT64_SAFE else object


def floats(values: UnitArray, scale: int) -> FloatArray:
    """``values`` x 10**-scale as correctly rounded floats (``float(Decimal)``'s values)."""
    if values.dtype == np.int64 and (not values.size or largest(values) < _EXACT_DOUBLE):
        # Both operands are exact doubles, so IEEE division rounds the exact quotient.
        out: FloatArray = values.astype(np.float64) / float(10**scale)
        return out
    # Python's int / int rounds correctly too.
    quotients: FloatArray = (values.astype(object) / 10**scale).astype(np.float64)
    return quotients


def float_decimals(values: FloatArray) -> tuple[IntArray, IntArray] | None:
    """(digits, places) of ``Decimal(repr(x))`` for every float: x's shortest decimal is
    digits x 10**-places; None if any has more than 15 significant digits or 18 places
    (the caller then takes the Decimal path).

    A decimal of at most 15 significant digits that rounds to the float ``x`` is the only
    such decimal (DBL_DIG = 15), and ``repr`` gives the shortest decimal that rounds to
    ``x``, so the fewest places k whose ``round(x * 10**k) / 10**k == x`` give repr's
    digits. The test is exact: both integers are exact doubles and IEEE division rounds
    correctly, as ``float(Decimal)`` does.
    """
    count = values.shape[0]
    digits = np.zeros(count, dtype=np.int64)
    places = np.full(count, -1, dtype=np.int64)
    todo = np.isfinite(values) & (values >= 0)
    for k in range(PLACES + 1):
        if not todo.any():
            break
        scaled = np.round(values[todo] * 10.0**k)
        exact = (scaled / float(10**k) == values[todo]) & (scaled < 10.0**_UNIQUE_DIGITS)
        hit = np.flatnonzero(todo)[exact]
        digits[hit] = scaled[exact].astype(np.int64)
        places[hit] = k
        todo[hit] = False
    if np.any(places < 0):
        return None
    return digits, places


def repr_coefficient(digits: IntArray, places: IntArray) -> int:
    """The largest coefficient ``Decimal(repr(x))`` stores for these floats: ``repr``
    writes an integral float with one place ("5.0"), one digit more."""
    if not digits.size:
        return 0
    return int(np.max(np.where(places == 0, digits * 10, digits)))


def powers_of_ten(exponents: IntArray, dtype: type[Any]) -> UnitArray:
    """10**e for each exponent (0 <= e <= 18), as ``dtype``."""
    table = np.array([10**k for k in range(PLACES + 1)], dtype=dtype)
    out: UnitArray = table[exponents]
    return out


def half_up_divide(numerator: UnitArray, divisor: int) -> UnitArray:
    """``numerator / divisor`` rounded half up, for non-negative numerators."""
    if divisor == 1:
        return numerator
    out: UnitArray = (numerator * 2 + divisor) // (divisor * 2)
    return out
