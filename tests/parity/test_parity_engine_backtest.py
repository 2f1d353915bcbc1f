"""Parity: the live engine in paper mode fills exactly what the backtest fills.

Every built-in strategy runs as a bot over a replayed random walk (one candle per engine
cycle) and through ``run_backtest`` over the same CSV file; their fills must be equal
to the last digit (time, side, price, base, quote, fee) and so must their deals, with
the backtest on the reference engine (the Python deal manager) and on the compiled
kernel (the default).
The configurations make the run exercise safety orders, take profit, the trailing take
profit, stop losses, signal exits, several deals at once and a grid; the candles have
gapping opens and a few missing minutes. Exits of several deals filling on one candle
fill in creation order in both (see test_parity_fill_order.py).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.parity.parity_testkit import (
    BUDGET,
    FEES,
    PRODUCT_ID,
    BotPlan,
    DealRow,
    FillRow,
    engine_deals,
    engine_errors,
    engine_fills,
    random_walk,
    run_engine,
    write_replay,
)

from tradefleet.backtest.data import load_period
from tradefleet.backtest.runner import BacktestResult, run_backtest
from tradefleet.db.migrate import upgrade_database
from tradefleet.db.models import Signal
from tradefleet.db.session import make_engine, make_session_factory
from tradefleet.domain import Side
from tradefleet.market.products import default_spec
from tradefleet.money import canonical, round_nearest
from tradefleet.strategies import StrategyRegistry

D = Decimal
CANDLES = 600
MISSING = {300, 301, 455}  # gaps: an order placed before one fills on the next candle present
DEAL = {"safety_order_pct": 10.0}

PLANS = [
    BotPlan(
        "rsi safety tp sl",
        "rsi",
        {
            "rsi_period": 7, "oversold": 35, "overbought": 65, "profit_target_pct": 0.3,
            "take_profit_pct": 1.0, "stop_loss_pct": 2.5, "safety_order_count": 3,
            "safety_order_deviation_pct": 0.6, **DEAL,
        },
    ),
    BotPlan(
        "rsi several deals trailing",
        "rsi",
        {
            "rsi_period": 5, "oversold": 40, "overbought": 60, "profit_target_pct": 0.2,
            "take_profit_pct": 0.5, "trailing_deviation_pct": 0.2, "stop_loss_pct": 1.5,
            "max_active_deals": 3, "safety_order_count": 1, "safety_order_deviation_pct": 0.4,
            **DEAL,
        },
    ),
    BotPlan(
        "macd safety sl",
        "macd_dca",
        {
            "macd_fast": 5, "macd_slow": 12, "macd_signal": 4, "min_profit_pct": 0.2,
            "stop_loss_pct": 1.5, "safety_order_count": 2, "safety_order_deviation_pct": 0.7,
            **DEAL,
        },
    ),
    BotPlan(
        "bollinger sl",
        "bollinger",
        {"bb_period": 12, "min_profit_pct": 0.2, "stop_loss_pct": 1.0, "take_profit_pct": 1.2},
    ),
    BotPlan(
        "simple dca tp sl",
        "simple_dca",
        {"buy_amount": 0.005, "interval_minutes": 20, "take_profit_pct": 0.6, "stop_loss_pct": 2.0},
    ),
    BotPlan(
        "ema trailing sl",
        "ema_cross",
        {
            "fast_period": 4, "slow_period": 10, "take_profit_pct": 0.6,
            "trailing_deviation_pct": 0.25, "stop_loss_pct": 1.2,
        },
    ),
    BotPlan(
        "ema losing all in",
        "ema_cross",
        {"fast_period": 3, "slow_period": 7, "buy_pct": 97, "cooldown_minutes": 3},
    ),
    BotPlan(
        "rsi trailing after safety",
        "rsi",
        {
            "rsi_period": 5, "oversold": 40, "overbought": 75, "profit_target_pct": 5,
            "take_profit_pct": 0.2, "trailing_deviation_pct": 0.1, "safety_order_count": 3,
            "safety_order_deviation_pct": 0.5, **DEAL,
        },
    ),
    BotPlan(
        "grid",
        "grid",
        {"lower_price": 0.048, "upper_price": 0.052, "levels": 9, "quote_per_level": 0.008},
    ),
]  # fmt: skip


@dataclass(frozen=True)
class Replayed:
    url: str
    path: Path
    bot_ids: dict[str, int]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Replayed:
    """Every plan run once by the live engine over the same replayed candles."""
    directory = tmp_path_factory.mktemp("parity")
    url = f"sqlite:///{directory / 'tradefleet.db'}"
    upgrade_database(url)
    walk = random_walk(seed=11, count=CANDLES)
    candles = [c for i, c in enumerate(walk) if i not in MISSING]
    path = write_replay(directory / "replay", candles)
    bot_ids = asyncio.run(run_engine(url, directory / "replay", PLANS, candles))
    errors = engine_errors(url)
    assert all(message.startswith("budget exhausted") for message in errors.values()), errors
    return Replayed(url, path, bot_ids)


def _backtest(path: Path, plan: BotPlan, engine: str = "kernel") -> BacktestResult:
    warmup = plan.warmup()
    data = load_period(path, "1m", warmup=warmup, allow_gaps=True)
    assert data.start == warmup - 1
    return run_backtest(
        plan.strategy,
        plan.config,
        data.candles,
        default_spec(PRODUCT_ID),
        BUDGET,
        FEES,
        timeframe="1m",
        start=data.start,
        engine=engine,
    )


def _fill_rows(result: BacktestResult) -> list[FillRow]:
    return [
        (f.time, f.side.value, f.price, f.base_amount, f.quote_amount, f.fee) for f in result.fills
    ]


def _deal_rows(result: BacktestResult) -> list[DealRow]:
    rows = [
        (d.seq, d.status, d.close_reason, d.bought_base, d.bought_quote, d.sold_quote,
         d.realized_pnl)
        for d in result.deals
    ]  # fmt: skip
    return sorted(rows, key=lambda row: row[0])


CASES = [pytest.param(plan, id=plan.name.replace(" ", "-")) for plan in PLANS]


def test_the_plans_cover_every_strategy() -> None:
    assert {plan.strategy for plan in PLANS} == {s.definition.id for s in StrategyRegistry.all()}


@pytest.mark.parametrize("engine", ["reference", "kernel"])
@pytest.mark.parametrize("plan", CASES)
def test_the_engine_fills_what_the_backtest_fills(
    replayed: Replayed, plan: BotPlan, engine: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="tradefleet.backtest.fast_engine"):
        result = _backtest(replayed.path, plan, engine)
    fallbacks = [r for r in caplog.records if r.name == "tradefleet.backtest.fast_engine"]
    assert fallbacks == [], "the kernel fell back to the reference engine"
    bot_id = replayed.bot_ids[plan.name]
    live = engine_fills(replayed.url, bot_id)
    assert len(live) >= 6, "too few fills to mean anything"
    assert live == _fill_rows(result)
    assert engine_deals(replayed.url, bot_id) == _deal_rows(result)


def test_the_replay_exercises_every_exit_and_safety_orders(replayed: Replayed) -> None:
    results = [_backtest(replayed.path, plan) for plan in PLANS]
    reasons = {d.close_reason for r in results for d in r.deals if d.close_reason is not None}
    assert reasons >= {"take_profit", "trailing_take_profit", "stop_loss", "signal", "grid"}
    assert max(r.metrics.max_safety_orders_used for r in results) >= 2
    several = results[1]
    opened = sorted((d.opened_at, d.closed_at or 2**62) for d in several.deals)
    overlapping = any(b[0] < a[1] for a, b in itertools.pairwise(opened))
    assert overlapping, "the several-deals plan never held two deals at once"


def test_the_losing_bot_stops_at_its_budget(replayed: Replayed) -> None:
    """All in at 97 % of the budget on a fee-heavy trend follower: once its realised
    losses pass 3 % of the budget it cannot pay a base order and says so, in the engine
    and in the backtest, and it never pays out more than its budget."""
    plan = next(p for p in PLANS if p.name == "ema losing all in")
    result = _backtest(replayed.path, plan)
    m = result.metrics
    assert m.realized_pnl < -BUDGET * 3 / 100 and m.total_return_pct < 0
    assert m.sharpe is not None and m.sharpe < 0
    assert m.sortino is not None and m.sortino < 0
    assert float(result.equity.min()) > 0
    assert m.funds_needed_peak <= BUDGET
    paid, peak = D(0), D(0)
    for fill in result.fills:
        buy = fill.side is Side.BUY
        paid += fill.quote_amount + fill.fee if buy else fill.fee - fill.quote_amount
        peak = max(peak, paid)
    assert peak == m.funds_needed_peak
    with make_session_factory(make_engine(replayed.url))() as session:
        notes = session.scalars(
            select(Signal.reason).where(
                Signal.bot_id == replayed.bot_ids[plan.name], Signal.action == "error"
            )
        ).all()
    assert notes, "the losing bot never ran out of budget"
    assert all(n.startswith("budget exhausted: realised loss ") for n in notes)
    loss = canonical(-m.realized_pnl)
    assert notes[-1] == f"budget exhausted: realised loss {loss} of budget {BUDGET}"


def test_the_trailing_plan_has_safety_fills_under_a_high_above_the_activation(
    replayed: Replayed,
) -> None:
    """The rule of issue 7 part 2 matters in this replay: some candle fills safety orders
    and has a high at or above the deal's new activation price, which must not start
    the trail (engine, reference and kernel agree on the fills above)."""
    plan = next(p for p in PLANS if p.name == "rsi trailing after safety")
    result = _backtest(replayed.path, plan)
    candles = load_period(replayed.path, "1m", warmup=1, allow_gaps=True).candles
    highs = dict(zip(candles.time.tolist(), candles.high.tolist(), strict=True))
    product = default_spec(PRODUCT_ID)
    bought: dict[str, tuple[D, D]] = {}
    blocked = 0
    for fill in result.fills:
        deal = fill.client_order_id.split("-")[2]
        if fill.side is Side.SELL:
            bought.pop(deal, None)
            continue
        quote, base = bought.get(deal, (D(0), D(0)))
        bought[deal] = (quote + fill.quote_amount, base + fill.base_amount)
        if "-s" in fill.client_order_id[3:]:
            quote, base = bought[deal]
            activation = round_nearest(quote / base * D("1.002"), product.price_increment)
            blocked += D(repr(highs[fill.time])) >= activation
    assert blocked >= 1
