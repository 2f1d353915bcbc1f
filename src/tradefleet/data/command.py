"""``tradefleet download-data``: exchange candles into the local store, resumable.

Bad input (unknown timeframe or product, unparseable dates, ``--from`` not before
``--to``, an existing file that is not a valid candle file) exits with code 2 before
anything is written. Network trouble is retried with exponential backoff; when it
persists the command exits with code 1, and the file holds every page fetched so far:
the same command run again continues after its last candle.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from tradefleet.backtest.data import parse_time
from tradefleet.data.download import (
    Downloader,
    DownloadRequest,
    DownloadResult,
    align,
    missing_spans,
)
from tradefleet.data.download import Progress as ProgressCallback
from tradefleet.data.store import (
    CANDLE_SUFFIXES,
    CandleSink,
    CandleStoreError,
    open_sink,
    read_existing,
    store_path,
)
from tradefleet.domain import CandleArrays
from tradefleet.market.base import MarketError, MarketUnavailable, UnknownProductError
from tradefleet.market.base import timeframe_seconds as tf_seconds
from tradefleet.market.products import split_product_id

if TYPE_CHECKING:  # asyncio and pydantic-settings load when a download runs, not with the CLI
    from tradefleet.config import Settings

ATTEMPTS = 5  # per request: waits of 1, 2, 4 and 8 s between them
RETRY_DELAY = 1.0
NETWORK_FAILURE = 1
console = Console()
errors = Console(stderr=True)


def _fail(message: str) -> NoReturn:
    """The CLI's one-line error and exit code 2 (imported late: ``cli`` imports this module)."""
    from tradefleet.cli import fail  # noqa: PLC0415

    fail(message)


def _give_up(message: str) -> NoReturn:
    """Exit code 1: the input was fine, the exchange could not deliver."""
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(NETWORK_FAILURE)


