"""The reference's Decimal rounding rules, emulated in float64.

Sizes live as integer lots (multiples of the base increment) and limit prices as
integer ticks (multiples of the price increment), so they are exact. An increment is
passed as ``num / den`` with both exact integers (0.01 = 1 / 100), and a tick price is
``ticks * num / den``: one correctly rounded division, so its float is the nearest
double to the exact decimal. With at most 15 significant digits (any realistic price)
that double compares with a candle's price exactly as the two Decimals do.

Computed quantities (an average entry, a price x percentage, a sum of committed quote)
carry float64 error, about 1e-16 relative per operation. Where the reference rounds
or compares them, the kernel *snaps*: a value within ``SNAP_ABS + SNAP_REL x |y|`` below
an integer counts as that integer when rounding down (and likewise at the half for
round-half-up), and two amounts within ``TOLERANCE`` (1e-13) relative of each other
count as equal. Decimal values that land exactly on a boundary (150.00 x 1.0103 =
151.545) therefore round as Decimal does.

Where float64 can still differ from Decimal, and by how much:

* Base amounts never: a market buy's size and a safety order's price and size are
  handed to ``exact`` (the reference's own Decimal code) whenever float64 lands within
  ``AMBIGUOUS_REL x |y| + AMBIGUOUS_ABS`` of a boundary, which happens for roughly one
  order in 1e3-1e4.
* A take profit, stop loss or trailing stop price (rounded from the average entry or
  the peak) and a budget, cap, exit or minimum-size test can take the other side only
  when the exact value lies within the snap window (about 1e-9 of a tick, or 1e-13
  relative) of the boundary without being on it: about one decision in 1e9. One case
  is systematic: the average entry of a deal of several buys is a quotient the
  reference rounds to 18 places, so a take profit or stop loss whose exact quotient
  lands on a half tick lies just beside it in the reference. The kernel counts such
  prices (``B_UNDECIDED``) and ``run_kernel`` then refuses the run.
* The float64 price, quote amount and fee of a fill are within a few 1e-16 relative of
  the reference's, and a fee can differ by one unit of 1e-12 where the product of two
  such floats straddles a half; ``result.to_fills`` rebuilds the exact Decimals.
"""

from __future__ import annotations

import math

from .jit import jit

SNAP_ABS = 1e-9  # in units of the increment
SNAP_REL = 3e-14  # about 100 times float64's relative error after a few operations
TOLERANCE = 1e-13  # relative: amounts closer than this are taken as equal
AMBIGUOUS_REL = 1e-12  # ``exact`` decides sizes this close to a rounding boundary
AMBIGUOUS_ABS = 1e-9
FEE_UNITS = 1e12  # fees are kept to 12 decimals (money.FEE_QUANTUM)
_FEE_EXACT_LIMIT = 4e15  # beyond this many fee units a float cannot hold 1e-12 anyway


@jit
def floor_snap(y: float) -> float:
    """floor(y), but a y just below an integer (float error) counts as that integer."""
    k = float(math.floor(y))
    if y - k >= 1.0 - (SNAP_ABS + SNAP_REL * abs(y)):
        k += 1.0
    return k


@jit
def half_up_snap(y: float) -> float:
    """Nearest integer, halves away from zero (y >= 0), with the same snapping."""
    return floor_snap(y + 0.5)


@jit
def near_integer(y: float) -> bool:
    """y is so close to an integer that float64 cannot tell which side it is on."""
    window = AMBIGUOUS_ABS + AMBIGUOUS_REL * abs(y)
    fraction = y - math.floor(y)
    return fraction < window or fraction > 1.0 - window


@jit
def near_half(value: float, num: int, den: int) -> bool:
    """``value`` in ticks lies within the snap window of a half tick, where
    ``nearest_ticks`` takes it as exactly the half."""
    y = value * den / num
    return abs(y - math.floor(y) - 0.5) <= SNAP_ABS + SNAP_REL * abs(y)


@jit
def tick_price(ticks: int, num: int, den: int) -> float:
    """The float nearest to ``ticks x num / den``."""
    return float(ticks * num) / den


@jit
def nearest_ticks(value: float, num: int, den: int) -> int:
    """``money.round_nearest(value, increment)`` in ticks."""
    return int(half_up_snap(value * den / num))


@jit
def down_lots(value: float, num: int, den: int) -> int:
    """``money.round_down(value, increment)`` in lots (never negative)."""
    if value <= 0.0:
        return 0
    return int(floor_snap(value * den / num))


@jit
def lots_base(lots: int, num: int, den: int) -> float:
    return float(lots * num) / den


@jit
def fee_of(quote: float, rate: float) -> float:
    """``money.fee_for``: quote x rate to 1e-12, halves up."""
    units = quote * rate * FEE_UNITS
    if units >= _FEE_EXACT_LIMIT:
        return quote * rate
    return half_up_snap(units) / FEE_UNITS


@jit
def _slack(a: float, b: float) -> float:
    return TOLERANCE * max(abs(a), abs(b))


@jit
def le_tol(a: float, b: float) -> bool:
    """a <= b, taking amounts within the tolerance as equal."""
    return a <= b + _slack(a, b)


@jit
def near_tol(a: float, b: float) -> bool:
    """a and b are within the tolerance of each other: float64 cannot order them."""
    return abs(a - b) <= _slack(a, b)


@jit
def lt_tol(a: float, b: float) -> bool:
    """a < b, taking amounts within the tolerance as equal (so not less)."""
    return a < b - _slack(a, b)


@jit
def gt_tol(a: float, b: float) -> bool:
    return lt_tol(b, a)


@jit
def ge_tol(a: float, b: float) -> bool:
    return le_tol(b, a)
