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


def test_sharpe_and_sortino_by_hand() -> None:
    # Returns +10 %, -10 %, +10 %: mean 1/30, sample variance 1/75, downside mean square
    # (0 + 0.01 + 0) / 3 = 1/300; a daily timeframe has 365 candles a year.
    curve = np.array([100.0, 110.0, 99.0, 108.9])
    per_year = candles_per_year(86_400)
    assert per_year == 365.0
    assert sharpe_ratio(curve, per_year) == pytest.approx(math.sqrt(75) / 30 * math.sqrt(365))
    assert sortino_ratio(curve, per_year) == pytest.approx(math.sqrt(300) / 30 * math.sqrt(365))
    assert candles_per_year(300) == 105_120.0


def test_ratios_are_none_where_undefined() -> None:
    flat = np.array([100.0, 100.0, 100.0])
    assert sharpe_ratio(flat, 365.0) is None
    assert sortino_ratio(flat, 365.0) is None
    rising = np.array([100.0, 101.0, 103.0])
    assert sortino_ratio(rising, 365.0) is None  # no downside at all
    assert sharpe_ratio(np.array([100.0, 101.0]), 365.0) is None  # one return: no deviation


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
        peak_committed=D("42.5"),
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
    assert (m.fills, m.fees_paid, m.funds_needed_peak) == (3, D("0.123"), D("42.5"))
    assert (m.candles, m.start, m.end) == (4, 0, 2400)
