"""Each metric worked out by hand on a tiny series."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from tradefleet.backtest.columns import DealColumns, FillColumns
from tradefleet.backtest.engines import DealSummary
from tradefleet.backtest.metrics import (
    MetricsInput,
    buy_and_hold_pct,
    candles_per_year,
    compute_metrics,
    durations,
    exposure_pct,
    max_drawdown_pct,
    peak_paid_out,
    percent_change,
    sharpe_ratio,
    sortino_ratio,
    win_rate_pct,
)
from tradefleet.domain import Fill, Side

D = Decimal


def _deal(
    seq: int, pnl: str | None, opened: int, closed: int | None, safety: int = 0
) -> DealSummary:
    return DealSummary(
        seq=seq,
        status="open" if closed is None else "closed",
        opened_at=opened,
        closed_at=closed,
        close_reason=None if closed is None else "take_profit",
        base_amount=D(0) if closed is not None else D(1),
        bought_base=D(1),
        bought_quote=D(10),
        buy_fees=D(0),
        sold_base=D(0),
        sold_quote=D(0),
        sell_fees=D(0),
        average_entry_price=D(10),
        safety_orders_filled=safety,
        adds_filled=0,
        realized_pnl=None if pnl is None else D(pnl),
    )


def _fill(fee: str) -> Fill:
    return Fill("x", 0, Side.BUY, D(1), D(1), D(1), D(fee))


def test_percent_change_and_buy_and_hold() -> None:
    assert percent_change(D(200), D(230)) == 15.0
    assert percent_change(D("0.1"), D("0.09")) == pytest.approx(-10.0)
    with pytest.raises(ValueError, match="positive start"):
        percent_change(D(0), D(1))
    assert buy_and_hold_pct(50.0, 55.0) == pytest.approx(10.0)


def test_win_rate_counts_strictly_positive_deals() -> None:
    closed = [
        _deal(1, "1", 0, 60),
        _deal(2, "0", 0, 60),
        _deal(3, "-2", 0, 60),
        _deal(4, "3", 0, 60),
    ]
    assert win_rate_pct(DealColumns.of(closed)) == 50.0
    assert win_rate_pct(DealColumns.of([])) is None
    # An open deal counts neither as a win nor as a closed deal.
    assert win_rate_pct(DealColumns.of([*closed, _deal(5, None, 0, None)])) == 50.0


def test_durations_of_closed_deals() -> None:
    deals = [_deal(1, "1", 100, 400), _deal(2, "1", 1000, 1060), _deal(3, None, 50, None)]
    assert durations(DealColumns.of(deals)) == [300, 60]


def test_max_drawdown_is_the_largest_fall_from_a_running_peak() -> None:
    # Peaks 100, 120, 120, 130, 130: falls 0, 0, 30/120, 0, 13/130 -> 25 %.
    assert max_drawdown_pct(np.array([100.0, 120.0, 90.0, 130.0, 117.0])) == pytest.approx(25.0)
    assert max_drawdown_pct(np.array([1.0, 2.0, 3.0])) == 0.0
    assert max_drawdown_pct(np.array([], dtype=np.float64)) == 0.0
    # The budget before the first candle is the first peak: 100 -> 99 -> 98 is 2 %.
    assert max_drawdown_pct(np.array([100.0, 99.0, 98.0])) == pytest.approx(2.0)


def test_sharpe_and_sortino_by_hand() -> None:
    # Log returns a = ln 1.1, b = ln 0.9, a: mean m = (2a + b) / 3, sample variance
    # ((a - m)^2 x 2 + (b - m)^2) / 2, downside mean square b^2 / 3; a daily timeframe
    # has 365 candles a year.
    curve = np.array([100.0, 110.0, 99.0, 108.9])
    a, b = math.log(1.1), math.log(0.9)
    mean = (2 * a + b) / 3
    deviation = math.sqrt((2 * (a - mean) ** 2 + (b - mean) ** 2) / 2)
    per_year = candles_per_year(86_400)
    assert per_year == 365.0
    assert sharpe_ratio(curve, per_year) == pytest.approx(mean / deviation * math.sqrt(365))
    downside = math.sqrt(b * b / 3)
    assert sortino_ratio(curve, per_year) == pytest.approx(mean / downside * math.sqrt(365))
    assert candles_per_year(300) == 105_120.0


def test_a_losing_curve_never_has_a_positive_ratio() -> None:
    # +50 % then -40 %: the simple returns average +5 % (a positive Sharpe), but the
    # curve lost 10 %. Log returns: ln 1.5 + ln 0.6 = ln 0.9 < 0.
    curve = np.array([100.0, 150.0, 90.0])
    sharpe = sharpe_ratio(curve, 365.0)
    sortino = sortino_ratio(curve, 365.0)
    assert sharpe is not None and sharpe < 0
    assert sortino is not None and sortino < 0
    # A curve that reaches zero (everything lost) has no ratios.
    assert sharpe_ratio(np.array([100.0, 50.0, 0.0]), 365.0) is None
    assert sortino_ratio(np.array([100.0, 50.0, 0.0]), 365.0) is None


def test_ratios_are_none_where_undefined() -> None:
    flat = np.array([100.0, 100.0, 100.0])
    assert sharpe_ratio(flat, 365.0) is None
    assert sortino_ratio(flat, 365.0) is None
    rising = np.array([100.0, 101.0, 103.0])
    assert sortino_ratio(rising, 365.0) is None  # no downside at all
    assert sharpe_ratio(np.array([100.0, 101.0]), 365.0) is None  # one return: no deviation


def test_funds_needed_is_the_peak_of_the_net_quote_paid_out() -> None:
    # buy 10 + 0.1 (paid 10.1), sell 12 - 0.12 (paid -1.78), buy 5 + 0.05 (3.27),
    # buy 8 + 0.08 (11.35): the peak is 11.35, after the last fill, not the first 10.1.
    fills = [
        Fill("a", 0, Side.BUY, D(1), D(10), D(10), D("0.1")),
        Fill("b", 60, Side.SELL, D(1), D(10), D(12), D("0.12")),
        Fill("c", 120, Side.BUY, D(1), D(5), D(5), D("0.05")),
        Fill("d", 180, Side.BUY, D(1), D(8), D(8), D("0.08")),
    ]
    assert peak_paid_out(FillColumns.of(fills)) == D("11.35")
    assert peak_paid_out(FillColumns.of(fills[:2])) == D("10.1")
    assert peak_paid_out(FillColumns.of([])) == D(0)


def test_exposure_is_the_share_of_candles_holding_base() -> None:
    assert exposure_pct(np.array([False, True, True, False])) == 50.0
    assert exposure_pct(np.array([], dtype=np.bool_)) == 0.0


def test_compute_metrics_puts_it_together() -> None:
    deals = [
        _deal(1, "0.5", 0, 600, safety=2),
        _deal(2, "-0.25", 600, 1800, safety=1),
        _deal(3, None, 2400, None, safety=3),
    ]
    data = MetricsInput(
        budget=D(100),
        fills=FillColumns.of([_fill("0.1"), _fill("0.02"), _fill("0.003")]),
        deals=DealColumns.of(deals),
        equity=np.array([100.0, 101.0, 100.5, 100.75]),
        holding=np.array([False, True, True, True]),
        final_equity=D("100.75"),
        first_open=10.0,
        last_close=12.0,
        start=0,
        end=2400,
        tf_seconds=600,
    )
    m = compute_metrics(data)
    assert (m.pnl, m.realized_pnl, m.unrealized_pnl) == (D("0.75"), D("0.25"), D("0.50"))
    assert m.total_return_pct == pytest.approx(0.75)
    assert m.buy_and_hold_return_pct == pytest.approx(20.0)
    assert (m.deals, m.deals_closed, m.deals_open, m.win_rate_pct) == (3, 2, 1, 50.0)
    assert (m.avg_deal_duration_seconds, m.max_deal_duration_seconds) == (900.0, 1200)
    assert m.max_safety_orders_used == 3
    assert m.max_drawdown_pct == pytest.approx(0.5 / 101 * 100)
    assert m.exposure_pct == 75.0
    # Three buys of 1 quote: paid out 1.1, then 2.12, then 3.123.
    assert (m.fills, m.fees_paid, m.funds_needed_peak) == (3, D("0.123"), D("3.123"))
    assert (m.candles, m.start, m.end) == (4, 0, 2400)
