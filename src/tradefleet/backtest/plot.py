"""Charts of a backtest: price with buy/sell markers above, the equity curve below.

``.html`` is one self-contained file (inline SVG, no script, no CDN), so it opens offline
and can be mailed around; ``.png`` needs matplotlib (``pip install 'tradefleet[plot]'``).
Long runs are drawn from a min/max envelope of at most ``MAX_POINTS`` buckets, so every
spike stays visible while the file stays small.
"""

from __future__ import annotations

import html
import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from tradefleet.backtest.report import decimal_text, summary_rows
from tradefleet.backtest.runner import BacktestResult
from tradefleet.domain import FloatArray, IntArray, Side

MAX_POINTS = 1500
WIDTH, PRICE_HEIGHT, EQUITY_HEIGHT, MARGIN = 1000, 360, 200, 60


class PlotError(ValueError):
    """The chart cannot be written (unknown format, missing optional dependency)."""


def write_plot(result: BacktestResult, path: Path) -> None:
    """Write the chart in the format the file name asks for."""
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        path.write_text(render_html(result), encoding="utf-8")
    elif suffix == ".png":
        _write_png(result, path)
    else:
        raise PlotError(f"--plot {path}: use a .html or .png file name")


def envelope(
    times: IntArray, values: FloatArray, buckets: int = MAX_POINTS
) -> list[tuple[int, float]]:
    """The series itself when short, else each bucket's min and max in time order."""
    if len(values) <= 2 * buckets:
        return list(zip(times.tolist(), values.tolist(), strict=True))
    points: list[tuple[int, float]] = []
    for chunk in np.array_split(np.arange(len(values)), buckets):
        lo, hi = chunk[np.argmin(values[chunk])], chunk[np.argmax(values[chunk])]
        for index in sorted({int(lo), int(hi)}):
            points.append((int(times[index]), float(values[index])))
    return points


@dataclass(frozen=True, slots=True)
class _Frame:
    """Maps (time, value) into one panel's pixel box."""

    t0: float
    t1: float
    v0: float
    v1: float
    top: float
    height: float

    def x(self, t: float) -> float:
        span = self.t1 - self.t0 or 1.0
        return MARGIN + (t - self.t0) / span * (WIDTH - 2 * MARGIN)

    def y(self, v: float) -> float:
        span = self.v1 - self.v0 or 1.0
        return self.top + self.height - (v - self.v0) / span * self.height


def _frame(times: IntArray, low: float, high: float, top: float, height: float) -> _Frame:
    pad = (high - low) * 0.05 or abs(high) * 0.01 or 1.0
    return _Frame(float(times[0]), float(times[-1]), low - pad, high + pad, top, height)


def _polyline(frame: _Frame, points: Sequence[tuple[int, float]], color: str) -> str:
    coords = " ".join(f"{frame.x(t):.1f},{frame.y(v):.1f}" for t, v in points)
    return f'<polyline fill="none" stroke="{color}" stroke-width="1.2" points="{coords}"/>'


def _labels(frame: _Frame, title: str, low: float, high: float) -> str:
    left, right = MARGIN, WIDTH - MARGIN
    bottom = frame.top + frame.height
    return (
        f'<rect x="{left}" y="{frame.top}" width="{right - left}" height="{frame.height}" '
        'fill="none" stroke="#ccc"/>'
        f'<text x="{left}" y="{frame.top - 6}" font-weight="bold">{html.escape(title)}</text>'
        f'<text x="{left - 4}" y="{frame.y(high):.1f}" text-anchor="end">{high:.6g}</text>'
        f'<text x="{left - 4}" y="{frame.y(low):.1f}" text-anchor="end">{low:.6g}</text>'
        f'<text x="{left}" y="{bottom + 14}">{_when(frame.t0)}</text>'
        f'<text x="{right}" y="{bottom + 14}" text-anchor="end">{_when(frame.t1)}</text>'
    )


def _when(unix_seconds: float) -> str:
    return datetime.fromtimestamp(unix_seconds, tz=UTC).strftime("%Y-%m-%d %H:%M")


