"""Plain-notation texts of whole int64 columns of numbers, without a Python step per number.

A block of rows is a character matrix, one row per number (or per JSON point), plus a
mask of the characters to keep: fields of one width for all rows, their leading zeros
(and a fixed-point fraction's trailing zeros) masked out. The kept characters read row
by row are all the texts one after another.

Both matrices are written four bytes at a time, as uint32 words: every field takes whole
words (a one-character constant too, its other three bytes masked out), four digits come
from one table lookup, and which of a word's bytes to keep from another. Half a million
JSON points take well under a tenth of a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tradefleet.backtest.limbs import split
from tradefleet.domain import BoolArray, IntArray

CharArray = npt.NDArray[np.uint8]
WordArray = npt.NDArray[np.uint32]  # 4 characters, or 4 keep flags (bytes 0 or 1)
WORD = 4  # characters per word, and digits per lookup
_NUMBERS = np.arange(10**WORD)
_DIGITS: WordArray = (
    (_NUMBERS[:, None] // 10 ** np.arange(WORD - 1, -1, -1) % 10 + ord("0"))
    .astype(np.uint8)
    .view(np.uint32)
    .ravel()
)  # the four ASCII digits of every number below 10**4
_TRAILING_ZEROS = sum((_NUMBERS % 10**k == 0).astype(np.int64) for k in range(1, WORD + 1))
# _KEEP[lo, hi]: a word keeping its bytes lo .. hi - 1 (none where hi <= lo).
_KEEP: WordArray = (
    ((np.arange(WORD) >= np.arange(WORD + 1)[:, None, None])
     & (np.arange(WORD) < np.arange(WORD + 1)[None, :, None]))
    .astype(np.uint8)
    .view(np.uint32)
    .reshape(WORD + 1, WORD + 1)
)  # fmt: skip
_POWERS = np.array([10**k for k in range(1, 19)], dtype=np.int64)


def digit_count(values: IntArray) -> IntArray:
    """Decimal digits of each non-negative value (1 for 0)."""
    counts: IntArray = np.searchsorted(_POWERS, values, side="right") + 1
    return counts


def _words(text: str) -> tuple[WordArray, WordArray]:
    """``text`` padded to whole words, and the words keeping just its characters."""
    size = -(-len(text) // WORD) * WORD
    chars = np.frombuffer(text.encode("ascii").ljust(size), dtype=np.uint32)
    keep = np.frombuffer(bytes([1] * len(text) + [0] * (size - len(text))), dtype=np.uint32)
    return chars, keep


def _groups(bound: int) -> int:
    """Words for the digits of every integer in ``[0, bound]``."""
    return -(-len(str(bound)) // WORD)


@dataclass(frozen=True, slots=True)
class Constant:
    """The same text on every row."""

    text: str

    @property
    def words(self) -> int:
        return -(-len(self.text) // WORD)

    def write(self, chars: WordArray, keep: WordArray) -> None:
        chars[:], keep[:] = _words(self.text)


@dataclass(frozen=True, slots=True)
class Either:
    """``first`` where ``pick_first``, else ``second``."""

    first: str
    second: str
    pick_first: BoolArray

    @property
    def words(self) -> int:
        return -(-max(len(self.first), len(self.second)) // WORD)

    def write(self, chars: WordArray, keep: WordArray) -> None:
        size, pick = chars.shape[1], self.pick_first[:, None]
        (first, first_keep), (second, second_keep) = _words(self.first), _words(self.second)
        chars[:] = np.where(pick, _padded(first, size), _padded(second, size))
        keep[:] = np.where(pick, _padded(first_keep, size), _padded(second_keep, size))


def _padded(words: WordArray, size: int) -> WordArray:
    """``words`` and zero words up to ``size`` words (zero bytes: never kept)."""
    return np.concatenate([words, np.zeros(size - words.shape[0], dtype=np.uint32)])


@dataclass(frozen=True, slots=True)
class Integers:
    """Non-negative integers: "0", "7", "1704067200"."""

    values: IntArray

    @property
    def words(self) -> int:
        return _groups(int(self.values.max(initial=0)))

    def write(self, chars: WordArray, keep: WordArray) -> None:
        groups, counts, rest = chars.shape[1], digit_count(self.values), self.values
        for group in range(groups - 1, -1, -1):  # least significant first
            rest, low = split(rest, 10**WORD)
            chars[:, group] = _DIGITS[low]
            shown = np.clip(counts - WORD * (groups - 1 - group), 0, WORD)  # right-aligned
            keep[:, group] = _KEEP[WORD - shown, WORD]


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
    def words(self) -> int:
        sign = 0 if self.negative is None else 1
        point_and_fraction = 1 + -(-self.places // WORD) if self.places else 0
        return sign + Integers(self.integer).words + point_and_fraction

    def write(self, chars: WordArray, keep: WordArray) -> None:
        fraction, at = self.fraction, 0
        if self.negative is not None:  # "-" and three bytes not shown
            chars[:, 0], sign = _words("-")
            keep[:, 0] = np.where(self.negative & ((self.integer != 0) | (fraction != 0)), sign, 0)
            at = 1
        whole = Integers(self.integer).words
        Integers(self.integer).write(chars[:, at : at + whole], keep[:, at : at + whole])
        if not self.places:
            return
        at += whole
        chars[:, at], point = _words(".")
        keep[:, at] = np.where(fraction != 0, point, 0)
        self._write_fraction(chars[:, at + 1 :], keep[:, at + 1 :])

    def _write_fraction(self, chars: WordArray, keep: WordArray) -> None:
        """The fraction's digits, zero-padded in front to whole words (padding not shown),
        shown up to the last significant one."""
        groups = chars.shape[1]
        pad, rest = WORD * groups - self.places, self.fraction
        end = np.zeros(rest.shape[0], dtype=np.int64)  # after the last significant digit
        lows = []
        for group in range(groups - 1, -1, -1):
            rest, low = split(rest, 10**WORD)
            chars[:, group] = _DIGITS[low]
            lows.append((group, low))
        for group, low in reversed(lows):  # most significant first: the last one wins
            end = np.where(low != 0, WORD * group + WORD - _TRAILING_ZEROS[low], end)
        for group in range(groups):
            shown_from = min(max(pad - WORD * group, 0), WORD)
            keep[:, group] = _KEEP[shown_from, np.clip(end - WORD * group, 0, WORD)]


Field = Constant | Either | Integers | FixedPoint


def render(fields: Sequence[Field], rows: int) -> bytes:
    """Each row's fields side by side, the rows one after another."""
    sizes = [field.words for field in fields]
    chars = np.empty((rows, WORD * sum(sizes)), dtype=np.uint8)
    keep = np.empty((rows, WORD * sum(sizes)), dtype=np.bool_)
    char_words, keep_words = chars.view(np.uint32), keep.view(np.uint32)
    at = 0
    for field, size in zip(fields, sizes, strict=True):
        field.write(char_words[:, at : at + size], keep_words[:, at : at + size])
        at += size
    return bytes(chars[keep].data)
