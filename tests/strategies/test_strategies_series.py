"""Crossing helpers and warm-up lengths shared by the strategies."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from strategies_testkit import indices

from tradefleet.strategies.series import (
    SETTLE_FACTOR,
    crosses_above,
    crosses_below,
    ema_settle,
    wilder_settle,
)

NAN = float("nan")


def test_crosses_above_needs_at_or_below_then_strictly_above() -> None:
    a = np.array([1.0, 2.0, 3.0, 3.0, 2.0, 4.0, 4.0])
    b = np.array([2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 5.0])
    # i=1: 1<=2 then 2>2 no; i=2: 2<=2 then 3>2 yes; i=4: 3<=3 then 2>3 no; i=5: 2<=3, 4>3 yes
    assert indices(crosses_above(a, b)) == [2, 5]
    # i=3: 3>=2 then 3<3 no; i=4: 3>=3 then 2<3 yes; i=6: 4>=3 then 4<5 yes
    assert indices(crosses_below(a, b)) == [4, 6]


def test_crossing_a_scalar_level() -> None:
    rsi = np.array([50.0, 30.0, 29.9, 25.0, 31.0, 29.0])
    assert indices(crosses_below(rsi, 30.0)) == [2, 5]
    assert indices(crosses_above(rsi, 30.0)) == [4]


def test_nan_never_crosses() -> None:
    a = np.array([NAN, 5.0, NAN, 1.0, 5.0])
    b = np.array([2.0, 2.0, 2.0, NAN, 2.0])
    assert indices(crosses_above(a, b)) == []
    assert indices(crosses_below(a, b)) == []


def test_short_arrays_have_no_crossings() -> None:
    assert crosses_above(np.array([]), 1.0).shape == (0,)
    assert indices(crosses_below(np.array([1.0]), 2.0)) == []


def _reference_above(a: list[float], b: list[float]) -> list[int]:
    return [i for i in range(1, len(a)) if a[i - 1] <= b[i - 1] and a[i] > b[i]]


def _reference_below(a: list[float], b: list[float]) -> list[int]:
    return [i for i in range(1, len(a)) if a[i - 1] >= b[i - 1] and a[i] < b[i]]


small = st.sampled_from([NAN, -1.0, 0.0, 0.5, 1.0, 2.0])


@given(st.lists(st.tuples(small, small), max_size=30))
def test_crossings_match_the_definition(pairs: list[tuple[float, float]]) -> None:
    a = [p[0] for p in pairs]
    b = [p[1] for p in pairs]
    above = crosses_above(np.array(a, dtype=np.float64), np.array(b, dtype=np.float64))
    below = crosses_below(np.array(a, dtype=np.float64), np.array(b, dtype=np.float64))
    assert indices(above) == _reference_above(a, b)
    assert indices(below) == _reference_below(a, b)
    assert not np.any(above & below)


def test_settle_lengths_shrink_the_start_error_below_the_factor() -> None:
    for period in (2, 9, 14, 26, 200):
        n = ema_settle(period)
        alpha = 2 / (period + 1)
        assert (1 - alpha) ** n <= SETTLE_FACTOR < (1 - alpha) ** (n - 1)
    assert ema_settle(26) == 330
    assert wilder_settle(14) == math.ceil(math.log(1e-11) / math.log(13 / 14)) == 342
