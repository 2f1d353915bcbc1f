"""Non-negative integers of any size as numpy columns of base-10**9 limbs.

The exact equity of every candle of a year (half a million sums of up to 28 digits) can
be beyond int64 (a BTC-quoted pair: 16 places of units times closes of 8), and Python
ints or Decimals cost a microsecond or more each. Split into limbs of nine decimal
digits, a product of two limbs stays below 10**18 and fits int64, so whole columns
multiply, add, subtract and round at numpy speed.

A limb array has shape ``(limbs, n)``: row 0 holds the least significant nine digits of
each of the ``n`` numbers. Only floor division by a constant is used, never ``%`` or
``divmod``: numpy divides a column by one number several times faster than it takes the
remainder.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tradefleet.domain import BoolArray, IntArray

DIGITS = 9
BASE = 10**DIGITS
LimbArray = IntArray  # int64, shape (limbs, n), each entry in [0, BASE)
INT64_END = 2**63
# A product of two limbs is below 10**18; int64 holds nine of them and a carry.
_MAX_TERMS = 9


def limbs_needed(bound: int) -> int:
    """How many limbs hold every integer in ``[0, bound]``."""
    return max(1, (len(str(bound)) + DIGITS - 1) // DIGITS)


def split(values: IntArray, divisor: int) -> tuple[IntArray, IntArray]:
    """``divmod(values, divisor)`` for non-negative int64 columns, the fast way."""
    quotient = values // divisor
    return quotient, values - quotient * divisor


def from_int64(values: IntArray, limbs: int) -> LimbArray:
    """Non-negative int64 values as limbs; ValueError if they need more."""
    if values.size and int(values.min()) < 0:
        raise ValueError("limbs hold non-negative integers only")
    out = np.empty((limbs, values.shape[0]), dtype=np.int64)
    rest = values.astype(np.int64)
    for row in range(limbs - 1):
        rest, out[row] = split(rest, BASE)
    if np.any(rest >= BASE):
        raise ValueError(f"a value needs more than {limbs} limbs")
    out[limbs - 1] = rest
    return out


def from_ints(values: Sequence[int], limbs: int) -> LimbArray:
    """Python ints, each in ``[0, BASE**limbs)``, as limbs (a Python loop unless they fit
    int64: meant for the few values that change only at fills)."""
    if all(0 <= value < INT64_END for value in values):
        return from_int64(np.array(values, dtype=np.int64), limbs)
    if any(not 0 <= value < BASE**limbs for value in values):
        raise ValueError(f"a value is not in [0, 10**{DIGITS * limbs})")
    rows = [[value // BASE**row % BASE for value in values] for row in range(limbs)]
    return np.array(rows, dtype=np.int64).reshape(limbs, len(values))


def carry(wide: LimbArray) -> LimbArray:
    """Limbs from rows holding up to ``_MAX_TERMS`` limb products each (in place); the top
    row must end up below BASE (the caller sized it)."""
    for row in range(wide.shape[0] - 1):
        over, wide[row] = split(wide[row], BASE)
        wide[row + 1] += over
    if np.any(wide[-1] >= BASE):
        raise OverflowError("the result needs more limbs")
    return wide


def multiply(a: LimbArray, b: LimbArray, limbs: int) -> LimbArray:
    """``a x b`` element by element in ``limbs`` limbs; OverflowError if one needs more."""
    if min(a.shape[0], b.shape[0]) > _MAX_TERMS:
        raise ValueError(f"at most {_MAX_TERMS} limbs per factor")
    wide = np.zeros((max(limbs, a.shape[0] + b.shape[0]), a.shape[1]), dtype=np.int64)
    used_a = [i for i in range(a.shape[0]) if a[i].any()]  # a small factor's top limbs
    used_b = [j for j in range(b.shape[0]) if b[j].any()]  # are zero: skip them
    for i in used_a:
        for j in used_b:
            wide[i + j] += a[i] * b[j]
    out = carry(wide)
    if out[limbs:].any():
        raise OverflowError(f"a product needs more than {limbs} limbs")
    return out[:limbs]


def add(a: LimbArray, b: LimbArray) -> LimbArray:
    """``a + b`` element by element; the limbs of ``a`` must hold the sum."""
    return carry(a + b)


def difference(a: LimbArray, b: LimbArray) -> tuple[BoolArray, LimbArray]:
    """(``a < b``, ``|a - b|``) element by element; both have the same limbs."""
    wide = a - b  # each limb in (-BASE, BASE)
    _borrow(wide)
    negative: BoolArray = wide[-1] < 0  # the lower limbs are in [0, BASE) now
    wide[:, negative] = -wide[:, negative]
    _borrow(wide)
    return negative, wide


def _borrow(wide: LimbArray) -> None:
    """Bring every limb but the top one into [0, BASE), keeping the value (in place)."""
    for row in range(wide.shape[0] - 1):
        borrow = wide[row] // BASE  # -1 or 0
        wide[row] -= borrow * BASE
        wide[row + 1] += borrow


def round_half_up(a: LimbArray, digits: int) -> LimbArray:
    """``a / 10**digits`` rounded half up (as ``Decimal.quantize`` does), same limbs; the
    limbs of ``a`` must hold ``a + 10**digits``."""
    if digits <= 0:
        return a
    if digits > DIGITS * a.shape[0]:  # every value is below half of 10**digits
        return np.zeros_like(a)
    total = a.copy()
    total[(digits - 1) // DIGITS] += 5 * 10 ** ((digits - 1) % DIGITS)
    total = carry(total)
    whole, part = divmod(digits, DIGITS)
    out = np.zeros_like(total)
    out[: total.shape[0] - whole] = total[whole:]
    if part:
        divisor = 10**part
        rest = np.zeros(total.shape[1], dtype=np.int64)
        for row in range(out.shape[0] - 1, -1, -1):
            # rest < divisor, so rest x (BASE // divisor) + limb // divisor < BASE.
            quotient, remainder = split(out[row], divisor)
            out[row] = quotient + rest * (BASE // divisor)
            rest = remainder
    return out


def fixed_parts(a: LimbArray, places: int) -> tuple[IntArray, IntArray]:
    """(integer part, fraction digits) of ``a / 10**places`` for ``places`` <= 18, as
    int64 columns; OverflowError if an integer part does not fit int64."""
    if not 0 <= places <= 2 * DIGITS:
        raise ValueError(f"{places} places: at most {2 * DIGITS}")
    whole, part = divmod(places, DIGITS)
    padded = np.zeros((max(a.shape[0], whole + 1), a.shape[1]), dtype=np.int64)
    padded[: a.shape[0]] = a
    high, low = split(padded[whole], 10**part)
    fraction = low * BASE**whole
    for row in range(whole):
        fraction += padded[row] * BASE**row
    shifts = [10 ** (DIGITS * (row - whole) - part) for row in range(whole + 1, len(padded))]
    bound = int(high.max(initial=0)) + sum(
        int(padded[row].max(initial=0)) * shift
        for row, shift in zip(range(whole + 1, len(padded)), shifts, strict=True)
    )
    if bound >= INT64_END:
        raise OverflowError("an integer part does not fit int64")
    integer = high
    for row, shift in zip(range(whole + 1, len(padded)), shifts, strict=True):
        if padded[row].any():  # then shift < 2**63, by the bound
            integer = integer + padded[row] * shift
    return integer, fraction
