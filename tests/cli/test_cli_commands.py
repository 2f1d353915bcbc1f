"""The ``tradefleet`` command: output, database effects and exit code 2 on bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tradefleet.cli import app
from tradefleet.config import Settings, get_settings
from tradefleet.db.models import Bot
from tradefleet.db.session import make_engine, make_session_factory
from tradefleet.services import bots as bot_service

runner = CliRunner()


@pytest.fixture
def database(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TRADEFLEET_DATABASE_URL", migrated_url)
    monkeypatch.setenv("TRADEFLEET_MARKET", "simulated")
    get_settings.cache_clear()
    yield migrated_url
    get_settings.cache_clear()


def _bots(url: str) -> list[tuple[str, str, bool, str]]:
    with make_session_factory(make_engine(url))() as session:
        rows = session.scalars(select(Bot).order_by(Bot.id))
        return [(b.name, b.strategy_type, b.is_active, str(b.budget)) for b in rows]


def test_strategies_lists_six_and_shows_parameters() -> None:
    listed = runner.invoke(app, ["strategies", "--json"])
    assert listed.exit_code == 0
    ids = [d["id"] for d in json.loads(listed.stdout)]
    assert ids == ["bollinger", "ema_cross", "grid", "macd_dca", "rsi", "simple_dca"]
    shown = runner.invoke(app, ["strategies", "rsi", "--json"])
    params = {p["name"]: p for p in json.loads(shown.stdout)["parameters"]}
    assert (params["oversold"]["default"], params["rsi_period"]["min"]) == (30.0, 2)
    tp = params["take_profit_pct"]
    assert (tp["min"], tp["max"], tp["search_min"], tp["search_max"]) == (0, 1000, 0.5, 10)
    table = runner.invoke(app, ["strategies", "rsi"], env={"COLUMNS": "200"})
    assert table.exit_code == 0
    row = next(line for line in table.stdout.splitlines() if "take_profit_pct" in line)
    cells = [cell.strip() for cell in row.split("│")[2:6]]
    assert cells == ["float", "0.0", "0 .. 1000", "0.5 .. 10"]  # type, default, bounds, search
    unknown = runner.invoke(app, ["strategies", "nope"])
    assert unknown.exit_code == 2
    assert "unknown strategy 'nope'" in unknown.stderr


def test_bots_create_start_stop_and_list(database: str) -> None:
    created = runner.invoke(
        app,
        [
            "bots", "create", "--name", "eth rsi", "--strategy", "rsi", "--product", "ETH-BTC",
            "--budget", "0.1", "--config", '{"oversold": 25}', "--start",
        ],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "created bot 1 (eth rsi), started" in created.stdout
    assert _bots(database) == [("eth rsi", "rsi", True, "0.1")]
    assert runner.invoke(app, ["bots", "stop", "1"]).exit_code == 0
    assert _bots(database)[0][2] is False
    assert runner.invoke(app, ["bots", "start", "1"]).exit_code == 0
    assert _bots(database)[0][2] is True
    listed = runner.invoke(app, ["bots", "list"])
    assert listed.exit_code == 0
    assert "eth rsi" in listed.stdout and "ETH-BTC" in listed.stdout
    with make_session_factory(make_engine(database))() as session:
        bot_service.delete_bot(session, 1)
    after = runner.invoke(app, ["bots", "list"])
    assert after.exit_code == 0 and "eth rsi" not in after.stdout
    assert runner.invoke(app, ["bots", "start", "1"]).exit_code == 2  # deleted: not found


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--budget", "abc"], "budget: 'abc' is not a number"),
        (["--budget", "-1"], "budget"),
        (["--config", "{"], "config: not valid JSON"),
        (["--config", "[1]"], "config: must be a JSON object"),
        (["--config", '{"rsi_period": 1}'], "strategy_config.rsi_period"),
        (["--config", '{"bogus": 1}'], "strategy_config.bogus"),
        (["--strategy", "nope"], "unknown strategy"),
        (["--product", "ETH-XYZ"], "product_id"),
        (["--timeframe", "7m"], "timeframe"),
        (["--account", "live"], "account: live needs the server started with TRADEFLEET_MODE=live"),
        (["--account", "demo"], "account: must be one of: paper, live"),
        (["--name", "a\x1bb"], "name: must not contain a control character (U+001B at position 1)"),
        (
            ["--strategy", "grid", "--product", "BTC-USD", "--budget", "100"],
            "strategy_config.lower_price: a grid bot needs its price range",
        ),
        (
            [
                "--strategy",
                "grid",
                "--product",
                "BTC-USD",
                "--budget",
                "100",
                "--config",
                '{"lower_price": 60000, "upper_price": 70000}',
            ],
            "strategy_config.quote_per_level: 0.001 USD per level is below BTC-USD's minimum "
            "order of 1 USD",
        ),
    ],
)
def test_bad_input_exits_2_and_stores_nothing(
    database: str, arguments: list[str], message: str
) -> None:
    base = {
        "--name": "bot", "--strategy": "rsi", "--product": "ETH-BTC", "--budget": "0.1",
    }  # fmt: skip
    for flag, value in zip(arguments[::2], arguments[1::2], strict=True):
        base[flag] = value
    argv = ["bots", "create", *[part for pair in base.items() for part in pair]]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert _bots(database) == []


def test_unknown_bot_id_exits_2(database: str) -> None:
    result = runner.invoke(app, ["bots", "start", "42"])
    assert result.exit_code == 2
    assert "bot 42 not found" in result.stderr


def _invoke_with(monkeypatch: pytest.MonkeyPatch, name: str, value: str, *args: str) -> Any:
    """Run the CLI with one setting in the environment (read afresh, then forgotten)."""
    monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        return runner.invoke(app, list(args))
    finally:
        get_settings.cache_clear()


def test_serve_refuses_live_mode_on_a_market_that_is_not_the_exchange(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRADEFLEET_MARKET", "simulated")
    result = _invoke_with(monkeypatch, "TRADEFLEET_MODE", "live", "serve")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: TRADEFLEET_MODE=live trades on the exchange's prices: TRADEFLEET_MARKET must "
        "be exchange (it is simulated)"
    )


def test_a_bad_setting_is_named_without_its_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _invoke_with(
        monkeypatch, "TRADEFLEET_MARKET", "http://user:PASS@host/", "bots", "list"
    )
    assert result.exit_code == 2
    assert "invalid configuration" in result.stderr
    assert "input_value='http://***@host/'" in result.stderr
    assert "PASS" not in result.output


@pytest.mark.parametrize(("given", "stored"), [("warning", "WARNING"), (" Debug ", "DEBUG")])
def test_a_log_level_is_read_in_any_case(given: str, stored: str) -> None:
    assert Settings(log_level=given).log_level == stored


def test_an_unknown_log_level_is_refused_before_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _invoke_with(monkeypatch, "TRADEFLEET_LOG_LEVEL", "verbose", "serve")
    assert result.exit_code == 2
    assert "log_level" in result.stderr
    assert "unknown log level 'verbose': use one of DEBUG, INFO, WARNING" in result.stderr
