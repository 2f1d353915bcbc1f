"""The optimiser's terminal output: the best configs with in- and out-of-sample figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from rich import box
from rich.console import Console
from rich.table import Table

from tradefleet.domain import CandleArrays
from tradefleet.market.base import timeframe_seconds
from tradefleet.optimize.evaluate import Failure, Outcome
from tradefleet.optimize.runner import FoldResult, OptimizeRequest, OptimizeResult
from tradefleet.optimize.search import SearchStats
from tradefleet.optimize.windows import Window

NO_VALUE = "-"
FIGURES = ("obj", "ret %", "DD %", "deals")
LEGEND = "obj = objective, ret = total return, DD = max drawdown"


def period(candles: CandleArrays, window: Window, tf_seconds: int) -> str:
    """``2024-01-01 00:00 .. 2024-09-13 00:00`` (UTC, end exclusive)."""
    first = int(candles.time[window.begin])
    end = int(candles.time[window.end - 1]) + tf_seconds
    return f"{_iso(first)} .. {_iso(end)}"


def value_text(value: object) -> str:
    """A parameter value as JSON would write it, floats to six significant digits."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def fold_table(result: FoldResult, candles: CandleArrays, tf_seconds: int, title: str) -> Table:
    """One row per best config: train (IS) and test (OOS) objective, return, drawdown, deals.

    The configs themselves are listed under the table (``config_lines``): as a column they
    would crush the figures on an 80-column terminal.
    """
    fold = result.fold
    table = Table(
        title=title,
        caption=f"IS = in sample: {period(candles, fold.train, tf_seconds)}\n"
        f"OOS = out of sample: {period(candles, fold.test, tf_seconds)}\n{LEGEND}",
        box=box.SIMPLE_HEAD,
    )
    for label in ("#", "trial"):
        table.add_column(label, justify="right")
    for side in ("IS", "OOS"):
        for label in FIGURES:
            table.add_column(f"{side}\n{label}", justify="right")
    for rank, ranked in enumerate(result.best, 1):
        table.add_row(
            str(rank), str(ranked.trial_number), *_figures(ranked.train), *_figures(ranked.test)
        )
    return table


def config_lines(result: FoldResult) -> list[str]:
    """``#1 rsi_period=14 oversold=28.5 …``: the searched values of each row."""
    return [
        f"#{rank} " + " ".join(f"{name}={value_text(v)}" for name, v in ranked.params.items())
        for rank, ranked in enumerate(result.best, 1)
    ]


def walk_forward_table(result: OptimizeResult) -> Table:
    """Each fold's chosen config out of sample, and the folds chained together."""
    table = Table(
        title="walk-forward: each fold's best config on the window after it",
        caption=LEGEND + "; the test periods are under each fold's table",
        box=box.SIMPLE_HEAD,
    )
    for label in ("fold", "trial", "IS\nobj", *(f"OOS\n{label}" for label in FIGURES)):
        table.add_column(label, justify="right")
    growth, objectives = 1.0, []
    for fold in result.folds:
        if not fold.best:
            table.add_row(str(fold.fold.number), NO_VALUE)
            continue
        best = fold.best[0]
        table.add_row(
            str(fold.fold.number), str(best.trial_number), f"{best.train.objective:.4g}",
            *_figures(best.test),
        )  # fmt: skip
        if not isinstance(best.test, Failure):
            growth *= 1 + best.test.return_pct / 100
            objectives.append(best.test.objective)
    if objectives:
        mean = sum(objectives) / len(objectives)
        table.add_section()
        table.add_row("all", "", "", f"{mean:.4g}\n(mean)", f"{(growth - 1) * 100:.2f}\n(chained)")
    return table


def stats_line(stats: SearchStats) -> str:
    """How many trials ran, were pruned or failed, and where the time went."""
    parts = [f"{stats.evaluated} trials backtested"]
    if stats.repeated:
        parts[0] += f" ({stats.repeated} repeated configs scored from memory)"
    if stats.invalid:
        parts.append(f"{stats.invalid} invalid proposals pruned (e.g. {stats.first_invalid})")
    if stats.failed:
        parts.append(f"{stats.failed} failed (e.g. {stats.first_failure})")
    rate = stats.evaluated / stats.wall_seconds if stats.wall_seconds else 0.0
    parts.append(
        f"{stats.wall_seconds:.1f} s, {rate:.1f} trials/s, sampler "
        f"{stats.sampler_seconds:.1f} s ({_share(stats):.0f} %)"
    )
    if stats.stopped_early:
        parts.append("stopped early: the sampler kept proposing invalid configs")
    return "; ".join(parts)


def _share(stats: SearchStats) -> float:
    return stats.sampler_seconds / stats.wall_seconds * 100 if stats.wall_seconds else 0.0


def _figures(outcome: Outcome) -> tuple[str, str, str, str]:
    if isinstance(outcome, Failure):
        return ("failed", NO_VALUE, NO_VALUE, NO_VALUE)
    return (
        f"{outcome.objective:.4g}",
        f"{outcome.return_pct:.2f}",
        f"{outcome.max_drawdown_pct:.2f}",
        str(outcome.deals),
    )


def _iso(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, tz=UTC).strftime("%Y-%m-%d %H:%M")


def print_result(console: Console, result: OptimizeResult, request: OptimizeRequest) -> None:
    """Every fold's table and statistics, the walk-forward summary, the chosen config."""
    setup = request.setup
    tf = timeframe_seconds(setup.timeframe)
    count = len(result.folds)
    for fold in result.folds:
        title = (
            f"{setup.strategy_id} on {setup.product.product_id}: the best {len(fold.best)} of "
            f"{fold.completed} configs by in-sample {setup.objective}"
        )
        if count > 1:
            title = f"fold {fold.fold.number}/{count}: {title}"
        console.print(fold_table(fold, request.candles, tf, title))
        for line in config_lines(fold):
            console.print(line, highlight=False, soft_wrap=True)
        console.print(stats_line(fold.stats), highlight=False, soft_wrap=True)
        for ranked in fold.best:
            if isinstance(ranked.test, Failure):
                console.print(
                    f"trial {ranked.trial_number}: out-of-sample backtest failed: "
                    f"{ranked.test.message}",
                    highlight=False,
                    soft_wrap=True,
                )
    if count > 1:
        console.print(walk_forward_table(result))
    chosen = result.chosen
    if chosen is not None:
        where = f" of fold {count}" if count > 1 else ""
        console.print(
            f"best config (trial {chosen.trial_number}{where}): {json.dumps(chosen.config)}",
            highlight=False,
            soft_wrap=True,
        )
