"""``units``: exact integer money columns, checked against Decimal itself."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradefleet.backtest.units import (
    INT64_SAFE,
    float_decimals,
    floats,
    from_units,
    half_up_divide,
    places_of,
    repr_coefficient,
    to_units,
    unit_array,
    unit_dtype,
)

D = Decimal


def test_units_and_back_keep_value_and_exponent() -> None:
    assert to_units(D("0.5964")) == 596_400_000_000_000_000
    assert to_units(D("0.5964"), 12) == 596_400_000_000
    assert to_units(D("-1.5"), 1) == -15
    assert to_units(D("1E+3"), 0) == 1000
    # The exponent the reference's arithmetic gives: a fee has 12 places, a base 8.
    assert repr(from_units(596_400_000_000, 12, 12)) == "Decimal('0.596400000000')"
    assert repr(from_units(99_400_000, 8, 8)) == "Decimal('0.99400000')"
    assert repr(from_units(0, 12, 8)) == "Decimal('0E-8')"
    assert repr(from_units(7, 0, 0)) == "Decimal('7')"
    assert from_units(123, 2) == D("1.23")


def test_amounts_with_more_places_than_the_scale_are_refused() -> None:
    with pytest.raises(ValueError, match="more than 12 decimal places"):
        to_units(D("0.0000000000001"), 12)
    with pytest.raises(ValueError, match="more than 2 places"):
        from_units(1234, 3, 2)
    with pytest.raises(ValueError, match="not a finite amount"):
        to_units(D("NaN"))


def test_places_and_half_up_division() -> None:
    assert (places_of(D("0.01")), places_of(D("5")), places_of(D("1E+2"))) == (2, 0, 0)
    numerators = np.array([4, 5, 14, 15, 25, 0], dtype=np.int64)
    assert half_up_divide(numerators, 10).tolist() == [0, 1, 1, 2, 3, 0]
    assert half_up_divide(numerators.astype(object), 10).tolist() == [0, 1, 1, 2, 3, 0]
    assert half_up_divide(numerators, 1) is numerators


def test_the_dtype_is_int64_only_below_the_safe_bound() -> None:
    assert unit_dtype(1e18) is np.int64
    assert unit_dtype(INT64_SAFE) is object


def test_shortest_decimals_of_floats_by_hand() -> None:
    found = float_decimals(np.array([2345.67, 5.0, 1e-05, 0.1, 100.25]))
    assert found is not None
    digits, places = found
    assert digits.tolist() == [234567, 5, 1, 1, 10025]
    assert places.tolist() == [2, 0, 5, 1, 2]
    # repr writes 5.0 with one place: Decimal("5.0") stores 50.
    assert repr_coefficient(digits, places) == 234567
    assert repr_coefficient(np.array([5]), np.array([0])) == 50
    # 0.1 + 0.2 has 17 significant digits: the Decimal path must decide.
    assert float_decimals(np.array([0.1 + 0.2])) is None
    assert float_decimals(np.array([-1.0])) is None


@given(
    st.lists(
        st.builds(
            lambda digits, places: digits / 10**places,
            st.integers(min_value=0, max_value=10**12),
            st.integers(min_value=0, max_value=8),
        ),
        max_size=30,
    )
)
def test_shortest_decimals_equal_repr(values: list[float]) -> None:
    found = float_decimals(np.array(values, dtype=np.float64))
    assert found is not None
    for value, digits, places in zip(values, *found, strict=True):
        assert D(int(digits)).scaleb(-int(places)) == D(repr(value))
        exponent = D(repr(value)).as_tuple().exponent
        assert isinstance(exponent, int)
        # repr writes an integral float as "5.0"; its value needs no place.
        assert int(places) == (0 if value == int(value) else -exponent)


@given(st.lists(st.integers(min_value=-(2**62), max_value=2**62), max_size=30), st.integers(0, 18))
def test_floats_round_like_float_of_decimal(units: list[int], scale: int) -> None:
    expected = [float(D(u).scaleb(-scale)) for u in units]
    assert floats(np.array(units, dtype=np.int64), scale).tolist() == expected
    assert floats(unit_array(units), scale).tolist() == expected
    assert floats(unit_array([u * 10**6 for u in units]), scale + 6).tolist() == expected
