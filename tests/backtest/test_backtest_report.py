"""The JSON forms, the terminal table and the chart's down-sampling."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from tests.backtest.backtest_testkit import FEES, HOUR, MINUTE, PRODUCT, arrays, bar

from tradefleet.backtest.plot import envelope, render_html
from tradefleet.backtest.report import decimal_text, metrics_json, summary_rows, trade_json
from tradefleet.backtest.runner import BacktestResult, run_backtest
from tradefleet.domain import Fill, Side

D = Decimal


def test_decimals_are_plain_strings() -> None:
    assert decimal_text(D("1E-8")) == "0.00000001"
    assert decimal_text(D("1E+3")) == "1000"
    assert decimal_text(D("0.50000")) == "0.5"
    assert decimal_text(D("-11.073160")) == "-11.07316"
    fill = Fill("c", 60, Side.SELL, D("102.00"), D("0.99403578"), D("101.3916495600"), D("0.4"))
    assert trade_json(fill) == {
        "time": 60,
        "side": "sell",
        "price": "102",
        "base_amount": "0.99403578",
        "quote_amount": "101.39164956",
        "fee": "0.4",
    }


def _result() -> BacktestResult:
    t0 = HOUR - 2 * MINUTE
    bars = [bar(t0 + i * MINUTE, 100, 100, 100, 100) for i in range(3)]
    bars += [bar(t0 + 3 * MINUTE, 100, 100, 100, 100), bar(t0 + 90 * MINUTE, 103, 103, 103, 103)]
    config = {"buy_amount": 100, "interval_minutes": 60, "take_profit_pct": 2}
    return run_backtest("simple_dca", config, arrays(bars), PRODUCT, D(1000), FEES, timeframe="1m")


def test_metrics_json_and_table_rows() -> None:
    result = _result()
    document = metrics_json(result.metrics)
    assert document["budget"] == "1000"
    assert document["win_rate_pct"] == 100.0
    assert document["avg_deal_duration_seconds"] == 87 * 60
    rows = dict(summary_rows(result))
    assert rows["budget"] == "1000 USD"
    assert rows["avg / max deal duration"] == "1h 27m / 1h 27m"
    assert rows["deals"] == "1 (1 closed, 0 open)"
    assert rows["win rate"] == "100.00 %"


def test_the_html_page_carries_the_summary() -> None:
    page = render_html(_result())
    assert page.startswith("<!DOCTYPE html>")
    # the buy: 100 / (100 x 1.006) -> 0.9940 base, 99.40 + fee 0.5964 paid out
    assert "<th>funds needed at peak</th><td>99.9964 USD</td>" in page
    assert page.count("<polygon") == 2


def test_the_envelope_keeps_every_extreme() -> None:
    times = np.arange(10_000, dtype=np.int64)
    values = np.sin(times / 50.0)
    values[7777] = 5.0
    points = envelope(times, values, buckets=100)
    assert len(points) <= 200
    assert (7777, 5.0) in points
    assert min(v for _, v in points) == float(values.min())
    assert [t for t, _ in points] == sorted(t for t, _ in points)
    short = envelope(times[:5], values[:5], buckets=100)
    assert short == list(zip(range(5), values[:5].tolist(), strict=True))
