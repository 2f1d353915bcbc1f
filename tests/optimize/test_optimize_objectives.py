"""The objectives, worked out by hand from a backtest's metrics."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tradefleet.backtest.metrics import Metrics
from tradefleet.optimize.objectives import Score, calmar, objective_value, score

METRICS = Metrics(
    start=0, end=300, candles=1, budget=Decimal(1000), final_equity=Decimal(1120),
    pnl=Decimal(120), realized_pnl=Decimal(120), unrealized_pnl=Decimal(0),
    total_return_pct=12.0, buy_and_hold_return_pct=5.0, deals=3, deals_closed=3, deals_open=0,
    win_rate_pct=100.0, avg_deal_duration_seconds=600.0, max_deal_duration_seconds=900,
    max_safety_orders_used=0, max_drawdown_pct=4.0, sharpe=1.75, sortino=2.5,
    exposure_pct=50.0, fills=6, fees_paid=Decimal(3), funds_needed_peak=Decimal(500),
)  # fmt: skip


def test_sharpe_is_the_metric_and_zero_when_undefined() -> None:
    assert objective_value("sharpe", METRICS) == 1.75
    assert objective_value("sharpe", replace(METRICS, sharpe=None)) == 0.0


def test_profit_is_the_total_return_pct() -> None:
    assert objective_value("profit", METRICS) == 12.0
    assert objective_value("profit", replace(METRICS, total_return_pct=-3.5)) == -3.5


def test_calmar_divides_by_the_drawdown_floored_at_one_pct() -> None:
    assert objective_value("calmar", METRICS) == 3.0  # 12 / 4
    assert calmar(12.0, 0.5) == 12.0  # 12 / max(0.5, 1)
    assert calmar(12.0, 0.0) == 12.0  # never fell: 12 / 1, not infinity
    assert calmar(0.0, 0.0) == 0.0  # never traded
    assert calmar(-6.0, 8.0) == -0.75


def test_score_carries_the_table_figures_and_survives_storage() -> None:
    judged = score("calmar", METRICS)
    assert judged == Score(objective=3.0, return_pct=12.0, max_drawdown_pct=4.0, deals=3,
                           sharpe=1.75)  # fmt: skip
    assert Score.from_attr(judged.to_attr()) == judged
    flat = score("sharpe", replace(METRICS, sharpe=None))
    assert Score.from_attr(flat.to_attr()).sharpe is None