def _markers(result: BacktestResult, frame: _Frame) -> str:
    marks: list[str] = []
    for fill in result.fills:
        x, y = frame.x(fill.time), frame.y(float(fill.price))
        buy = fill.side is Side.BUY
        shape = f"{x - 5:.1f},{y + 9:.1f} {x + 5:.1f},{y + 9:.1f} {x:.1f},{y + 1:.1f}"
        if not buy:
            shape = f"{x - 5:.1f},{y - 9:.1f} {x + 5:.1f},{y - 9:.1f} {x:.1f},{y - 1:.1f}"
        tip = (
            f"{fill.side.value} {decimal_text(fill.base_amount)} at {decimal_text(fill.price)} "
            f"({_when(fill.time)})"
        )
        marks.append(
            f'<polygon points="{shape}" fill="{"#1a9850" if buy else "#d73027"}">'
            f"<title>{html.escape(tip)}</title></polygon>"
        )
    return "".join(marks)


def render_svg(result: BacktestResult) -> str:
    """Both panels as one SVG element."""
    times, closes, equity = result.times, result.closes, result.equity
    fill_prices = [float(fill.price) for fill in result.fills]
    p_low = min([float(np.min(closes)), *fill_prices])
    p_high = max([float(np.max(closes)), *fill_prices])
    price = _frame(times, p_low, p_high, 30, PRICE_HEIGHT)
    e_low, e_high = float(np.min(equity)), float(np.max(equity))
    eq = _frame(times, e_low, e_high, 30 + PRICE_HEIGHT + 50, EQUITY_HEIGHT)
    quote = result.product.quote_currency
    height = 30 + PRICE_HEIGHT + 50 + EQUITY_HEIGHT + 30
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        'font-family="sans-serif" font-size="11">'
        + _labels(price, f"{result.product.product_id} close", p_low, p_high)
        + _polyline(price, envelope(times, closes), "#4575b4")
        + _markers(result, price)
        + _labels(eq, f"equity ({quote})", e_low, e_high)
        + _polyline(eq, envelope(times, equity), "#762a83")
        + "</svg>"
    )


def render_html(result: BacktestResult) -> str:
    """A standalone page: the summary table and the chart."""
    rows = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in summary_rows(result)
    )
    run = f"{result.strategy_id} on {result.product.product_id}"
    title = html.escape(f"Backtest: {run} ({len(result.times)} candles)")
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>"
        "body{font-family:sans-serif;margin:20px}th{text-align:left;padding-right:16px}"
        "td,th{font-size:13px}</style></head><body>"
        f"<h2>{title}</h2><table>{rows}</table>"
        "<p>Green triangles: buys; red: sells (hover for details).</p>"
        f"{render_svg(result)}</body></html>\n"
    )


def _pyplot() -> Any:
    try:
        matplotlib = importlib.import_module("matplotlib")
    except ImportError:
        raise PlotError(
            "PNG plots need matplotlib: pip install 'tradefleet[plot]' (or use --plot out.html)"
        ) from None
    matplotlib.use("Agg")
    return importlib.import_module("matplotlib.pyplot")


def _write_png(result: BacktestResult, path: Path) -> None:
    plt = _pyplot()
    dates = [datetime.fromtimestamp(int(t), tz=UTC) for t in result.times]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(12, 7), sharex=True, height_ratios=[2, 1])
    top.plot(dates, result.closes, color="#4575b4", linewidth=0.8)
    for side, color, marker in ((Side.BUY, "#1a9850", "^"), (Side.SELL, "#d73027", "v")):
        chosen = [fill for fill in result.fills if fill.side is side]
        top.scatter(
            [datetime.fromtimestamp(fill.time, tz=UTC) for fill in chosen],
            [float(fill.price) for fill in chosen],
            color=color,
            marker=marker,
            s=24,
            label=side.value,
            zorder=3,
        )
    top.set_title(f"{result.strategy_id} on {result.product.product_id}")
    top.legend(loc="upper left")
    bottom.plot(dates, result.equity, color="#762a83", linewidth=0.9)
    bottom.set_ylabel(f"equity ({result.product.quote_currency})")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
