"""``tradefleet backtest``: one strategy over a candle file, results as JSON (+ a chart).

Bad input (unknown strategy, invalid parameter, budget or fee, unknown product form,
unreadable, unsorted or gappy data) prints one line and exits with code 2, like every
other command. The budget defaults to one unit of the quote currency (1 BTC on ETH-BTC,
1 USD on BTC-USD): quote currencies differ too much for a better universal default, and
the percentage metrics do not depend on it as long as orders stay above the product's
minimum sizes.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from tradefleet.backtest.data import BacktestDataError, CandleData, load_period, parse_time
from tradefleet.backtest.engines import Progress as ProgressCallback
from tradefleet.backtest.engines import engine_names
from tradefleet.backtest.fast_engine import KERNEL_ENGINE
from tradefleet.backtest.plot import PlotError, write_plot
from tradefleet.backtest.report import summary_rows, write_result_json
from tradefleet.backtest.runner import BacktestResult, run_backtest
from tradefleet.domain import FeeSchedule, ProductSpec
from tradefleet.market.base import timeframe_seconds
from tradefleet.market.products import default_spec
from tradefleet.services.bot_rules import budget_problems
from tradefleet.strategies import (
    StrategyConfigError,
    StrategyRegistry,
    TradingStrategy,
    UnknownStrategyError,
)

# The options ``tradefleet backtest`` and ``tradefleet optimize`` share.
StrategyOption = Annotated[str, typer.Option(help="strategy id (see `tradefleet strategies`)")]
ProductOption = Annotated[str, typer.Option(help="product id, e.g. ETH-BTC")]
TimeframeOption = Annotated[
    str, typer.Option(help="candle size of the data: 1m 5m 15m 30m 1h 2h 6h 1d")
]
DataOption = Annotated[
    Path, typer.Option(help="candles: CSV (timestamp,open,high,low,close,volume) or .parquet")
]
FeeTakerOption = Annotated[str, typer.Option(help="taker fee rate, 0.006 = 0.6 %")]
FeeMakerOption = Annotated[str, typer.Option(help="maker fee rate, 0.004 = 0.4 %")]
FromOption = Annotated[
    str | None, typer.Option("--from", help="first candle: ISO date (UTC) or unix seconds")
]
ToOption = Annotated[
    str | None, typer.Option("--to", help="end, exclusive: ISO date (UTC) or unix seconds")
]
AllowGapsOption = Annotated[
    bool, typer.Option("--allow-gaps", help="accept missing candles in the data")
]
PROGRESS_MIN_CANDLES = 20_000  # shorter runs finish before a bar would be worth drawing
AUTO_ENGINE = "auto"
REFERENCE_ENGINE = "reference"
# Loading the compiled kernel costs a process about half a second (numba); the reference
# loop is the faster whole command below this many traded candles (README, Backtesting).
KERNEL_FROM_CANDLES = 50_000
console = Console()
notes = Console(stderr=True, soft_wrap=True)  # a note is one line, never wrapped


def _fail(message: str) -> NoReturn:
    """The CLI's one-line error and exit code 2 (imported late: ``cli`` imports this module)."""
    from tradefleet.cli import fail  # noqa: PLC0415

    fail(message)


