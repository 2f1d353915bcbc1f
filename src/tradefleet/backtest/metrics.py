"""Backtest metrics: pure functions of the fills, deals and equity curve.

Money is exact ``Decimal`` (quote currency); ratios and percentages are floats, ``None``
where undefined (no closed deal, a flat curve). Definitions:

- *total return %* = (final equity - budget) / budget x 100; *PnL* = final equity - budget,
  split into realized (closed deals) and unrealized (open deals at the last close, before
  the fee of selling them). Equity is defined in ``equity``.
- *buy and hold %* = (last close - first open) / first open x 100 over the traded candles.
- *deals* = closed deals + open deals that bought something; *win rate* = closed deals
  with realized PnL > 0 / closed deals x 100.
- *deal duration* = closed_at - opened_at (first buy fill to closing fill), closed deals.
- *max safety orders used* = the most safety orders filled in one deal (any deal).
- *max drawdown %* = the largest fall from a running peak of the equity curve, in % of
  that peak (the budget counts as the first peak).
- *Sharpe* = mean / sample standard deviation (ddof 1) of the per-candle log returns
  r_i = ln(e_i / e_(i-1)) of the equity curve e_0 = budget, e_1.. = equity at each
  candle's close, x sqrt(candles per year); *Sortino* = mean / downside deviation x
  sqrt(candles per year), downside deviation = sqrt(mean(min(r, 0)^2)) over all
  returns. The log returns sum to ln(final equity / budget), so their mean has the sign
  of the total return: a losing run never shows a positive ratio (simple returns can,
  by volatility drag). Equity never goes below zero (a bot never loses more than its
  budget); a curve that reaches zero has no ratios. Risk-free rate 0; a year is 365
  days (crypto trades every day), so a 5m backtest has 105,120 candles per year.
- *exposure %* = candles at whose close the bot holds base / traded candles x 100.
- *fees paid* = the sum of every fill's fee.
- *funds needed at peak* = the most net quote the bot had paid out at any moment: the
  running sum, fill by fill in execution order, of buys (gross + fee) minus sells
  (gross - fee), never below 0. It never exceeds the budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from tradefleet.backtest.columns import DealColumns, FillColumns
from tradefleet.backtest.units import from_units, total
from tradefleet.domain import BoolArray, FloatArray

SECONDS_PER_YEAR = 365 * 86_400
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Metrics:
    """Everything ``tradefleet backtest`` reports (see the module docstring)."""

    start: int  # open time of the first traded candle
    end: int  # close time of the last traded candle
    candles: int
    budget: Decimal
    final_equity: Decimal
    pnl: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    total_return_pct: float
    buy_and_hold_return_pct: float
    deals: int
    deals_closed: int
    deals_open: int
    win_rate_pct: float | None
    avg_deal_duration_seconds: float | None
    max_deal_duration_seconds: int | None
    max_safety_orders_used: int
    max_drawdown_pct: float
    sharpe: float | None
    sortino: float | None
    exposure_pct: float
    fills: int
    fees_paid: Decimal
    funds_needed_peak: Decimal


def percent_change(before: Decimal, after: Decimal) -> float:
    """(after - before) / before in percent."""
    if before <= 0:
        raise ValueError(f"a percentage change needs a positive start, got {before}")
    return float((after - before) / before * _HUNDRED)


def buy_and_hold_pct(first_open: float, last_close: float) -> float:
    return (last_close - first_open) / first_open * 100.0


def win_rate_pct(deals: DealColumns) -> float | None:
    closed = int(np.count_nonzero(deals.closed))
    if not closed:
        return None
    wins = int(np.count_nonzero((deals.realized > 0).astype(np.bool_) & deals.closed))
    return wins / closed * 100.0


def durations(deals: DealColumns) -> list[int]:
    spans: list[int] = (deals.closed_at - deals.opened_at)[deals.closed].tolist()
    return spans


def max_drawdown_pct(equity: FloatArray) -> float:
    """Largest fall from a running peak, in % of that peak (0 for a curve that never falls)."""
    if equity.size == 0:
        return 0.0
    peaks = np.maximum.accumulate(equity)
    return float(np.max((peaks - equity) / peaks) * 100.0)


def candles_per_year(tf_seconds: int) -> float:
    return SECONDS_PER_YEAR / tf_seconds


def returns(equity: FloatArray) -> FloatArray | None:
    """Per-candle log returns of the curve (one fewer than its points); ``None`` when it
    reaches zero, where a return is undefined."""
    if equity.size and float(equity.min()) <= 0.0:
        return None
    out: FloatArray = np.diff(np.log(equity))
    return out


def peak_paid_out(fills: FillColumns) -> Decimal:
    """The most net quote paid out at any moment, fill by fill (see the module docstring)."""
    if not len(fills):
        return Decimal(0)
    flows = np.where(fills.buy, fills.quote + fills.fee, fills.fee - fills.quote)
    peak = max(0, int(np.cumsum(flows).max()))
    return from_units(peak, fills.scale)


def sharpe_ratio(
    equity: FloatArray, periods_per_year: float, r: FloatArray | None = None
) -> float | None:
    """``r``: the curve's ``returns``, when the caller has them already."""
    r = returns(equity) if r is None else r
    if r is None or r.size < 2:
        return None
    deviation = float(np.std(r, ddof=1))
    if deviation == 0.0:
        return None
    return float(np.mean(r)) / deviation * math.sqrt(periods_per_year)


