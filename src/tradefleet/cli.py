"""The ``tradefleet`` command: serve, strategies, bots, backtest, download-data,
check-exchange, emergency-stop.

Bad input prints one clear line naming the field and exits with code 2, never a
traceback. Bot commands work on the database directly; a running server picks the
change up at its next candle. The emergency stop asks the running server.
"""

from __future__ import annotations

import gc
import json
import logging
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tradefleet.backtest.command import _number, backtest_command
from tradefleet.brokers.check_command import check_exchange_command
from tradefleet.data.command import download_data_command
from tradefleet.domain import ProductSpec
from tradefleet.engine.emergency_command import emergency_stop_command
from tradefleet.optimize.command import optimize_command
from tradefleet.services.errors import ServiceError
from tradefleet.strategies import StrategyRegistry, UnknownStrategyError

if TYPE_CHECKING:  # pydantic-settings loads only for the commands that read the settings
    from tradefleet.config import Settings

app = typer.Typer(help="tradefleet: run many crypto trading bots on your own machine.")
bots_app = typer.Typer(help="Create, list, start and stop bots.")
app.add_typer(bots_app, name="bots")
app.command("backtest")(backtest_command)
app.command("optimize")(optimize_command)
app.command("download-data")(download_data_command)
app.command("check-exchange")(check_exchange_command)
app.command("emergency-stop")(emergency_stop_command)
console = Console()
errors = Console(stderr=True)

BAD_INPUT = 2


def fail(message: str) -> NoReturn:
    """One line naming the problem, exit code 2: bad input is never a traceback."""
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(BAD_INPUT)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on", min=1, max=65535)] = 8000,
) -> None:
    """Start the API, the engine and the web UI together."""
    import asyncio

    import uvicorn

    from tradefleet.api.auth import ensure_admin_password
    from tradefleet.capacity import KEEP_ALIVE_SECONDS, SHUTDOWN_GRACE_SECONDS
    from tradefleet.config import MarketKind, Mode
    from tradefleet.platform import build_platform
    from tradefleet.redact import redact_logs

    settings = _settings()
    if settings.mode is Mode.LIVE and settings.market is not MarketKind.EXCHANGE:
        fail(
            f"TRADEFLEET_MODE=live trades on the exchange's prices: TRADEFLEET_MARKET must be "
            f"exchange (it is {settings.market.value})"
        )
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    redact_logs()

    async def run() -> None:
        platform = await build_platform(settings, settle_heap=True)
        password = ensure_admin_password(platform.session_factory, settings)
        if password is not None:
            console.print(
                "[bold yellow]Generated admin password (shown once, stored only as a hash):[/] "
                f"{password}",
                highlight=False,
                soft_wrap=True,
            )
        console.print(
            f"tradefleet: {settings.mode.value} mode, {settings.market.value} market, "
            f"http://{host}:{port}  (API docs at /docs)",
            highlight=False,
            soft_wrap=True,
        )
        config = uvicorn.Config(
            platform.app,
            host=host,
            port=port,
            log_level=settings.log_level.lower(),  # the access log too: one setting
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            **_proxy_options(settings),
        )
        redact_logs()  # on uvicorn's handlers too, which the line above configured
        await uvicorn.Server(config).serve()

    asyncio.run(run())


def _proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn believes X-Forwarded-For (the client address the login throttle counts)
    only from ``TRADEFLEET_TRUSTED_PROXIES``; by default from no one, not even 127.0.0.1
    (uvicorn's own default), or any local process could pose as any client."""
    trusted = list(settings.trusted_proxies)
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted}


