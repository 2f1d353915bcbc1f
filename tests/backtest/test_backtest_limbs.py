"""``limbs`` and ``fixed_text``: column arithmetic and texts, checked against Python ints
and ``format``."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradefleet.backtest.fixed_text import Constant, FixedPoint, Integers, render
from tradefleet.backtest.limbs import (
    add,
    difference,
    fixed_parts,
    from_int64,
    from_ints,
    limbs_needed,
    multiply,
    round_half_up,
)

LIMBS = 4
big = st.integers(0, 10**17 - 1)  # two factors' product fits 4 limbs with room for a sum


def ints(limbs: np.ndarray) -> list[int]:
    return [sum(int(limbs[row, i]) * 10 ** (9 * row) for row in range(limbs.shape[0]))
            for i in range(limbs.shape[1])]  # fmt: skip


def texts(blob: bytes) -> list[str]:
    return blob.decode("ascii").split("|")[:-1]


def test_limbs_hold_nine_digits_each_least_significant_first() -> None:
    assert limbs_needed(999_999_999) == 1
    assert limbs_needed(10**9) == 2
    assert from_ints([10**18 + 7, 5], 3).tolist() == [[7, 5], [0, 0], [1, 0]]
    assert from_ints([10**30 + 2], 4).tolist() == [[2], [0], [0], [1000]]
    with pytest.raises(ValueError, match="not in"):
        from_ints([10**36], 4)
    with pytest.raises(ValueError, match="non-negative"):
        from_int64(np.array([-1]), 3)


@given(st.lists(st.tuples(big, big, big, big), min_size=1, max_size=20))
def test_arithmetic_equals_python_ints(rows: list[tuple[int, int, int, int]]) -> None:
    a, b, c, d = (from_ints([row[k] for row in rows], LIMBS) for k in range(4))
    product = multiply(a, b, LIMBS)
    assert ints(product) == [x * y for x, y, _, _ in rows]
    assert ints(add(product, c)) == [x * y + z for x, y, z, _ in rows]
    negative, magnitude = difference(add(product, c), multiply(d, d, LIMBS))
    exact = [x * y + z - w * w for x, y, z, w in rows]
    assert negative.tolist() == [e < 0 for e in exact]
    assert ints(magnitude) == [abs(e) for e in exact]


@given(st.lists(st.integers(0, 10**30), min_size=1, max_size=20), st.integers(0, 30))
def test_rounding_half_up_equals_decimal_quantize(values: list[int], digits: int) -> None:
    rounded = ints(round_half_up(from_ints(values, LIMBS), digits))
    with localcontext() as wide:
        wide.prec = 80
        expected = [int(Decimal(v).scaleb(-digits).quantize(1, ROUND_HALF_UP)) for v in values]
    assert rounded == expected


def test_rounding_ties_go_up_and_carry_across_limbs() -> None:
    values = from_ints([25, 24, 999_999_999_95, 10**27 - 5], LIMBS)
    assert ints(round_half_up(values, 1)) == [3, 2, 10**10, 10**26]


def test_a_product_too_large_for_its_limbs_is_an_error_not_a_wrap() -> None:
    with pytest.raises(OverflowError):
        multiply(from_ints([10**18], 3), from_ints([10**9], 3), 3)


def test_fixed_parts_split_at_the_point() -> None:
    values = from_ints([123_456_789_012_345_678_901, 7, 0], LIMBS)
    integer, fraction = fixed_parts(values, 14)
    assert integer.tolist() == [1_234_567, 0, 0]
    assert fraction.tolist() == [89_012_345_678_901, 7, 0]
    integer, fraction = fixed_parts(from_ints([10**18 + 7, 0], LIMBS), 0)
    assert integer.tolist() == [10**18 + 7, 0]
    assert fraction.tolist() == [0, 0]
    with pytest.raises(OverflowError):
        fixed_parts(from_ints([10**30], LIMBS), 2)


def test_texts_have_no_leading_or_trailing_zeros() -> None:
    integer = np.array([1000, 999, 0, 0, 12, 0, 5], dtype=np.int64)
    fraction = np.array([0, 80_000_000, 1, 0, 34, 0, 0], dtype=np.int64)
    negative = np.array([False, True, False, False, True, True, False])
    fields = [FixedPoint(integer, fraction, 9, negative), Constant("|")]
    # A negative zero is written "0", as Decimal's canonical form is.
    assert texts(render(fields, 7)) == ["1000", "-999.08", "0.000000001", "0", "-12.000000034",
                                        "0", "5"]  # fmt: skip
    whole = [FixedPoint(integer, np.zeros(7, np.int64), 0), Constant("|")]
    assert texts(render(whole, 7)) == ["1000", "999", "0", "0", "12", "0", "5"]


@given(st.lists(st.tuples(st.integers(0, 2**62), st.integers(0, 10**18 - 1)), min_size=1,
                max_size=30), st.integers(0, 18))  # fmt: skip
def test_texts_equal_formatting_the_decimal(rows: list[tuple[int, int]], places: int) -> None:
    integer = np.array([i for i, _ in rows], dtype=np.int64)
    fraction = np.array([f % 10**places for _, f in rows], dtype=np.int64)
    blob = render([Constant("["), Integers(integer), Constant(", "),
                   FixedPoint(integer, fraction, places), Constant("]|")], len(rows))  # fmt: skip
    expected = []
    for i, f in zip(integer.tolist(), fraction.tolist(), strict=True):
        with localcontext() as wide:
            wide.prec = 80
            text = format(Decimal(i) + Decimal(f).scaleb(-places), "f")
        text = text.rstrip("0").rstrip(".") if "." in text else text
        expected.append(f"[{i}, {text}]")
    assert texts(blob) == expected
