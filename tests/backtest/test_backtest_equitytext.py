"""The exact equity curve as JSON text: the fast forms give the reference values' text.

``exact_texts`` and ``result_json_text`` skip building a Decimal and a list per candle;
they must still write what ``decimal_text(exact_equity(...))`` and ``json.dumps`` write.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal, localcontext

import numpy as np
import pytest
from tests.backtest.backtest_testkit import FEES, HOUR, MINUTE, PRODUCT, arrays, bar

from tradefleet.backtest import report
from tradefleet.backtest.equity import Holdings, exact_curve, exact_equity, exact_texts
from tradefleet.backtest.report import (
    decimal_text,
    equity_json,
    result_json,
    result_json_text,
    write_result_json,
)
from tradefleet.backtest.runner import run_backtest
from tradefleet.backtest.units import unit_array
from tradefleet.money import quantize_amount, to_decimal

D = Decimal
HELD = Holdings(D(1000), np.array([1, 3], dtype=np.int64), unit_array([D("799.8"), D("1009.85")]),
                unit_array([D("0.1"), D("0E-8")]))  # fmt: skip
CLOSES = np.array([2000.0, 2000.0, 0.1 + 0.2, 2100.5, 5.0])


def test_texts_worked_out_by_hand() -> None:
    assert exact_texts(HELD, CLOSES) == [
        "1000",  # before the first fill: the budget
        "999.8",  # 799.8 + 0.1 x 2000.0
        "799.830000000000000004",  # 799.8 + 0.1 x 0.30000000000000004
        "1009.85",  # all sold: cash alone, whatever the close
        "1009.85",
    ]


def test_curve_and_texts_match_the_single_candle_reference() -> None:
    times = np.arange(5, dtype=np.int64) * 60
    expected = [exact_equity(HELD, i, float(close)) for i, close in enumerate(CLOSES)]
    assert exact_curve(HELD, times, CLOSES) == list(zip(times.tolist(), expected, strict=True))
    assert exact_texts(HELD, CLOSES) == [decimal_text(value) for value in expected]


def test_the_sum_keeps_the_callers_28_digit_rounding() -> None:
    base, close = D("123456789.123456789012345678"), 12345.678901234567
    held = Holdings(D(0), np.array([0], dtype=np.int64), unit_array([D("1")]), unit_array([base]))
    reference = quantize_amount(D(1) + base * to_decimal(close))
    with localcontext() as wide:
        wide.prec = 80
        unrounded = quantize_amount(D(1) + base * to_decimal(close))
    assert reference != unrounded  # the product has more than 28 digits
    assert exact_texts(held, np.array([close])) == [decimal_text(reference)]
    assert exact_curve(held, np.array([0], dtype=np.int64), np.array([close])) == [(0, reference)]


def test_the_document_text_is_json_dumps_of_the_document() -> None:
    t0 = HOUR - 2 * MINUTE
    bars = [bar(t0 + i * MINUTE, 100, 100, 100, 100) for i in range(3)]
    bars += [bar(t0 + (3 + i) * MINUTE, 100 + i / 3, 101 + i, 99, 100.1 + i / 7) for i in range(9)]
    config = {"buy_amount": 100, "interval_minutes": 60, "take_profit_pct": 50}
    result = run_backtest(
        "simple_dca", config, arrays(bars), PRODUCT, D(1000), FEES, timeframe="1m"
    )
    assert result.fills  # the curve moves with the close
    points = [[t, decimal_text(v)] for t, v in result.equity_points()]
    assert equity_json(result) == points
    assert len({text for _, text in points}) > 5
    assert result_json_text(result) == json.dumps(result_json(result)) + "\n"


def test_the_document_written_in_pieces_is_the_same_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 5 points over 12 candles: the joins between pieces are exercised."""
    monkeypatch.setattr(report, "_BLOCK", 5)
    t0 = HOUR - 2 * MINUTE
    bars = [bar(t0 + i * MINUTE, 100 + i / 3, 101 + i, 99, 100.1 + i / 7) for i in range(12)]
    config = {"buy_amount": 100, "interval_minutes": 60, "take_profit_pct": 50}
    result = run_backtest(
        "simple_dca", config, arrays(bars), PRODUCT, D(1000), FEES, timeframe="1m"
    )
    handle = io.StringIO()
    write_result_json(result, handle)
    expected = json.dumps(result_json(result)) + "\n"
    assert len(result_json(result)["equity"]) == 12
    assert handle.getvalue() == expected
    assert result_json_text(result) == expected
