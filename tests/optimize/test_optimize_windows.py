"""Train/test split and walk-forward boundaries, exact to the candle."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tradefleet.optimize.windows import (
    Fold,
    Window,
    WindowError,
    parse_share,
    split_folds,
    walk_forward_folds,
)


def test_parse_share_is_exact() -> None:
    assert parse_share("0.7") == Fraction(7, 10)
    assert parse_share(" 0.29 ") == Fraction(29, 100)
    for bad in ("0", "1", "1.5", "-0.2"):
        with pytest.raises(WindowError, match="between 0 and 1"):
            parse_share(bad)
    with pytest.raises(WindowError, match="not a number"):
        parse_share("seventy")


def test_split_is_70_30_by_time_after_the_warm_up() -> None:
    # 1000 traded candles starting at index 50 (50 candles of indicator history).
    assert split_folds(50, 1000, Fraction(7, 10)) == [Fold(1, Window(50, 750), Window(750, 1050))]
    # 100 x 0.29 is 28.999999999999996 in floats; the exact fraction gives 29.
    assert split_folds(0, 100, parse_share("0.29"))[0].train == Window(0, 29)
    # An odd count: the train window takes the floor, the test the rest.
    fold = split_folds(0, 7, Fraction(1, 2))[0]
    assert (len(fold.train), len(fold.test)) == (3, 4)


def test_walk_forward_windows_roll_and_the_tests_tile_the_end() -> None:
    # T = floor(1000 x 0.3 / (3 x 0.3 + 0.7)) = floor(187.5) = 187, L = 1000 - 3 x 187 = 439.
    folds = walk_forward_folds(0, 1000, 3, Fraction(7, 10))
    assert folds == [
        Fold(1, Window(0, 439), Window(439, 626)),
        Fold(2, Window(187, 626), Window(626, 813)),
        Fold(3, Window(374, 813), Window(813, 1000)),
    ]
    shifted = walk_forward_folds(20, 1000, 3, Fraction(7, 10))
    assert [f.test for f in shifted] == [Window(459, 646), Window(646, 833), Window(833, 1020)]
    # One fold is a split whose remainder goes to training: T = floor(300), L = 700.
    assert walk_forward_folds(0, 1000, 1, Fraction(7, 10)) == split_folds(0, 1000, Fraction(7, 10))


def test_too_few_candles_or_folds_is_an_error() -> None:
    with pytest.raises(WindowError, match="train 2, test 1"):
        split_folds(0, 3, Fraction(7, 10))
    with pytest.raises(WindowError, match="10 walk-forward folds over 20 traded candles"):
        walk_forward_folds(0, 20, 10, Fraction(7, 10))
    with pytest.raises(WindowError, match="at least 1 fold"):
        walk_forward_folds(0, 1000, 0, Fraction(7, 10))
