"""The compiled ``kernel`` engine (the default) gives exactly what the ``reference`` gives.

Every built-in strategy runs through ``run_backtest`` with both engines over a seeded
random walk of 3,000 one-minute ETH-BTC candles (volatile and calm stretches, gapping
opens, slippage), from the first candle, from a later start, and with missing candles.
Fills, deals, the exact equity points and every metric must be equal (``==``), and the
configurations must really exercise safety orders, signal adds, take profit, trailing,
stop loss, signal exits, two deals at once, a cooldown and a grid (part of it held back
by the budget). The CLI uses the kernel unless told otherwise and writes the same JSON.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.backtest.backtest_testkit import HOUR, MINUTE
from typer.testing import CliRunner

from tradefleet.backtest.data import slice_candles
from tradefleet.backtest.engines import engine_names
from tradefleet.backtest.fast_engine import DEFAULT_ENGINE, KERNEL_ENGINE
from tradefleet.backtest.runner import BacktestResult, run_backtest
from tradefleet.cli import app
from tradefleet.domain import Candle, CandleArrays, FeeSchedule
from tradefleet.market.csvfile import write_candle_csv
from tradefleet.market.products import default_spec
from tradefleet.strategies import StrategyRegistry

D = Decimal
PRODUCT = default_spec("ETH-BTC")
BUDGET = D("0.1")
FEES = FeeSchedule(taker=D("0.006"), maker=D("0.004"), slippage=D("0.0005"))
CANDLES = 3_000
SAFETY = {"safety_order_pct": 10.0, "safety_order_deviation_pct": 0.6}

PLANS: dict[str, tuple[str, dict[str, Any]]] = {
    "rsi-safety-tp-sl": ("rsi", {
        "rsi_period": 7, "oversold": 35, "overbought": 65, "profit_target_pct": 0.3,
        "take_profit_pct": 1.0, "stop_loss_pct": 2.5, "safety_order_count": 3, **SAFETY,
    }),
    "rsi-two-deals-trailing-cooldown": ("rsi", {
        "rsi_period": 5, "oversold": 40, "overbought": 60, "profit_target_pct": 0.2,
        "take_profit_pct": 0.5, "trailing_deviation_pct": 0.2, "stop_loss_pct": 1.5,
        "max_active_deals": 2, "cooldown_minutes": 15, "max_position_pct": 20,
        "safety_order_count": 1, **SAFETY,
    }),
    "macd-adds-safety-sl": ("macd_dca", {
        "macd_fast": 5, "macd_slow": 12, "macd_signal": 4, "min_profit_pct": 0.2,
        "stop_loss_pct": 1.5, "safety_order_count": 2, **SAFETY,
    }),
    "bollinger-adds-tp-sl": ("bollinger", {
        "bb_period": 12, "min_profit_pct": 0.2, "stop_loss_pct": 1.0, "take_profit_pct": 1.2,
    }),
    "simple-dca-tp-sl": ("simple_dca", {
        "buy_amount": 0.005, "interval_minutes": 20, "take_profit_pct": 0.6,
        "stop_loss_pct": 2.0,
    }),
    "ema-trailing-sl": ("ema_cross", {
        "fast_period": 4, "slow_period": 10, "take_profit_pct": 0.6,
        "trailing_deviation_pct": 0.25, "stop_loss_pct": 1.2,
    }),
    "grid": ("grid", {
        "lower_price": 0.046, "upper_price": 0.054, "levels": 12, "quote_per_level": 0.008,
    }),
    "grid-whole-budget": ("grid", {  # with the fees the ten levels need more than it
        "lower_price": 0.044, "upper_price": 0.056, "levels": 11, "quote_per_level": 0.01,
    }),
}  # fmt: skip


def random_walk(seed: int, count: int, start: float = 0.05) -> list[Candle]:
    """One-minute candles: volatile and calm hours, a slow swing, the odd gapping open."""
    rng = random.Random(seed)
    candles: list[Candle] = []
    close, vol = start, 0.004
    for index in range(count):
        if index % 60 == 0:
            vol = rng.choice((0.002, 0.004, 0.007))
        drift = math.sin(index / 97) * vol * 0.3
        open_ = close * (1 + rng.gauss(0, vol / 2)) if rng.random() < 0.05 else close
        close = open_ * math.exp(rng.gauss(drift, vol))
        high = max(open_, close) * (1 + abs(rng.gauss(0, vol / 2)))
        low = min(open_, close) * (1 - abs(rng.gauss(0, vol / 2)))
        prices = (round(open_, 8), round(high, 8), round(low, 8), round(close, 8))
        candles.append(Candle(HOUR + index * MINUTE, *prices, volume=1.0))
    return candles


WALK = CandleArrays.from_candles(random_walk(seed=5, count=CANDLES))
# Missing minutes: an order placed before a gap fills on the next candle present.
GAPPY = CandleArrays.from_candles(
    [c for i, c in enumerate(random_walk(seed=8, count=CANDLES)) if i % 211 not in (7, 8)]
)


def both(
    plan: str, candles: CandleArrays, start: int, caplog: pytest.LogCaptureFixture
) -> tuple[BacktestResult, BacktestResult]:
    """The plan through both engines; the kernel must not have fallen back to the
    reference (it logs when it does)."""
    strategy, config = PLANS[plan]
    runs = [
        run_backtest(
            strategy,
            config,
            candles,
            PRODUCT,
            BUDGET,
            FEES,
            timeframe="1m",
            start=start,
            engine=engine,
        )
        for engine in (KERNEL_ENGINE, "reference")
    ]
    assert [r.getMessage() for r in caplog.records if r.name.endswith("fast_engine")] == []
    return runs[0], runs[1]


def assert_identical(kernel: BacktestResult, reference: BacktestResult) -> None:
    assert kernel.fills == reference.fills
    assert kernel.deals == reference.deals
    assert kernel.equity_points() == reference.equity_points()
    assert kernel.equity.tolist() == reference.equity.tolist()
    assert kernel.metrics == reference.metrics


def warm(plan: str) -> int:
    strategy, config = PLANS[plan]
    return StrategyRegistry.create(strategy, config).warmup() - 1


@pytest.fixture(autouse=True)
def _fallback_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tradefleet.backtest.fast_engine")


def test_the_kernel_is_the_default_and_reference_stays_selectable() -> None:
    assert DEFAULT_ENGINE == KERNEL_ENGINE == "kernel"
    assert {"kernel", "reference"} <= set(engine_names())


@pytest.mark.parametrize("plan", list(PLANS))
def test_every_strategy_backtests_identically_on_both_engines(
    plan: str, caplog: pytest.LogCaptureFixture
) -> None:
    kernel, reference = both(plan, WALK, 0, caplog)
    assert len(kernel.fills) >= 20, "too few fills to mean anything"
    assert_identical(kernel, reference)


@pytest.mark.parametrize("plan", list(PLANS))
def test_a_later_start_only_warms_up_on_both_engines(
    plan: str, caplog: pytest.LogCaptureFixture
) -> None:
    start = 1_234
    kernel, reference = both(plan, WALK, start, caplog)
    assert kernel.fills and min(f.time for f in kernel.fills) > int(WALK.time[start])
    assert kernel.times.tolist() == WALK.time[start:].tolist()
    assert_identical(kernel, reference)


@pytest.mark.parametrize("plan", list(PLANS))
def test_missing_candles_backtest_identically_on_both_engines(
    plan: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert len(GAPPY) < CANDLES
    kernel, reference = both(plan, GAPPY, warm(plan), caplog)
    assert_identical(kernel, reference)


def test_the_plans_exercise_every_strategy_and_deal_feature(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Guards the tests above against going vacuous after a change of defaults."""
    runs = {plan: both(plan, WALK, 0, caplog)[0] for plan in PLANS}
    assert {s for s, _ in PLANS.values()} == {s.definition.id for s in StrategyRegistry.all()}
    deals = [d for r in runs.values() for d in r.deals]
    reasons = {d.close_reason for d in deals}
    assert reasons >= {"take_profit", "trailing_take_profit", "stop_loss", "signal", "grid"}
    assert max(d.safety_orders_filled for d in deals) >= 2
    assert max(d.adds_filled for d in deals) >= 1
    assert any(d.status == "open" for d in deals)
    two = sorted(
        (d.opened_at, d.closed_at or 2**62) for d in runs["rsi-two-deals-trailing-cooldown"].deals
    )
    assert any(b[0] < a[1] for a, b in itertools.pairwise(two)), "never two deals at once"
    assert runs["grid-whole-budget"].metrics.funds_needed_peak <= BUDGET