def _when(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _time(option: str, raw: str) -> int:
    try:
        return parse_time(raw)
    except ValueError as error:
        _fail(f"{option}: {error}")


def _request(
    product: str, timeframe: str, start: str, end: str | None
) -> tuple[DownloadRequest, bool]:
    """The period on the timeframe's grid, ending at the last closed candle at the latest;
    and whether ``--to`` lay beyond that."""
    try:
        tf = tf_seconds(timeframe)
    except ValueError as error:
        _fail(f"--timeframe: {error}")
    try:
        split_product_id(product)
    except ValueError as error:
        _fail(f"--product: {error}")
    first = _time("--from", start)
    now_open = int(time.time()) // tf * tf  # the candle still forming opens here
    last = now_open if end is None else _time("--to", end)
    if first >= last:
        _fail(f"--from ({start}) must be before --to ({end or 'now'})")
    aligned_start, aligned_end = align(first, min(last, now_open), tf)
    if aligned_start >= aligned_end:
        _fail(f"--from ({start}): no closed {timeframe} candle from then on yet")
    live = last >= now_open  # up to the last closed candle: the exchange may not serve it yet
    request = DownloadRequest(product, timeframe, aligned_start, aligned_end, live=live)
    return request, last > now_open


def _target(
    settings: Settings, product: str, timeframe: str, output: Path | None, data_dir: Path | None
) -> Path:
    if output is not None and data_dir is not None:
        _fail("give --output or --data-dir, not both")
    if output is None:
        output = store_path(data_dir or settings.candle_dir, product, timeframe)
    if output.suffix.lower() not in CANDLE_SUFFIXES:
        _fail(f"--output {output}: use a .csv or .parquet file name")
    if output.is_dir():
        _fail(f"--output {output}: is a directory")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        _fail(f"{output.parent}: cannot create the folder ({error.strerror or error})")
    return output


def _existing(path: Path, timeframe: str) -> tuple[CandleArrays | None, CandleSink]:
    try:
        existing = read_existing(path, timeframe)
        return existing, open_sink(path, existing)
    except CandleStoreError as error:
        _fail(f"{error} (fix or delete the file, or choose another --output)")
    except ImportError as error:
        _fail(str(error))


@contextmanager
def _progress(label: str) -> Iterator[ProgressCallback | None]:
    """A rich progress bar on a terminal; nothing when the output is piped."""
    if not console.is_terminal:
        yield None
        return
    columns = (
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} candles"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


async def _download(downloader: Downloader, existing: CandleArrays | None) -> DownloadResult:
    try:
        return await downloader.run(existing)
    finally:
        downloader.sink.close()
        await downloader.source.close()


def _run(
    settings: Settings, request: DownloadRequest, sink: CandleSink, existing: CandleArrays | None
) -> DownloadResult:
    import asyncio  # noqa: PLC0415

    from tradefleet.market.exchange import ExchangeSource  # noqa: PLC0415  (ccxt is heavy)

    try:
        source = ExchangeSource(
            settings.exchange, settings.exchange_api_url, attempts=ATTEMPTS, base_delay=RETRY_DELAY
        )
    except ValueError as error:
        _fail(f"TRADEFLEET_EXCHANGE / TRADEFLEET_EXCHANGE_API_URL: {error}")
    with _progress(f"{request.product_id} {request.timeframe}") as progress:
        downloader = Downloader(source, request, sink, progress)
        try:
            return asyncio.run(_download(downloader, existing))
        except UnknownProductError:
            _fail(f"--product: {settings.exchange} lists no product {request.product_id!r}")
        except MarketUnavailable as error:
            held = (0 if existing is None else len(existing)) + downloader.added
            _give_up(
                f"{settings.exchange} unreachable after {ATTEMPTS} attempts ({error}); "
                f"{_kept(sink.path, held)}"
            )
        except MarketError as error:
            _give_up(f"{settings.exchange} refused the download: {error}")


def _kept(path: Path, held: int) -> str:
    """What a failed download leaves behind, and what to do about it."""
    if held:
        return (
            f"{path} keeps the {held} candle(s) fetched so far: run the same command again "
            "to resume"
        )
    if not path.exists():
        return "no candle was fetched and no file was written: run the same command again"
    return f"no candle was fetched and {path} still holds none: run the same command again"


def _report(result: DownloadResult, request: DownloadRequest, capped: bool) -> None:
    span = ""
    if result.first is not None and result.last is not None:
        span = f"; it covers {_when(result.first)} .. {_when(result.last)}"
    what = (
        f"{result.added} new candle(s) in {result.path} ({result.existing} were there){span}"
        if result.path.exists()
        else "the exchange served no candle for the period; no file was written"
    )
    console.print(
        f"{request.product_id} {request.timeframe}: {what}", highlight=False, soft_wrap=True
    )
    if result.missing:
        errors.print(
            f"note: {result.missing} interval(s) have no candle: the exchange leaves out "
            "intervals without trades (backtest such data with --allow-gaps)",
            highlight=False,
            soft_wrap=True,
        )
    if result.unclosed:
        errors.print(
            f"note: {result.unclosed} candle(s) not closed yet at the exchange were left out: it "
            "serves the newest candles with a delay; run again later to fetch them",
            highlight=False,
            soft_wrap=True,
        )
    if capped:
        errors.print(
            f"note: stopped at the last closed candle ({_when(request.end)} is still forming); "
            "run again later for newer candles",
            highlight=False,
            soft_wrap=True,
        )


def download_data_command(  # noqa: PLR0917 - typer options are parameters
    product: Annotated[str, typer.Option(help="product id, e.g. ETH-BTC")],
    timeframe: Annotated[str, typer.Option(help="candle size: 1m 5m 15m 30m 1h 2h 6h 1d")],
    start: Annotated[
        str, typer.Option("--from", help="first candle: ISO date (UTC) or unix seconds")
    ],
    end: Annotated[
        str | None,
        typer.Option("--to", help="end, exclusive: ISO date (UTC) or unix seconds; default now"),
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="candle file: .csv, or .parquet (needs pyarrow)")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="store folder for PRODUCT_TIMEFRAME.csv; default TRADEFLEET_CANDLE_DIR"),
    ] = None,
) -> None:
    """Download exchange candles into a CSV/Parquet file; a rerun resumes after its last candle."""
    from tradefleet.config import get_settings  # noqa: PLC0415
    from tradefleet.redact import redact_text  # noqa: PLC0415 - the value may be a URL

    request, capped = _request(product, timeframe, start, end)
    try:
        settings = get_settings()
    except Exception as error:  # pydantic's ValidationError names the bad variable
        _fail(f"invalid configuration: {redact_text(str(error))}")
    path = _target(settings, product, timeframe, output, data_dir)
    existing, sink = _existing(path, timeframe)
    if missing_spans(request, existing) == (None, None):
        sink.close()
        console.print(f"{path} already holds the period; nothing to download", highlight=False)
        return
    _report(_run(settings, request, sink, existing), request, capped)
