"""Plain-notation texts of whole int64 columns of numbers, without a Python step per number.

A block of rows is a character matrix, one row per number (or per JSON point), plus a
mask of the characters to keep: fields of one width for all rows, their leading zeros
(and a fixed-point fraction's trailing zeros) masked out. The kept characters read row
by row are all the texts one after another. Four digits cost one table lookup, and a
block is written in place, so half a million texts take tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tradefleet.backtest.limbs import split
from tradefleet.domain import BoolArray, IntArray

CharArray = npt.NDArray[np.uint8]
_GROUP = 4  # digits per lookup
_GROUPS: npt.NDArray[np.uint32] = np.frombuffer(
    "".join(f"{k:04d}" for k in range(10**_GROUP)).encode("ascii"), dtype=np.uint32
)  # the four ASCII digits of every number below 10**4, as one uint32 each
_POWERS = np.array([10**k for k in range(1, 19)], dtype=np.int64)


def digit_count(values: IntArray) -> IntArray:
    """Decimal digits of each non-negative value (1 for 0)."""
    counts: IntArray = np.searchsorted(_POWERS, values, side="right") + 1
    return counts


def zero_padded(values: IntArray, groups: int) -> CharArray:
    """The last ``4 x groups`` digits of each non-negative value, zero-padded."""
    out = np.empty((values.shape[0], groups), dtype=np.uint32)
    rest = values
    for group in range(groups - 1, -1, -1):  # least significant first
        rest, low = split(rest, 10**_GROUP)
        out[:, group] = _GROUPS[low]
    chars: CharArray = out.view(np.uint8)
    return chars


@dataclass(frozen=True, slots=True)
class Constant:
    """The same text on every row."""

    text: str

    @property
    def width(self) -> int:
        return len(self.text)

    def write(self, chars: CharArray, keep: BoolArray) -> None:
        chars[:] = np.frombuffer(self.text.encode("ascii"), dtype=np.uint8)
        keep[:] = True


@dataclass(frozen=True, slots=True)
class Either:
    """``first`` where ``pick_first``, else ``second``."""

    first: str
    second: str
    pick_first: BoolArray

    @property
    def width(self) -> int:
        return max(len(self.first), len(self.second))

    def write(self, chars: CharArray, keep: BoolArray) -> None:
        width, pick = chars.shape[1], self.pick_first[:, None]
        first, second = (text.encode("ascii").ljust(width) for text in (self.first, self.second))
        chars[:] = np.where(pick, np.frombuffer(first, np.uint8), np.frombuffer(second, np.uint8))
        column = np.arange(width)
        keep[:] = np.where(pick, column < len(self.first), column < len(self.second))


@dataclass(frozen=True, slots=True)
class Integers:
    """Non-negative integers: "0", "7", "1704067200"."""

    values: IntArray

    @property
    def width(self) -> int:
        return _GROUP * _groups(int(self.values.max(initial=0)))

    def write(self, chars: CharArray, keep: BoolArray) -> None:
        width = chars.shape[1]
        chars[:] = zero_padded(self.values, width // _GROUP)
        keep[:] = np.arange(width) >= (width - digit_count(self.values))[:, None]


@dataclass(frozen=True, slots=True)
class FixedPoint:
    """``integer + fraction / 10**places`` (both non-negative, ``fraction`` below
    ``10**places``), minus where ``negative`` and not zero, no trailing zeros after the
    point: "1000", "-999.8", "0.00000001"."""

    integer: IntArray
    fraction: IntArray
    places: int
    negative: BoolArray | None = None

    @property
    def width(self) -> int:
        sign = 0 if self.negative is None else 1
        point_and_fraction = 1 + _GROUP * _groups(10**self.places - 1) if self.places else 0
        return sign + Integers(self.integer).width + point_and_fraction

    def write(self, chars: CharArray, keep: BoolArray) -> None:
        fraction, places = self.fraction, self.places
        if self.negative is not None:
            chars[:, 0] = ord("-")
            keep[:, 0] = self.negative & ((self.integer != 0) | (fraction != 0))
            chars, keep = chars[:, 1:], keep[:, 1:]
        whole = Integers(self.integer).width
        Integers(self.integer).write(chars[:, :whole], keep[:, :whole])
        if not places:
            return
        trailing = np.zeros(fraction.shape[0], dtype=np.int64)
        for k in range(1, places + 1):  # a zero fraction has all its places trailing
            trailing += (fraction // 10**k) * 10**k == fraction
        digits = chars.shape[1] - whole - 1
        pad = digits - places  # zero-padded to whole lookups: leading digits not shown
        chars[:, whole] = ord(".")
        keep[:, whole] = fraction != 0
        chars[:, whole + 1 :] = zero_padded(fraction, digits // _GROUP)
        column = np.arange(digits)
        keep[:, whole + 1 :] = (column >= pad) & (column < (pad + places - trailing)[:, None])


Field = Constant | Either | Integers | FixedPoint


def _groups(bound: int) -> int:
    """Lookups for the digits of every integer in ``[0, bound]``."""
    return -(-len(str(bound)) // _GROUP)


def render(fields: Sequence[Field], rows: int) -> bytes:
    """Each row's fields side by side, the rows one after another."""
    widths = [field.width for field in fields]
    chars = np.empty((rows, sum(widths)), dtype=np.uint8)
    keep = np.empty((rows, sum(widths)), dtype=np.bool_)
    at = 0
    for field, width in zip(fields, widths, strict=True):
        field.write(chars[:, at : at + width], keep[:, at : at + width])
        at += width
    return bytes(chars[keep].data)