@app.command()
def strategies(
    strategy_id: Annotated[
        str | None, typer.Argument(help="show one strategy's parameters")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """List the strategies, or one strategy's parameters."""
    if strategy_id is None:
        definitions = StrategyRegistry.definitions()
        if as_json:
            console.print_json(data=[d.to_dict() for d in definitions])
            return
        table = Table("id", "name", "parameters", "description")
        for definition in definitions:
            table.add_row(
                definition.id,
                definition.name,
                str(len(definition.parameters)),
                definition.description,
            )
        console.print(table)
        return
    try:
        definition = StrategyRegistry.get(strategy_id).definition
    except UnknownStrategyError as error:
        fail(str(error))
    if as_json:
        console.print_json(data=definition.to_dict())
        return
    table = Table(
        "parameter", "type", "default", "range / choices", "search", "unit", "description"
    )
    for p in definition.parameters:
        limits = ", ".join(map(str, p.choices)) if p.choices else f"{p.min} .. {p.max}"
        search = "" if p.search_range is None else f"{p.search_min} .. {p.search_max}"
        table.add_row(p.name, p.type, str(p.default), limits, search, p.unit or "", p.description)
    console.print(f"[bold]{definition.id}[/] - {definition.name}: {definition.description}")
    console.print(table)


@bots_app.command("list")
def bots_list() -> None:
    """List the bots with their state."""
    from tradefleet.services import bots as bot_service  # SQLAlchemy loads for bots commands only

    with _session() as session:
        rows = bot_service.list_bots(session)
        open_counts = bot_service.open_position_counts(session)
    # The columns never wrap; what went wrong comes under the table, whole.
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("id", "name", "strategy", "product", "tf", "budget", "account", "active",
                   "open"):  # fmt: skip
        table.add_column(column, no_wrap=True)
    for bot in rows:
        table.add_row(
            str(bot.id),
            bot.name,
            bot.strategy_type,
            bot.product_id,
            bot.timeframe,
            str(bot.budget),
            bot.account,
            "yes" if bot.is_active else ("halted" if bot.halted_at else "no"),
            str(open_counts.get(bot.id, 0)),
        )
    console.print(table)
    for bot in rows:
        if bot.last_error:
            console.print(
                f"bot {bot.id} ({escape(bot.name)}): {escape(bot.last_error)}",
                highlight=False,
                soft_wrap=True,
            )


@bots_app.command("create")
def bots_create(
    name: Annotated[str, typer.Option(help="unique bot name")],
    strategy: Annotated[str, typer.Option(help="strategy id (see `tradefleet strategies`)")],
    product: Annotated[str, typer.Option(help="product id, e.g. ETH-BTC")],
    budget: Annotated[str, typer.Option(help="quote-currency amount the bot may commit")],
    timeframe: Annotated[str, typer.Option(help="candle size: 1m 5m 15m 30m 1h 2h 6h 1d")] = "5m",
    config: Annotated[
        str, typer.Option(help='strategy parameters as JSON, e.g. {"oversold": 25}')
    ] = "{}",
    description: Annotated[str, typer.Option(help="free text")] = "",
    start: Annotated[bool, typer.Option("--start", help="start the bot right away")] = False,
    account: Annotated[
        str, typer.Option(help="paper, or live (a server with TRADEFLEET_MODE=live)")
    ] = "paper",
) -> None:
    """Create a bot (inactive unless --start)."""
    from tradefleet.services import bots as bot_service  # SQLAlchemy loads for bots commands only

    data = bot_service.BotInput(
        name=name,
        strategy_type=strategy,
        product_id=product,
        timeframe=timeframe,
        budget=_number("budget", budget),
        strategy_config=_json_object("config", config),
        description=description,
        account=account,
    )
    spec = _product(_settings(), product)
    with _session() as session:
        try:
            bot = bot_service.create_bot(session, data, spec, _live_problem())
            if start:
                bot = bot_service.set_active(session, bot.id, True)
        except ServiceError as error:
            fail(error.message)
        console.print(f"created bot {bot.id} ({bot.name}){', started' if start else ''}")


@bots_app.command("start")
def bots_start(bot_id: Annotated[int, typer.Argument(help="bot id")]) -> None:
    """Start a bot; a running server picks it up at its next candle."""
    _set_active(bot_id, True)


@bots_app.command("stop")
def bots_stop(bot_id: Annotated[int, typer.Argument(help="bot id")]) -> None:
    """Stop a bot: no new deals; open deals keep their take profit and stop loss."""
    _set_active(bot_id, False)


def _set_active(bot_id: int, active: bool) -> None:
    from tradefleet.services import bots as bot_service  # SQLAlchemy loads for bots commands only

    with _session() as session:
        try:
            bot = bot_service.set_active(session, bot_id, active)
        except ServiceError as error:
            fail(error.message)
        console.print(f"bot {bot.id} ({bot.name}) {'started' if active else 'stopped'}")


def _settings() -> Settings:
    from tradefleet.config import get_settings
    from tradefleet.redact import redact_text  # pydantic repeats the value: a URL, maybe

    try:
        return get_settings()
    except Exception as error:  # pydantic's ValidationError names the bad variable
        fail(f"invalid configuration: {redact_text(str(error))}")


def _live_problem() -> str | None:
    """Why ``--account live`` is refused here (the server checks the key again before a
    live bot trades): a live server with a key that has a usable form, or None."""
    from tradefleet.brokers.credentials import CredentialsError, load_credentials
    from tradefleet.config import Mode
    from tradefleet.services.bot_rules import LIVE_OFF

    settings = _settings()
    if settings.mode is not Mode.LIVE:
        return LIVE_OFF
    try:
        key = load_credentials(settings)
    except CredentialsError as error:
        return f"the exchange key cannot be used: {error}"
    return None if key is not None else "live needs an exchange key (see tradefleet check-exchange)"


def _session() -> Any:
    from tradefleet.platform import open_database

    _reads, writes = open_database(_settings())
    return writes()  # the CLI's commands write beside a running server


def _json_object(field: str, raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        fail(f"{field}: not valid JSON ({error.msg})")
    if not isinstance(value, dict):
        fail(f"{field}: must be a JSON object")
    return value


def _product(settings: Settings, product_id: str) -> ProductSpec | None:
    """The product as the configured market lists it (the popular list if unreachable)."""
    import asyncio

    from tradefleet.market import build_source
    from tradefleet.market.base import MarketUnavailable
    from tradefleet.market.products import POPULAR_PRODUCTS

    async def look_up() -> ProductSpec | None:
        source = build_source(settings)
        try:
            products = await asyncio.wait_for(source.products(), timeout=15)
        except (MarketUnavailable, TimeoutError):
            errors.print("warning: market unreachable; checking against the popular product list")
            products = list(POPULAR_PRODUCTS)
        finally:
            await source.close()
        return next((p for p in products if p.product_id == product_id), None)

    return asyncio.run(look_up())


def main() -> None:
    """The console script. A command runs once and exits, so the objects its imports made
    (hundreds of thousands: typer, pydantic, numba) are frozen out of the cyclic
    collector's passes, now and in the exit's full collections: a quarter of a
    one-minute-candle year's backtest went to those passes."""
    gc.freeze()
    try:
        app()
    finally:
        gc.freeze()
