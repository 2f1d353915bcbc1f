"""The hand-worked deal rules of issue 7 in the live engine (paper mode, one candle per
cycle over a replayed file), and the same fills from both backtest engines.

A scripted strategy buys on the candles whose minute of the day it is given, and never
sells on a signal, so every fill below follows from the deal rules alone. Product
ETH-BTC (prices on 0.00001, sizes on 0.00000001), budget 0.1, taker 0.6 %, maker 0.4 %,
no slippage.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select
from tests.parity.parity_testkit import (
    BUDGET,
    MINUTE,
    PRODUCT_ID,
    START,
    BotPlan,
    engine_fills,
    run_engine,
    write_replay,
)

from tradefleet.backtest.data import load_period
from tradefleet.backtest.runner import run_backtest
from tradefleet.db.migrate import upgrade_database
from tradefleet.db.models import Position, Signal
from tradefleet.db.session import make_engine, make_session_factory
from tradefleet.deals.settings import DealSettings
from tradefleet.domain import Candle, CandleArrays, FeeSchedule
from tradefleet.market.products import default_spec
from tradefleet.strategies import StrategyRegistry
from tradefleet.strategies.base import SignalArrays, TradingStrategy
from tradefleet.strategies.deal_params import (
    EntrySizing,
    build_deal_settings,
    deal_parameters,
    pct_of,
)
from tradefleet.strategies.parameters import StrategyDefinition, StrategyParameter

D = Decimal
FEES = FeeSchedule(taker=D("0.006"), maker=D("0.004"))
DAY = 86_400


def _minute(index: int) -> int:
    """The minute of the day of candle ``index``."""
    return (START + index * MINUTE) % DAY // MINUTE


class Scripted(TradingStrategy):
    """BUY on the candles of the given minutes of the day; no SELL signal."""

    definition = StrategyDefinition(
        id="scripted",
        name="Scripted",
        description="Buys at fixed minutes of the day (tests only).",
        parameters=(
            *(
                StrategyParameter(name=f"buy_at_{k}", type="int", default=-1, min=-1, max=1439)
                for k in (1, 2, 3)
            ),
            StrategyParameter(name="buy_pct", type="float", default=10.0, min=0.1, max=100),
            *deal_parameters(),
        ),
    )

    def warmup(self) -> int:
        return 1

    def compute(self, candles: CandleArrays) -> SignalArrays:
        minutes = candles.time % DAY // MINUTE
        wanted = [self.params[f"buy_at_{k}"] for k in (1, 2, 3)]
        buy = np.isin(minutes, [m for m in wanted if m >= 0])
        return SignalArrays(buy=buy, sell=np.zeros_like(buy), indicators={})

    def deal_settings(self, budget: Decimal) -> DealSettings:
        sizing = EntrySizing(pct_of(budget, self.params["buy_pct"]), signal_exit=False)
        return build_deal_settings(self.params, budget, sizing)


@pytest.fixture(autouse=True)
def scripted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(StrategyRegistry._classes, "scripted", Scripted)


def bar(index: int, o: float, h: float, low: float, c: float) -> Candle:
    return Candle(START + index * MINUTE, o, h, low, c, 1.0)


def run_all(tmp_path: Path, config: dict[str, Any], candles: list[Candle]) -> tuple[str, int]:
    """The bot in the engine; the backtests on both engines must fill the same."""
    url = f"sqlite:///{tmp_path / 'tradefleet.db'}"
    upgrade_database(url)
    path = write_replay(tmp_path / "replay", candles)
    plan = BotPlan("scripted", "scripted", config)
    bot_id = asyncio.run(run_engine(url, tmp_path / "replay", [plan], candles, FEES))["scripted"]
    live = engine_fills(url, bot_id)
    data = load_period(path, "1m", warmup=1, allow_gaps=False)
    for engine in ("reference", "kernel"):
        result = run_backtest(
            "scripted", config, data.candles, default_spec(PRODUCT_ID), BUDGET, FEES,
            timeframe="1m", start=data.start, engine=engine,
        )  # fmt: skip
        rows = [
            (f.time, f.side.value, f.price, f.base_amount, f.quote_amount, f.fee)
            for f in result.fills
        ]
        assert rows == live, engine
    return url, bot_id


def prices(url: str, bot_id: int) -> list[tuple[int, str, Decimal]]:
    return [(t - START, side, price) for t, side, price, *_ in engine_fills(url, bot_id)]


def test_trailing_waits_for_a_high_after_the_safety_fills(tmp_path: Path) -> None:
    """The issue's case (its prices were in units of 1e-5): base buy at 0.09438, three
    safety orders at 0.09438 x 0.99/0.98/0.97 -> 0.09344, 0.09249, 0.09155 all fill on
    candle 2, whose high 0.09548 came before them. Average 0.0929509..., activation
    x 1.015 -> 0.09435, first reached by candle 5's high 0.09436: stop 0.09436 x 0.995 =
    0.0938882 -> 0.09389, gapped through by candle 6's open 0.09351."""
    config = {
        "buy_at_1": _minute(0), "safety_order_count": 3, "safety_order_pct": 10.0,
        "safety_order_deviation_pct": 1.0, "take_profit_pct": 1.5,
        "trailing_deviation_pct": 0.5,
    }  # fmt: skip
    candles = [
        bar(0, 0.0944, 0.0944, 0.0944, 0.0944),
        bar(1, 0.09438, 0.0945, 0.0943, 0.0944),
        bar(2, 0.09472, 0.09548, 0.09058, 0.0930),
        bar(3, 0.0930, 0.0940, 0.0925, 0.0935),
        bar(4, 0.0935, 0.0943, 0.0930, 0.0940),
        bar(5, 0.0940, 0.09436, 0.0939, 0.0941),
        bar(6, 0.09351, 0.0936, 0.0934, 0.0935),
        bar(7, 0.0935, 0.0935, 0.0935, 0.0935),
    ]
    url, bot_id = run_all(tmp_path, config, candles)
    assert prices(url, bot_id) == [
        (60, "buy", D("0.09438")),
        (120, "buy", D("0.09344")),
        (120, "buy", D("0.09249")),
        (120, "buy", D("0.09155")),
        (360, "sell", D("0.09351")),
    ]
    with make_session_factory(make_engine(url))() as session:
        deal = session.scalars(select(Position).where(Position.bot_id == bot_id)).one()
    assert (deal.take_profit_price, deal.stop_price) == (D("0.09435"), D("0.09389"))
    assert deal.close_reason == "trailing_take_profit"


