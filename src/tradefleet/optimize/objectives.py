"""What the optimiser maximises, computed from a backtest's metrics (``backtest.metrics``).

- ``sharpe``: the backtest's annualised Sharpe ratio. It is undefined for a flat equity
  curve (no trade, or fewer than three candles); that counts as 0, what holding cash
  earns, so a config that never trades beats one that loses and loses to one that wins.
- ``profit``: total return % over the window.
- ``calmar``: total return % / max drawdown %, over the window (not annualised, so
  windows of different lengths are not directly comparable). A drawdown below
  ``CALMAR_DRAWDOWN_FLOOR_PCT`` counts as that floor: a curve that barely dipped would
  otherwise divide by almost nothing and rank a 0.1 % gain above a steady 40 %.
  With no drawdown at all the value is the return / 1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

from tradefleet.backtest.metrics import Metrics

ObjectiveName = Literal["sharpe", "profit", "calmar"]
OBJECTIVES: tuple[str, ...] = get_args(ObjectiveName)
CALMAR_DRAWDOWN_FLOOR_PCT = 1.0


@dataclass(frozen=True, slots=True)
class Score:
    """One backtest judged: the objective plus the figures the results table shows."""

    objective: float
    return_pct: float
    max_drawdown_pct: float
    deals: int
    sharpe: float | None

    def to_attr(self) -> dict[str, Any]:
        """JSON-ready, for the trial's stored attributes."""
        return asdict(self)

    @classmethod
    def from_attr(cls, value: dict[str, Any]) -> Score:
        return cls(
            objective=float(value["objective"]),
            return_pct=float(value["return_pct"]),
            max_drawdown_pct=float(value["max_drawdown_pct"]),
            deals=int(value["deals"]),
            sharpe=None if value["sharpe"] is None else float(value["sharpe"]),
        )


def calmar(return_pct: float, max_drawdown_pct: float) -> float:
    return return_pct / max(max_drawdown_pct, CALMAR_DRAWDOWN_FLOOR_PCT)


def objective_value(objective: ObjectiveName, metrics: Metrics) -> float:
    if objective == "sharpe":
        return 0.0 if metrics.sharpe is None else metrics.sharpe
    if objective == "profit":
        return metrics.total_return_pct
    return calmar(metrics.total_return_pct, metrics.max_drawdown_pct)


def score(objective: ObjectiveName, metrics: Metrics) -> Score:
    return Score(
        objective=objective_value(objective, metrics),
        return_pct=metrics.total_return_pct,
        max_drawdown_pct=metrics.max_drawdown_pct,
        deals=metrics.deals,
        sharpe=metrics.sharpe,
    )