def sortino_ratio(
    equity: FloatArray, periods_per_year: float, r: FloatArray | None = None
) -> float | None:
    r = returns(equity) if r is None else r
    if r is None or r.size < 1:
        return None
    downside = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2)))
    if downside == 0.0:
        return None
    return float(np.mean(r)) / downside * math.sqrt(periods_per_year)


def exposure_pct(holding: BoolArray) -> float:
    return float(np.count_nonzero(holding)) / holding.size * 100.0 if holding.size else 0.0


@dataclass(frozen=True, slots=True)
class MetricsInput:
    """What ``compute_metrics`` reads; ``equity`` and ``holding`` have one entry per candle."""

    budget: Decimal
    fills: FillColumns
    deals: DealColumns
    equity: FloatArray
    holding: BoolArray
    final_equity: Decimal
    first_open: float
    last_close: float
    start: int
    end: int
    tf_seconds: int


def compute_metrics(data: MetricsInput) -> Metrics:
    deals = data.deals
    closed = int(np.count_nonzero(deals.closed))
    still_open = int(np.count_nonzero(~deals.closed & deals.holds))
    realized = from_units(total(deals.realized[deals.closed]), deals.scale)
    pnl = data.final_equity - data.budget
    spans = durations(deals)
    curve = np.concatenate(([float(data.budget)], data.equity))  # from the budget on
    per_candle = returns(curve)
    per_year = candles_per_year(data.tf_seconds)
    return Metrics(
        start=data.start,
        end=data.end,
        candles=int(data.equity.size),
        budget=data.budget,
        final_equity=data.final_equity,
        pnl=pnl,
        realized_pnl=realized,
        unrealized_pnl=pnl - realized,
        total_return_pct=percent_change(data.budget, data.final_equity),
        buy_and_hold_return_pct=buy_and_hold_pct(data.first_open, data.last_close),
        deals=closed + still_open,
        deals_closed=closed,
        deals_open=still_open,
        win_rate_pct=win_rate_pct(deals),
        avg_deal_duration_seconds=sum(spans) / len(spans) if spans else None,
        max_deal_duration_seconds=max(spans) if spans else None,
        max_safety_orders_used=int(deals.safety_orders.max(initial=0)),
        max_drawdown_pct=max_drawdown_pct(curve),
        sharpe=sharpe_ratio(curve, per_year, per_candle),
        sortino=sortino_ratio(curve, per_year, per_candle),
        exposure_pct=exposure_pct(data.holding),
        fills=len(data.fills),
        fees_paid=from_units(total(data.fills.fee), data.fills.scale),
        funds_needed_peak=peak_paid_out(data.fills),
    )
