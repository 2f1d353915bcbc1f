"""``tradefleet optimize``: search a strategy's parameters on train candles, judge the best
configs on the test candles after them, print them, and optionally save one as a bot.

Bad input (unknown strategy or parameter, a range outside the parameter's bounds, bad
numbers, unreadable data, too few candles for the split, a storage that cannot be
opened or holds a different search, a taken bot name) prints one line and exits with
code 2, like ``tradefleet backtest``, whose option parsing this command shares.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tradefleet.backtest.command import (
    AllowGapsOption,
    DataOption,
    FeeMakerOption,
    FeeTakerOption,
    FromOption,
    ProductOption,
    StrategyOption,
    TimeframeOption,
    ToOption,
    _budget,
    _config,
    _fail,
    _fees,
    _number,
    _product,
    _time,
)
from tradefleet.backtest.data import BacktestDataError, CandleData, load_period
from tradefleet.market.base import timeframe_seconds
from tradefleet.optimize.evaluate import EvalSetup, pick_engine
from tradefleet.optimize.objectives import OBJECTIVES, ObjectiveName
from tradefleet.optimize.windows import Fold, WindowError, parse_share, split_folds
from tradefleet.optimize.windows import walk_forward_folds as wf_folds
from tradefleet.services.errors import ServiceError
from tradefleet.strategies import (
    StrategyConfigError,
    StrategyRegistry,
    TradingStrategy,
    UnknownStrategyError,
)

if TYPE_CHECKING:  # Optuna, SQLAlchemy and Alembic load only when ``optimize`` runs
    from tradefleet.optimize.runner import FoldProgress, OptimizeRequest, OptimizeResult
    from tradefleet.optimize.savebot import BotPlan
    from tradefleet.optimize.search import TrialProgress
    from tradefleet.optimize.space import SearchSpace

console = Console()
notes = Console(stderr=True)


def _positive(option: str, value: int | None) -> None:
    if value is not None and value < 1:
        _fail(f"{option}: must be at least 1")


def _check_choices(timeframe: str, objective: str, sampler: str) -> None:
    from tradefleet.optimize.study import SAMPLERS  # noqa: PLC0415

    try:
        timeframe_seconds(timeframe)
    except ValueError as error:
        _fail(f"--timeframe: {error}")
    if objective not in OBJECTIVES:
        _fail(f"--objective: {objective!r} is not one of: {', '.join(OBJECTIVES)}")
    if sampler not in SAMPLERS:
        _fail(f"--sampler: {sampler!r} is not one of: {', '.join(SAMPLERS)}")


def _strategy_class(strategy_id: str) -> type[TradingStrategy]:
    try:
        return StrategyRegistry.get(strategy_id)
    except UnknownStrategyError as error:
        _fail(str(error))


def _space(
    strategy: type[TradingStrategy], config: str, params: str | None, ranges: list[str]
) -> SearchSpace:
    from tradefleet.optimize.space import SpaceError, build_space, parse_ranges  # noqa: PLC0415

    names = None if params is None else [n.strip() for n in params.split(",") if n.strip()]
    try:
        return build_space(strategy, _config(config), names, parse_ranges(ranges))
    except SpaceError as error:
        _fail(str(error))
    except StrategyConfigError as error:
        _fail(f"--config: {error}")


def _engine(requested: str | None) -> str:
    try:
        return pick_engine(requested)
    except ValueError as error:
        _fail(f"--engine: {error}")


def _load(
    data: Path, timeframe: str, period: tuple[str | None, str | None], warmup: int, gaps: bool
) -> CandleData:
    start, end = _time("--from", period[0]), _time("--to", period[1])
    try:
        return load_period(data, timeframe, start=start, end=end, warmup=warmup, allow_gaps=gaps)
    except BacktestDataError as error:
        _fail(str(error))


def _folds(data: CandleData, split: str | None, walk_forward: int | None) -> list[Fold]:
    count = len(data.candles) - data.start
    try:
        share = parse_share(split or "0.7")
        if walk_forward is None:
            return split_folds(data.start, count, share)
        return wf_folds(data.start, count, walk_forward, share)
    except WindowError as error:
        _fail(str(error))


def _storage_options(storage: str | None, study: str | None) -> None:
    if storage is not None and not study:
        _fail("--storage needs --study NAME: the study every machine joins")
    if study is not None and storage is None:
        _fail("--study needs --storage URL: an in-memory study is not shared")


def _bot_plan(name: str | None, budget: Decimal, request: tuple[str, str, str]) -> BotPlan | None:
    """The bot to save, checked now so the search does not run for a name that is taken."""
    if name is None:
        return None
    from tradefleet.cli import _settings  # noqa: PLC0415 - cli imports this module
    from tradefleet.optimize.savebot import BotPlan, precheck  # noqa: PLC0415

    strategy_id, product_id, timeframe = request
    plan = BotPlan(
        database_url=_settings().database_url, name=name, strategy_id=strategy_id,
        product=_product(product_id), timeframe=timeframe, budget=budget,
    )  # fmt: skip
    try:
        precheck(plan)
    except ServiceError as error:
        _fail(error.message)
    return plan


@contextmanager
def _progress(total: int, folds: int) -> Iterator[FoldProgress | None]:
    """A trial bar per fold on a terminal. Redrawn by hand: no thread may run while the
    workers fork."""
    if not console.is_terminal:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn(), console=console, auto_refresh=False) as bar:

        def for_fold(fold: Fold) -> TrialProgress:
            label = "trials" if folds == 1 else f"fold {fold.number}/{folds}"
            task = bar.add_task(label, total=total)

            def advance(done: int, now_total: int) -> None:
                bar.update(task, completed=done, total=now_total)
                bar.refresh()

            return advance

        yield for_fold


def _run(request: OptimizeRequest) -> OptimizeResult:
    from tradefleet.optimize.runner import optimize  # noqa: PLC0415
    from tradefleet.optimize.study import StudyError  # noqa: PLC0415

    with _progress(request.trials, len(request.folds)) as progress:
        try:
            return optimize(request, progress)
        except StudyError as error:
            _fail(str(error))


def _save(plan: BotPlan, result: OptimizeResult, objective: str) -> None:
    from tradefleet.optimize.savebot import save_bot  # noqa: PLC0415

    chosen = result.chosen
    if chosen is None:
        _fail("no config to save: no trial completed")
    fold = result.folds[-1]
    description = (
        f"tradefleet optimize, study {fold.study_name} trial {chosen.trial_number}: "
        f"{objective} {chosen.train.objective:.4g} in sample"
    )
    try:
        bot_id, name = save_bot(plan, chosen.config, description)
    except ServiceError as error:
        _fail(f"--save-bot: {error.message}")
    console.print(f"saved bot {bot_id} ({name}), inactive", highlight=False)


def optimize_command(  # noqa: PLR0917 - typer options are parameters
    strategy: StrategyOption,
    product: ProductOption,
    timeframe: TimeframeOption,
    data: DataOption,
    trials: Annotated[int, typer.Option(help="configs to backtest (per fold)")] = 100,
    objective: Annotated[str, typer.Option(help="sharpe, profit or calmar")] = "sharpe",
    jobs: Annotated[
        int, typer.Option(help="worker processes; default: every core")
    ] = os.cpu_count() or 1,
    budget: Annotated[str, typer.Option(help="quote currency per backtest")] = "1",
    fee_taker: FeeTakerOption = "0.006",
    fee_maker: FeeMakerOption = "0.004",
    slippage: Annotated[str, typer.Option(help="market orders fill this much worse")] = "0",
    split: Annotated[
        str | None, typer.Option(help="train share of the candles (of each fold); default 0.7")
    ] = None,
    walk_forward: Annotated[
        int | None, typer.Option(help="K rolling train/test folds instead of one split")
    ] = None,
    params: Annotated[
        str | None,
        typer.Option(help="parameters to search, comma-separated; default: signal/entry/exit"),
    ] = None,
    ranges: Annotated[
        list[str] | None,
        typer.Option(
            "--range",
            help="NAME=LOW:HIGH: search LOW..HIGH instead of the default search range "
            "(`tradefleet strategies ID`), anywhere within the bounds (repeatable)",
        ),
    ] = None,
    config: Annotated[
        str, typer.Option(help="values of the parameters not searched, as JSON (or a file)")
    ] = "{}",
    storage: Annotated[
        str | None, typer.Option(help="shared study database: postgresql://… or sqlite:///…")
    ] = None,
    study: Annotated[str | None, typer.Option(help="study name in --storage")] = None,
    sampler: Annotated[str, typer.Option(help="tpe or random")] = "tpe",
    seed: Annotated[
        int | None, typer.Option(help="sampler seed (random: the same configs for any --jobs)")
    ] = None,
    top: Annotated[int, typer.Option(help="best configs to judge out of sample")] = 5,
    engine: Annotated[
        str | None, typer.Option(help="fill engine; default: the fastest registered")
    ] = None,
    start: FromOption = None,
    end: ToOption = None,
    allow_gaps: AllowGapsOption = False,
    save_bot_name: Annotated[
        str | None, typer.Option("--save-bot", help="save the best config as a new bot NAME")
    ] = None,
    save_budget: Annotated[
        str | None, typer.Option(help="that bot's budget; default --budget")
    ] = None,
) -> None:
    """Search strategy parameters with Optuna; judge the best configs out of sample."""
    from tradefleet.optimize.report import print_result  # noqa: PLC0415
    from tradefleet.optimize.runner import OptimizeRequest  # noqa: PLC0415
    from tradefleet.optimize.space import max_warmup  # noqa: PLC0415

    for option, value in (("--trials", trials), ("--jobs", jobs), ("--top", top)):
        _positive(option, value)
    _positive("--walk-forward", walk_forward)
    _check_choices(timeframe, objective, sampler)
    _storage_options(storage, study)
    amount = _budget(budget)
    fees = _fees(fee_taker, fee_maker, slippage)
    spec = _product(product)
    space = _space(_strategy_class(strategy), config, params, ranges or [])
    bot_budget = amount if save_budget is None else _number("--save-budget", save_budget)
    plan = _bot_plan(save_bot_name, bot_budget, (strategy, product, timeframe))
    setup = EvalSetup(
        strategy_id=strategy, product=spec, budget=amount, fees=fees, timeframe=timeframe,
        engine=_engine(engine), objective=cast(ObjectiveName, objective),
    )  # fmt: skip
    candles = _load(data, timeframe, (start, end), max_warmup(space), allow_gaps)
    request = OptimizeRequest(
        setup=setup, space=space, candles=candles.candles,
        folds=_folds(candles, split, walk_forward), trials=trials, jobs=jobs,
        sampler=sampler, seed=seed, top=top, storage=storage, study=study,
    )  # fmt: skip
    notes.print(_searching(space, params is None, setup.engine, jobs), highlight=False)
    result = _run(request)
    print_result(console, result, request)
    if result.chosen is None:
        _fail("no trial completed: " + _why_nothing(result))
    if plan is not None:
        _save(plan, result, objective)


def _searching(space: SearchSpace, default: bool, engine: str, jobs: int) -> str:
    which = " (the strategy's signal/entry/exit parameters)" if default else ""
    return f"searching {space.summary()}{which}; engine {engine}, {jobs} job(s)"


def _why_nothing(result: OptimizeResult) -> str:
    stats = result.folds[-1].stats
    return stats.first_failure or stats.first_invalid or "no trial ran"
