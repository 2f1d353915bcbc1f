"""Train and test windows: the search sees only train candles, the best configs are then
judged on the test candles that follow (out of sample).

Windows are half-open candle index ranges ``[begin, end)`` over the traded candles
``[first, first + count)``; everything before ``begin`` serves as indicator history, so a
test window is traded by a fresh bot whose indicators have seen the whole past, exactly
as a bot started at that moment would.

- ``--split r`` (default 0.7): train = the first ``floor(count x r)`` traded candles, test
  = the rest.
- ``--walk-forward K``: rolling windows. The K test windows are consecutive, equally
  long (T) and end with the data; each fold trains on the L candles just before its test
  window, with L : T as r : (1 - r). T = floor(count x (1 - r) / (K x (1 - r) + r)) and
  L = count - K x T (the remainder of the division goes to the training windows).

Ratios are exact fractions of the text the user typed, so the boundaries never depend
on float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import floor

MIN_WINDOW = 2  # candles: a return series and its ratios need at least two points


class WindowError(ValueError):
    """The data is too short for the requested split, or the split itself is invalid."""


@dataclass(frozen=True, slots=True)
class Window:
    begin: int  # index of the first traded candle
    end: int  # one past the last

    def __len__(self) -> int:
        return self.end - self.begin


@dataclass(frozen=True, slots=True)
class Fold:
    number: int  # 1-based
    train: Window
    test: Window


def parse_share(text: str) -> Fraction:
    """The train share ``0 < r < 1`` from its decimal text, exactly ("0.7" -> 7/10)."""
    try:
        share = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise WindowError(f"--split: {text!r} is not a number") from None
    if not 0 < share < 1:
        raise WindowError("--split: the train share must be between 0 and 1, e.g. 0.7")
    return share


def split_folds(first: int, count: int, share: Fraction) -> list[Fold]:
    """One train/test split of the ``count`` traded candles starting at ``first``."""
    train = floor(count * share)
    _require(train, count - train, f"a {_pct(share)} split of {count} traded candles")
    middle = first + train
    return [Fold(1, Window(first, middle), Window(middle, first + count))]


def walk_forward_folds(first: int, count: int, folds: int, share: Fraction) -> list[Fold]:
    """``folds`` rolling train/test windows whose test windows tile the end of the data."""
    if folds < 1:
        raise WindowError("--walk-forward: needs at least 1 fold")
    test = floor(count * (1 - share) / (folds * (1 - share) + share))
    train = count - folds * test
    _require(train, test, f"{folds} walk-forward folds over {count} traded candles")
    return [
        Fold(
            k + 1,
            Window(first + k * test, first + k * test + train),
            Window(first + k * test + train, first + (k + 1) * test + train),
        )
        for k in range(folds)
    ]


def _require(train: int, test: int, what: str) -> None:
    if min(train, test) < MIN_WINDOW:
        raise WindowError(
            f"too few candles for {what}: train {train}, test {test} "
            f"(each needs at least {MIN_WINDOW})"
        )


def _pct(share: Fraction) -> str:
    return f"{float(share) * 100:g}/{float(1 - share) * 100:g}"