def test_a_window_of_the_walk_backtests_identically(caplog: pytest.LogCaptureFixture) -> None:
    """As the optimiser runs it: a slice of the candles with a warm-up start."""
    window = slice_candles(WALK, 0, 1_700)
    kernel, reference = both("rsi-safety-tp-sl", window, 900, caplog)
    assert_identical(kernel, reference)


def test_progress_completes_on_the_kernel() -> None:
    seen: list[tuple[int, int]] = []
    strategy, config = PLANS["rsi-safety-tp-sl"]
    run_backtest(
        strategy, config, WALK, PRODUCT, BUDGET, FEES, timeframe="1m", start=100,
        progress=lambda done, total: seen.append((done, total)),
    )  # fmt: skip
    assert seen[0] == (0, CANDLES - 100)
    assert seen[-1] == (CANDLES - 100, CANDLES - 100)


def _cli(tmp_path: Path, csv: Path, name: str, *extra: str) -> dict[str, Any]:
    output = tmp_path / f"{name}.json"
    strategy, config = PLANS["rsi-two-deals-trailing-cooldown"]
    args = [
        "backtest", "--strategy", strategy, "--product", "ETH-BTC", "--timeframe", "1m",
        "--data", str(csv), "--output", str(output), "--config", json.dumps(config),
        "--budget", str(BUDGET), "--slippage", str(FEES.slippage), *extra,
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    return document


def test_the_cli_kernel_writes_the_reference_json(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv = tmp_path / "ETH-BTC_1m.csv"
    write_candle_csv(csv, random_walk(seed=5, count=800))
    used: list[str] = []
    real = run_backtest

    def spy(*args: Any, **kwargs: Any) -> BacktestResult:
        used.append(kwargs["engine"])
        return real(*args, **kwargs)

    monkeypatch.setattr("tradefleet.backtest.command.run_backtest", spy)
    kernel = _cli(tmp_path, csv, "kernel", "--engine", "kernel")  # auto: reference, 800 candles
    reference = _cli(tmp_path, csv, "reference", "--engine", "reference")
    assert used == ["kernel", "reference"]
    assert len(kernel["trades"]) >= 10
    assert kernel == reference
    assert [r for r in caplog.records if r.name.endswith("fast_engine")] == []


def test_read_only_candle_arrays_backtest_identically(caplog: pytest.LogCaptureFixture) -> None:
    """Parquet gives read-only arrays; the engine hands the kernel writeable copies
    (numba would otherwise compile another variant of it)."""
    frozen = slice_candles(WALK, 0, 1_000)
    copies = [np.array(column) for column in (frozen.time, frozen.open, frozen.high)]
    columns = [*copies, np.array(frozen.low), np.array(frozen.close), np.array(frozen.volume)]
    for column in columns:
        column.flags.writeable = False
    kernel, reference = both("macd-adds-safety-sl", CandleArrays(*columns), 30, caplog)
    assert_identical(kernel, reference)
