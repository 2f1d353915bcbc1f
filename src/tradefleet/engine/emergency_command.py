"""``tradefleet emergency-stop``: the running server's emergency stop, from a terminal.

The engine holds the bots' orders and the paper account in memory, so the stop must be
done by the server itself, not by writing to the database beside it: the command asks
the server (``POST /api/emergency-stop``) with a short-lived admin token it signs with
the server's own key, read from the same database, so no password is typed in a panic.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
errors = Console(stderr=True)

TOKEN_MINUTES = 2
ANSWER_SECONDS = 120.0  # cancelling many live orders takes a while; a hang must still end


def emergency_stop_command(
    sell_all: Annotated[
        bool, typer.Option("--sell-all", help="also sell every open deal at market")
    ] = False,
    url: Annotated[
        str, typer.Option(help="the running server (tradefleet serve)")
    ] = "http://127.0.0.1:8000",
) -> None:
    """Stop every bot and cancel every resting order now, through the running server.

    Exit code 0 when everything was done, 1 when the server reports something it could
    not do (listed), 2 when no server answers or it refuses the request.
    """
    import httpx

    from tradefleet.cli import _settings, fail  # cli imports this module

    token = _admin_token(_settings())
    try:
        answer = httpx.post(
            f"{url.rstrip('/')}/api/emergency-stop",
            json={"sell_all": sell_all},
            headers={"Authorization": f"Bearer {token}"},
            timeout=ANSWER_SECONDS,
        )
    except httpx.HTTPError as error:
        fail(
            f"no tradefleet server answered at {url} ({type(error).__name__}): nothing was "
            "stopped; paper bots trade only while the server runs (--url for another address)"
        )
    if answer.status_code != 200:
        fail(
            f"the server refused the emergency stop: HTTP {answer.status_code} {answer.text[:500]}"
        )
    report: dict[str, Any] = answer.json()
    _show(report)
    if report["problems"]:
        raise typer.Exit(1)


def _admin_token(settings: Any) -> str:
    """A token the server accepts: signed with its key, for its current password."""
    from tradefleet.api.auth import create_access_token, load_jwt_secret, password_id
    from tradefleet.platform import open_database

    reads, writes = open_database(settings)
    secret = load_jwt_secret(writes, settings)  # made and stored if no server ever ran
    return create_access_token(
        secret, TOKEN_MINUTES, password_id=password_id(secret, reads, settings)
    )


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" + ("" if number == 1 else "s")


def _show(report: dict[str, Any]) -> None:
    def out(text: str) -> None:
        console.print(text, highlight=False, soft_wrap=True)

    sells = f", {_count(report['sells_placed'], 'market sell')} placed"
    out(
        f"[bold]emergency stop:[/] {_count(report['bots_halted'], 'bot')} halted, "
        f"{_count(report['orders_cancelled'], 'order')} cancelled"
        + (sells if report["sell_all"] else "")
    )
    for bot in report["bots"]:
        sold = f", {_count(bot['sells_placed'], 'sell')} placed"
        out(
            f"  bot {bot['bot_id']} ({escape(bot['name'])}): "
            f"{_count(bot['orders_cancelled'], 'order')} cancelled"
            + (sold if report["sell_all"] else "")
        )
    for problem in report["problems"]:
        errors.print(f"[bold red]problem:[/] {escape(problem)}", highlight=False, soft_wrap=True)
    if report["bots_halted"]:
        out("halted bots place nothing until started again (tradefleet bots start ID)")