def _number(option: str, raw: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        _fail(f"{option}: {raw!r} is not a number")
    if not value.is_finite():
        _fail(f"{option}: must be a finite number")
    return value


def _budget(raw: str) -> Decimal:
    """``--budget``: a number greater than 0 that a bot's budget could be."""
    amount = _number("--budget", raw)
    if amount <= 0:
        _fail("--budget: must be greater than 0")
    for _field, message in budget_problems(amount):  # too many places, too large
        _fail(f"--budget: {message}")
    return amount


def _fees(taker: str, maker: str, slippage: str) -> FeeSchedule:
    rates = {
        "--fee-taker": _number("--fee-taker", taker),
        "--fee-maker": _number("--fee-maker", maker),
        "--slippage": _number("--slippage", slippage),
    }
    for option, rate in rates.items():
        if not 0 <= rate < 1:
            _fail(f"{option}: must be a fraction at least 0 and below 1 (0.006 = 0.6 %)")
    taker_rate, maker_rate, slip = rates.values()
    return FeeSchedule(taker=taker_rate, maker=maker_rate, slippage=slip)


def _config(raw: str) -> dict[str, Any]:
    """Parameters as inline JSON, or the path of a JSON file."""
    text = raw
    if not raw.lstrip().startswith("{") and Path(raw).is_file():
        text = Path(raw).read_text(encoding="utf-8")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        _fail(f"--config: not valid JSON ({error.msg})")
    if not isinstance(value, dict):
        _fail("--config: must be a JSON object")
    return value


def _strategy(strategy_id: str, config: dict[str, Any], budget: Decimal) -> TradingStrategy:
    try:
        strategy = StrategyRegistry.create(strategy_id, config)
        strategy.deal_settings(budget)
    except (UnknownStrategyError, StrategyConfigError) as error:
        _fail(str(error))
    return strategy


def _product(product_id: str) -> ProductSpec:
    try:
        return default_spec(product_id)
    except ValueError as error:
        _fail(f"--product: {error}")


def _time(option: str, raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        return parse_time(raw)
    except ValueError as error:
        _fail(f"{option}: {error}")


def _check_choices(timeframe: str, engine: str, plot: Path | None) -> None:
    """Refuse a timeframe, engine or chart that cannot work before spending time on the run."""
    try:
        timeframe_seconds(timeframe)
    except ValueError as error:
        _fail(f"--timeframe: {error}")
    if engine not in _engine_choices():
        _fail(
            f"--engine: unknown backtest engine {engine!r}; known: {', '.join(_engine_choices())}"
        )
    if plot is None:
        return
    suffix = plot.suffix.lower()
    if suffix not in (".html", ".htm", ".png"):
        _fail(f"--plot {plot}: use a .html or .png file name")
    if suffix == ".png" and importlib.util.find_spec("matplotlib") is None:
        _fail("PNG plots need matplotlib: pip install 'tradefleet[plot]' (or use .html)")


def _engine_choices() -> list[str]:
    return [AUTO_ENGINE, *engine_names()]


def _engine_for(engine: str, traded: int) -> str:
    """``--engine auto``: the reference loop for fewer than ``KERNEL_FROM_CANDLES`` traded
    candles, else the kernel; both give the same result, so only the time differs."""
    if engine != AUTO_ENGINE:
        return engine
    return REFERENCE_ENGINE if traded < KERNEL_FROM_CANDLES else KERNEL_ENGINE


@contextmanager
def _progress(total: int) -> Iterator[ProgressCallback | None]:
    """A rich progress bar for long runs on a terminal; nothing otherwise."""
    if total < PROGRESS_MIN_CANDLES or not console.is_terminal:
        yield None
        return
    columns = (TextColumn("backtest"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,}"))
    with Progress(*columns, TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task("backtest", total=total)

        def advance(done: int, _total: int) -> None:
            bar.update(task, completed=done)

        yield advance


def _run(
    strategy: TradingStrategy,
    candles: CandleData,
    *,
    product: ProductSpec,
    budget: Decimal,
    fees: FeeSchedule,
    timeframe: str,
    engine: str,
) -> BacktestResult:
    traded = len(candles.candles) - candles.start
    with _progress(traded) as progress:
        try:
            return run_backtest(
                strategy.definition.id, strategy.params, candles.candles, product, budget, fees,
                timeframe=timeframe, start=candles.start, engine=_engine_for(engine, traded),
                progress=progress,
            )  # fmt: skip
        except ValueError as error:  # e.g. grid levels closer than the price increment
            _fail(f"backtest stopped: {error}")


def _plot(result: BacktestResult, plot: Path) -> None:
    try:
        write_plot(result, plot)
    except PlotError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"--plot {plot}: cannot write ({error.strerror or error})")


def _write(output: Path, result: BacktestResult) -> None:
    try:
        with output.open("w", encoding="utf-8") as handle:
            write_result_json(result, handle)
    except OSError as error:
        _fail(f"--output {output}: cannot write ({error.strerror or error})")


def _untraded_note(data: CandleData, from_given: bool) -> str | None:
    """Why the first candles were not traded: without ``--from`` the file's own first
    candles are the warm-up, which would otherwise go unnoticed in the results."""
    if data.skipped:
        return (
            f"note: the first {data.skipped} candle(s) of the period were not traded: the file "
            "has too little history before them for the strategy's indicators"
        )
    if not from_given and data.start:
        first, verb = ("candle", "is") if data.start == 1 else (f"{data.start} candles", "are")
        return (
            f"note: the first {first} of the file {verb} the strategy's warm-up "
            f"and {verb} not traded"
        )
    return None


def _print_summary(
    result: BacktestResult, data: CandleData, output: Path, *, from_given: bool
) -> None:
    table = Table(title=f"{result.strategy_id} on {result.product.product_id}", show_header=False)
    table.add_column("metric", style="bold")
    table.add_column("value")
    for label, value in summary_rows(result):
        table.add_row(label, value)
    console.print(table)
    untraded = _untraded_note(data, from_given)
    if untraded is not None:
        notes.print(untraded, highlight=False)
    if data.gaps:
        notes.print(f"note: the data has {data.gaps} gap(s) (--allow-gaps)", highlight=False)
    console.print(f"wrote {output}", highlight=False)


def backtest_command(  # noqa: PLR0917 - typer options are parameters
    strategy: StrategyOption,
    product: ProductOption,
    timeframe: TimeframeOption,
    data: DataOption,
    output: Annotated[Path, typer.Option(help="where to write the result JSON")],
    config: Annotated[
        str,
        typer.Option(help='strategy parameters as JSON (or a JSON file), e.g. {"oversold": 25}'),
    ] = "{}",
    budget: Annotated[
        str, typer.Option(help="quote currency the bot may commit; default one unit")
    ] = "1",
    fee_taker: FeeTakerOption = "0.006",
    fee_maker: FeeMakerOption = "0.004",
    slippage: Annotated[
        str, typer.Option(help="market orders fill this fraction worse than the open")
    ] = "0",
    start: FromOption = None,
    end: ToOption = None,
    allow_gaps: AllowGapsOption = False,
    plot: Annotated[
        Path | None, typer.Option(help="also write a chart: out.html (self-contained) or out.png")
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            help="fill engine: " + ", ".join(_engine_choices()) + " (same results; auto: "
            f"reference below {KERNEL_FROM_CANDLES:,} traded candles, where loading the "
            "compiled kernel costs more than it saves, else kernel)"
        ),
    ] = AUTO_ENGINE,
) -> None:
    """Backtest a strategy over a candle file with the live engine's decision code."""
    amount = _budget(budget)
    fees = _fees(fee_taker, fee_maker, slippage)
    spec = _product(product)
    _check_choices(timeframe, engine, plot)
    chosen = _strategy(strategy, _config(config), amount)
    period = (_time("--from", start), _time("--to", end))
    try:
        candles = load_period(
            data, timeframe, start=period[0], end=period[1],
            warmup=chosen.warmup(), allow_gaps=allow_gaps,
        )  # fmt: skip
    except BacktestDataError as error:
        _fail(str(error))
    result = _run(
        chosen, candles, product=spec, budget=amount, fees=fees, timeframe=timeframe, engine=engine
    )
    _write(output, result)
    if plot is not None:
        _plot(result, plot)
    _print_summary(result, candles, output, from_given=start is not None)
