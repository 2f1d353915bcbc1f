"""``equity_text``: the equity texts from integer columns are the Decimal path's texts."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from tradefleet.backtest import equity_text
from tradefleet.backtest.equity import Holdings, _decimal_texts, exact_texts, plain_text
from tradefleet.backtest.equity_text import fast_texts, points_json_blocks
from tradefleet.backtest.report import _points_text
from tradefleet.backtest.units import unit_array
from tradefleet.money import canonical

D = Decimal


def held(budget: str, candles: list[int], cash: list[int], base: list[int], scale: int) -> Holdings:
    return Holdings(D(budget), np.array(candles, dtype=np.int64), unit_array(cash),
                    unit_array(base), scale)  # fmt: skip


def both(holdings: Holdings, closes: list[float]) -> tuple[list[str] | None, list[str]]:
    array = np.array(closes)
    return fast_texts(holdings, array), _decimal_texts(holdings, array)


def test_ties_round_half_away_from_zero_at_18_places() -> None:
    # base 5E-18 x 0.1 = 5E-19: half of the 18th place. 1 + 5E-19 rounds up; -1 + 5E-19
    # = -0.9999999999999999995 rounds away from zero, to -1.
    holdings = held("1", [1, 2], [10**18, -(10**18)], [5, 5], 18)
    fast, reference = both(holdings, [0.1, 0.1, 0.1])
    assert reference == ["1", "1.000000000000000001", "-1"]
    assert fast == reference


def test_a_bot_that_lost_more_than_its_budget_has_negative_equity() -> None:
    holdings = held("1000", [1, 2, 3], [-(50 * 10**12), -(10**11), 0], [10**9, 0, 0], 12)
    fast, reference = both(holdings, [2000.0, 2000.5, 1.0, 7.25])
    assert reference == ["1000", "-47.9995", "-0.1", "0"]  # -50 + 0.001 x 2000.5
    assert fast == reference


def test_wide_amounts_of_a_btc_quoted_pair() -> None:
    # Scale 16 and closes of 7 places: sums of 24 digits, beyond int64, rounded to 18
    # places: 0.9 + 10.0000000000000003 x 0.0994766 = 1.8947660000000000298430.
    holdings = held("1", [0, 2], [9 * 10**15, 10**16 + 1], [10**17 + 3, 0], 16)
    fast, reference = both(holdings, [0.0994766, 0.09969, 0.1, 5.33e-05])
    assert reference == ["1.89476600000000003", "1.89690000000000003", "1.0000000000000001",
                         "1.0000000000000001"]  # fmt: skip
    assert fast == reference


def test_a_product_beyond_the_context_precision_takes_the_decimal_path() -> None:
    holdings = held("0", [0], [10**18], [123456789123456789012345678], 18)
    assert fast_texts(holdings, np.array([12345.678901234567])) is None
    assert exact_texts(holdings, np.array([12345.678901234567])) == _decimal_texts(
        holdings, np.array([12345.678901234567])
    )


# d x 10**-p as the nearest float, whose repr is that decimal (at most 12 digits).
closes = st.builds(lambda d, p: d / 10**p, st.integers(1, 10**12), st.integers(0, 8))


@given(
    st.sampled_from([8, 10, 12, 16, 18]),
    st.lists(st.tuples(st.integers(-(10**19), 10**19), st.integers(0, 10**13)), max_size=8),
    st.lists(closes, min_size=1, max_size=30),
    st.data(),
)
def test_texts_equal_the_decimal_path(
    scale: int, runs: list[tuple[int, int]], prices: list[float], data: st.DataObject
) -> None:
    count = len(prices)
    candles = sorted(data.draw(st.sets(st.integers(0, count - 1), max_size=len(runs))))
    cash, base = [c for c, _ in runs[: len(candles)]], [b for _, b in runs[: len(candles)]]
    holdings = held("1000", candles, cash, base, scale)
    fast, reference = both(holdings, prices)
    assert fast is None or fast == reference
    plan = equity_text._plan(holdings, np.array(prices))
    event("Decimal path" if plan is None else "int64" if plan.narrow is not None else "limbs")
    times = 1_704_067_200 + 60 * np.arange(count, dtype=np.int64)
    pieces = points_json_blocks(holdings, times, np.array(prices))
    if pieces is not None:
        assert ", ".join(pieces) == _points_text(times.tolist(), reference)


def test_realistic_runs_take_the_fast_path_piece_by_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(equity_text, "BLOCK", 3)
    holdings = held("1000", [1, 4, 6], [900 * 10**12, 10**15, 10**15 - 7], [5 * 10**10, 0, 10**8],
                    12)  # fmt: skip
    prices = [2000.0, 2000.5, 2001.25, 1999.99, 2000.0, 2000.0, 2100.1, 3.5]
    fast, reference = both(holdings, prices)
    # 900 + 0.05 x close, then 1000 in cash alone, then 999.999999999993 + 0.0001 x close
    assert fast == reference == ["1000", "1000.025", "1000.0625", "999.9995", "1000", "1000",
                                 "1000.210009999993", "1000.000349999993"]  # fmt: skip
    times = np.arange(8, dtype=np.int64) * 60
    pieces = points_json_blocks(holdings, times, np.array(prices))
    assert pieces is not None
    assert list(pieces) == [
        '[0, "1000"], [60, "1000.025"], [120, "1000.0625"]',
        '[180, "999.9995"], [240, "1000"], [300, "1000"]',
        '[360, "1000.210009999993"], [420, "1000.000349999993"]',
    ]


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_plain_text_is_the_canonical_decimals_text(value: Decimal) -> None:
    assert plain_text(value) == format(canonical(value), "f")


def test_plain_text_by_hand() -> None:
    cases = {"1E-8": "0.00000001", "1E+1": "10", "-0.500": "-0.5", "0E-12": "0", "-0": "0",
             "2000.0": "2000", "NaN": "NaN", "-Infinity": "-Infinity"}  # fmt: skip
    assert {text: plain_text(D(text)) for text in cases} == cases
