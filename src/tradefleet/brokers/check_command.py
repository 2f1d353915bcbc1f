"""``tradefleet check-exchange``: the key's check, printed for a person to act on."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from tradefleet.brokers.exchange_check import ExchangeReport

console = Console()
errors = Console(stderr=True)


def check_exchange_command() -> None:
    """Check the exchange key: its form, the clock, permissions, fee tier and balances.

    Exit code 0 when the key can trade, 2 when something is wrong (the message says what).
    """
    from tradefleet.brokers.exchange_check import CheckFailedError, check_exchange
    from tradefleet.cli import BAD_INPUT, _settings, fail  # cli imports this module

    settings = _settings()
    try:
        report = asyncio.run(check_exchange(settings))
    except CheckFailedError as error:
        fail(str(error))
    _show(report)
    if report.problems:
        for problem in report.problems:
            errors.print(
                f"[bold red]problem:[/] {escape(problem)}", highlight=False, soft_wrap=True
            )
        raise typer.Exit(BAD_INPUT)
    console.print("[bold green]ok:[/] the key works for live trading", highlight=False)


def _percent(rate: Decimal | None) -> str:
    return "unknown" if rate is None else f"{(rate * 100).normalize():f} %"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _show(report: ExchangeReport) -> None:
    def out(text: object, *, highlight: bool = False) -> None:
        console.print(text, highlight=highlight, soft_wrap=True)  # a key name stays whole

    out(f"exchange     {escape(report.exchange)} at {escape(report.url)}")
    out(f"key          {escape(report.key_name)} ({report.key_kind})")
    out(f"clock        {report.skew_seconds:+.1f} s (the exchange's minus this machine's)")
    out(
        f"permissions  view {_yes(report.can_view)}, trade {_yes(report.can_trade)}, "
        f"transfer {_yes(report.can_transfer)}"
        + (f" ({escape(report.portfolio)} portfolio)" if report.portfolio else "")
    )
    out(
        f"fee tier     {escape(report.fee_tier or 'unnamed')}: taker "
        f"{_percent(report.taker_fee)}, maker {_percent(report.maker_fee)}"
    )
    held = [balance for balance in report.balances if balance.total]
    table = Table("currency", "total", "available", "on hold", title="balances")
    for balance in held:
        table.add_row(
            balance.currency, f"{balance.total:f}", f"{balance.available:f}", f"{balance.hold:f}"
        )
    if held:
        out(table)
    empty = len(report.balances) - len(held)
    out(f"{len(held)} currencies held" + (f", {empty} more at zero" if empty else ""))
    for warning in report.warnings:
        errors.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
