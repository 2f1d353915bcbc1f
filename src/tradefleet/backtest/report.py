"""A backtest result as the documented JSON document and as rows for the terminal table.

The document is exactly ``{"metrics": {...}, "trades": [...], "equity": [[time, value]]}``:
Decimals are strings in plain notation ("0.0012", never "1.2E-3"), ratios are JSON
numbers (``null`` where undefined), times are unix seconds. ``equity`` pairs each traded
candle's open time with the exact equity at its close.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TextIO

from tradefleet.backtest.equity import exact_texts, plain_text
from tradefleet.backtest.equity_text import points_json_blocks
from tradefleet.backtest.metrics import Metrics
from tradefleet.backtest.runner import BacktestResult
from tradefleet.backtest.trade_text import trades_json
from tradefleet.domain import Fill

JsonValue = str | int | float | None
_BLOCK = 8192  # equity points per piece of JSON text


def decimal_text(value: Decimal) -> str:
    """Plain notation, trailing zeros stripped: Decimal("1E-8") -> "0.00000001"."""
    return plain_text(value)


def _json_value(value: object) -> JsonValue:
    if isinstance(value, Decimal):
        return decimal_text(value)
    if value is None or isinstance(value, str | int | float):
        return value
    raise TypeError(f"metric value {value!r} has no JSON form")


def metrics_json(metrics: Metrics) -> dict[str, JsonValue]:
    return {f.name: _json_value(getattr(metrics, f.name)) for f in fields(metrics)}


def trade_json(fill: Fill) -> dict[str, JsonValue]:
    return {
        "time": fill.time,
        "side": fill.side.value,
        "price": decimal_text(fill.price),
        "base_amount": decimal_text(fill.base_amount),
        "quote_amount": decimal_text(fill.quote_amount),
        "fee": decimal_text(fill.fee),
    }


def result_json(result: BacktestResult) -> dict[str, Any]:
    """The document ``tradefleet backtest --output`` writes."""
    return {
        "metrics": metrics_json(result.metrics),
        "trades": [trade_json(fill) for fill in result.fills],
        "equity": equity_json(result),
    }


def result_json_text(result: BacktestResult) -> str:
    """``json.dumps(result_json(result)) + "\\n"``, byte for byte, without the equity lists."""
    return "".join(result_json_chunks(result))


def write_result_json(result: BacktestResult, handle: TextIO) -> None:
    """Write ``result_json_text(result)`` piece by piece: the whole text is never held."""
    for chunk in result_json_chunks(result):
        handle.write(chunk)


def result_json_chunks(result: BacktestResult) -> Iterator[str]:
    """The pieces of ``result_json_text``, in order.

    A year of one-minute candles is half a million points: as one small list each they
    cost far more time and memory than their text, and even their text is tens of MB.
    Equity texts are plain decimals, so they need no JSON escaping.
    """
    metrics = json.dumps({"metrics": metrics_json(result.metrics)})
    columns = result.fill_columns
    trades = None if columns is None else trades_json(columns)  # without the Fill objects
    if trades is None:
        trades = json.dumps([trade_json(fill) for fill in result.fills])
    yield f'{metrics[:-1]}, "trades": {trades}, "equity": ['
    held, times, closes = result.holdings, result.times, result.closes
    fast = points_json_blocks(held, times, closes)
    if fast is not None:
        for i, piece in enumerate(fast):
            if i:
                yield ", "
            yield piece
        yield "]}\n"
        return
    texts = exact_texts(held, closes)
    for i in range(0, len(texts), _BLOCK):
        separator = ", " if i else ""
        yield separator + _points_text(times[i : i + _BLOCK].tolist(), texts[i : i + _BLOCK])
    yield "]}\n"


def _points_text(times: list[int], texts: list[str]) -> str:
    return ", ".join(f'[{time}, "{text}"]' for time, text in zip(times, texts, strict=True))


def equity_json(result: BacktestResult) -> list[list[int | str]]:
    """``[[candle open time, exact equity text]]``: ``equity_points`` in ``decimal_text``."""
    texts = exact_texts(result.holdings, result.closes)
    return [[time, text] for time, text in zip(result.times.tolist(), texts, strict=True)]


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} %"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    return f"{days}d {hours:02d}h {mins:02d}m" if days else f"{hours}h {mins:02d}m"


def _when(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, tz=UTC).strftime("%Y-%m-%d %H:%M")


def summary_rows(result: BacktestResult) -> list[tuple[str, str]]:
    """(label, value) rows for the results table, money in the quote currency."""
    m = result.metrics
    quote = result.product.quote_currency

    def money(value: Decimal) -> str:
        return f"{decimal_text(value)} {quote}"

    return [
        ("period (UTC)", f"{_when(m.start)} .. {_when(m.end)} ({m.candles} candles)"),
        ("budget", money(m.budget)),
        ("final equity", money(m.final_equity)),
        ("PnL", f"{money(m.pnl)} (realized {decimal_text(m.realized_pnl)})"),
        ("total return", _pct(m.total_return_pct)),
        ("buy and hold", _pct(m.buy_and_hold_return_pct)),
        ("deals", f"{m.deals} ({m.deals_closed} closed, {m.deals_open} open)"),
        ("win rate", _pct(m.win_rate_pct)),
        ("avg / max deal duration", f"{_duration(m.avg_deal_duration_seconds)} / "
         f"{_duration(m.max_deal_duration_seconds)}"),
        ("max safety orders used", str(m.max_safety_orders_used)),
        ("max drawdown", _pct(m.max_drawdown_pct)),
        ("Sharpe / Sortino", f"{_ratio(m.sharpe)} / {_ratio(m.sortino)}"),
        ("exposure", _pct(m.exposure_pct)),
        ("fills / fees paid", f"{m.fills} / {money(m.fees_paid)}"),
        ("funds needed at peak", money(m.funds_needed_peak)),
    ]  # fmt: skip
