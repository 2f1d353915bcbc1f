"""``tradefleet optimize``: the table, the saved bot, and exit code 2 on bad input."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from optimize_testkit import random_walk, rsi_request, write_candles
from sqlalchemy import select
from typer.testing import CliRunner

from tradefleet.backtest.data import load_candles
from tradefleet.cli import app
from tradefleet.config import get_settings
from tradefleet.db.models import Bot
from tradefleet.db.session import make_engine, make_session_factory
from tradefleet.optimize.runner import optimize

runner = CliRunner()
RANGES = ["--range", "rsi_period=5:20", "--range", "profit_target_pct=0:3"]


@pytest.fixture(scope="module")
def candle_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_candles(tmp_path_factory.mktemp("candles") / "ETH-USD_5m.csv", random_walk(3000))


@pytest.fixture
def database(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TRADEFLEET_DATABASE_URL", migrated_url)
    monkeypatch.setenv("TRADEFLEET_MARKET", "simulated")  # `bots create` must not go online
    get_settings.cache_clear()
    yield migrated_url
    get_settings.cache_clear()


def _args(data: Path, *extra: str) -> list[str]:
    return [
        "optimize", "--strategy", "rsi", "--product", "ETH-USD", "--timeframe", "5m",
        "--data", str(data), "--trials", "6", "--sampler", "random", "--seed", "3",
        "--budget", "1000", *RANGES, *extra,
    ]  # fmt: skip


def _bots(url: str) -> list[Bot]:
    with make_session_factory(make_engine(url))() as session:
        return list(session.scalars(select(Bot).order_by(Bot.id)))


def test_optimize_prints_the_best_and_saves_it_as_a_bot(database: str, candle_file: Path) -> None:
    args = _args(candle_file, "--jobs", "2", "--save-bot", "rsi best", "--save-budget", "500")
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    # The default search ranges, with --range rsi_period=5:20 and profit_target_pct=0:3.
    assert (
        "searching rsi_period 5..20, oversold 10..40, overbought 60..90, buy_amount_pct 2..25, "
        "max_position_pct 10..100, profit_target_pct 0..3 "
        "(the strategy's signal/entry/exit parameters)"
    ) in " ".join(done.stderr.split())
    assert "rsi on ETH-USD: the best 5 of 6 configs by in-sample sharpe" in done.stdout
    assert "6 trials backtested" in done.stdout
    found = re.search(r"best config \(trial (\d+)\): (\{.*\})", done.stdout)
    assert found is not None
    printed = json.loads(found.group(2))
    assert 5 <= printed["rsi_period"] <= 20 and 0 <= printed["profit_target_pct"] <= 3
    assert 10 <= printed["oversold"] <= 40 and 60 <= printed["overbought"] <= 90
    assert 2 <= printed["buy_amount_pct"] <= 25 and 10 <= printed["max_position_pct"] <= 100
    # The library call with the same options chooses the same config.
    same = optimize(rsi_request(load_candles(candle_file), trials=6, jobs=1, top=5))
    assert same.chosen is not None and same.chosen.config == printed
    assert same.chosen.trial_number == int(found.group(1))
    assert "saved bot 1 (rsi best), inactive" in done.stdout
    [bot] = _bots(database)
    assert (bot.name, bot.strategy_type, bot.product_id, bot.timeframe) == (
        "rsi best", "rsi", "ETH-USD", "5m",
    )  # fmt: skip
    assert (bot.budget, bot.is_active) == (Decimal(500), False)
    assert bot.strategy_config == printed


def test_a_taken_bot_name_fails_before_the_search(database: str, candle_file: Path) -> None:
    made = runner.invoke(
        app, ["bots", "create", "--name", "taken", "--strategy", "rsi", "--product", "ETH-USD",
              "--budget", "100"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    done = runner.invoke(app, _args(candle_file, "--jobs", "1", "--save-bot", "taken"))
    assert done.exit_code == 2
    assert "save-bot name: a bot named 'taken' already exists" in done.stderr
    assert "trials backtested" not in done.stdout


def test_walk_forward_prints_every_fold_and_the_chained_result(candle_file: Path) -> None:
    done = runner.invoke(app, [*_args(candle_file, "--jobs", "1", "--top", "2"),
                               "--walk-forward", "2", "--objective", "calmar"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "fold 1/2: rsi on ETH-USD: the best 2 of 6 configs by in-sample calmar" in done.stdout
    assert "fold 2/2: rsi on ETH-USD" in done.stdout
    assert "walk-forward: each fold's best config on the window after it" in done.stdout
    assert re.search(r"best config \(trial \d+ of fold 2\): \{", done.stdout)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--strategy", "nope"], "unknown strategy 'nope'"),
        (["--params", "nope"], "rsi has no parameter 'nope'"),
        (["--range", "oversold=0:40"], "--range oversold: 0 must be at least 1"),
        (
            ["--range", "take_profit_pct=1:2000"],
            "--range take_profit_pct: 2000 must be at most 1000",
        ),
        (["--range", "oversold"], "write NAME=LOW:HIGH"),
        (["--objective", "money"], "--objective: 'money' is not one of: sharpe, profit, calmar"),
        (["--sampler", "grid"], "--sampler: 'grid' is not one of: tpe, random"),
        (["--split", "1.5"], "--split: the train share must be between 0 and 1"),
        (["--walk-forward", "0"], "--walk-forward: must be at least 1"),
        (["--walk-forward", "2000"], "too few candles for 2000 walk-forward folds"),
        (["--trials", "0"], "--trials: must be at least 1"),
        (["--jobs", "0"], "--jobs: must be at least 1"),
        (["--timeframe", "7m"], "--timeframe"),
        (["--budget", "-1"], "--budget: must be greater than 0"),
        (["--budget", "1.0000000000000000001"], "--budget: must have at most 18 decimal places"),
        (["--fee-taker", "2"], "--fee-taker: must be a fraction"),
        (["--product", "ethusd"], "--product: product id must look like 'ETH-BTC'"),
        (["--config", '{"rsi_period": 1}'], "--config: rsi_period: must be at least 2"),
        (["--engine", "nope"], "--engine: unknown backtest engine 'nope'"),
        (["--storage", "sqlite:///x.db"], "--storage needs --study NAME"),
        (["--study", "s"], "--study needs --storage URL"),
        (
            ["--storage", "postgresql://u:secret@127.0.0.1:1/x", "--study", "s", "--jobs", "1"],
            "--storage postgresql://***@127.0.0.1:1/x: cannot open",
        ),
        (["--data", "missing.csv"], "missing.csv: no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    candle_file: Path, extra: list[str], message: str
) -> None:
    done = runner.invoke(app, [*_args(candle_file), *extra])
    assert done.exit_code == 2, done.output
    text = " ".join(done.stderr.split())
    assert message in text
    assert "secret" not in text and "Traceback" not in done.output