def test_the_cooldown_counts_to_the_close_of_the_deciding_candle(tmp_path: Path) -> None:
    """Take profit 1 % of the buy at 0.05 -> 0.0505, filled on candle 2 (the exit's time
    is that candle's open, 120 s). Cooldown 3 minutes: the BUY of candle 3 is decided at
    its close, 240 s, 2 minutes after the exit: refused; the BUY of candle 4, decided at
    300 s, 3 minutes after: its base order fills at candle 5's open."""
    config = {
        "buy_at_1": _minute(0), "buy_at_2": _minute(3), "buy_at_3": _minute(4),
        "take_profit_pct": 1.0, "cooldown_minutes": 3,
    }  # fmt: skip
    candles = [bar(0, 0.05, 0.05, 0.05, 0.05), bar(1, 0.05, 0.05, 0.05, 0.05)]
    candles += [bar(2, 0.05, 0.0506, 0.05, 0.0505)]
    candles += [bar(i, 0.0505, 0.0505, 0.0505, 0.0505) for i in range(3, 7)]
    url, bot_id = run_all(tmp_path, config, candles)
    assert prices(url, bot_id) == [
        (60, "buy", D("0.05")),
        (120, "sell", D("0.0505")),
        (300, "buy", D("0.0505")),
    ]


def test_a_loss_exhausts_the_budget_and_the_bot_says_so(tmp_path: Path) -> None:
    """All in: 0.1 at 0.05 buys 0.1 / 0.0503 -> 1.98807157 for 0.0994035785 + fee
    0.000596421471 = 0.099999999971. The 5 % stop at 0.0475 fills on candle 2:
    1.98807157 x 0.0475 = 0.094433399575, fee 0.000566600397, so the deal loses
    0.099999999971 - 0.093866799178 = 0.006133200793. The BUY of candle 3 would commit 0.1
    of the 0.093866799207 left: refused, and the signal log says why."""
    config = {
        "buy_at_1": _minute(0), "buy_at_2": _minute(3), "buy_pct": 100.0,
        "stop_loss_pct": 5.0,
    }  # fmt: skip
    candles = [bar(0, 0.05, 0.05, 0.05, 0.05), bar(1, 0.05, 0.05, 0.05, 0.05)]
    candles += [bar(2, 0.05, 0.05, 0.047, 0.048)]
    candles += [bar(i, 0.048, 0.048, 0.048, 0.048) for i in range(3, 6)]
    url, bot_id = run_all(tmp_path, config, candles)
    assert prices(url, bot_id) == [(60, "buy", D("0.05")), (120, "sell", D("0.0475"))]
    with make_session_factory(make_engine(url))() as session:
        (deal,) = session.scalars(select(Position).where(Position.bot_id == bot_id))
        notes = session.scalars(
            select(Signal.reason).where(Signal.bot_id == bot_id, Signal.action == "error")
        ).all()
    assert deal.realized_pnl == D("-0.006133200793")
    assert notes == ["budget exhausted: realised loss 0.006133200793 of budget 0.1"]
