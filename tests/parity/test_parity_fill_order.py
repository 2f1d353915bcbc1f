"""Minimal reproduction: two limit sells of different deals filling on one candle.

Grid levels 0.049 / 0.050 / 0.051 / 0.052 (ETH-BTC). Candle 0 arms deals 1 (0.051),
2 (0.050) and 3 (0.049). Deal 1 buys on candle 1 and sells on candle 2, which re-arms
0.051 as deal 4. Deal 4 buys on candle 3 (its sell at 0.052 is placed then); deal 2
buys on candle 4 (its sell at 0.051 is placed then). Candle 5 reaches both sells: by
the fill model's rule 2 (creation order within a class) deal 4's sell fills first.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from tests.parity.parity_testkit import (
    BUDGET,
    FEES,
    MINUTE,
    PRODUCT_ID,
    START,
    BotPlan,
    engine_fills,
    run_engine,
    write_replay,
)

from tradefleet.backtest.data import load_period
from tradefleet.backtest.runner import BacktestResult, run_backtest
from tradefleet.db.migrate import upgrade_database
from tradefleet.domain import Candle
from tradefleet.market.products import default_spec

GRID = BotPlan(
    "grid",
    "grid",
    {"lower_price": 0.049, "upper_price": 0.052, "levels": 4, "quote_per_level": 0.01},
)
BARS = [  # open, high, low, close
    (0.0515, 0.0515, 0.0515, 0.0515),
    (0.0515, 0.0515, 0.0505, 0.0508),
    (0.0508, 0.0521, 0.0508, 0.0518),
    (0.0518, 0.0518, 0.0509, 0.0512),
    (0.0512, 0.0513, 0.0499, 0.0503),
    (0.0503, 0.0525, 0.0503, 0.0522),
]
CANDLES = [Candle(START + i * MINUTE, o, h, lo, c, 1.0) for i, (o, h, lo, c) in enumerate(BARS)]


def _backtest(path: Path) -> BacktestResult:
    data = load_period(path, "1m", warmup=GRID.warmup())
    spec = default_spec(PRODUCT_ID)
    return run_backtest("grid", GRID.config, data.candles, spec, BUDGET, FEES, timeframe="1m")


def test_the_backtest_fills_the_older_order_first(tmp_path: Path) -> None:
    result = _backtest(write_replay(tmp_path, CANDLES))
    last = START + 5 * MINUTE
    on_last = [(f.client_order_id, f.price) for f in result.fills if f.time == last]
    assert on_last == [("tf-1-4-gs3c2n2", Decimal("0.052")), ("tf-1-2-gs2c1n2", Decimal("0.051"))]
    # The sells re-arm their levels in that order: deal 5 at 0.051, deal 6 at 0.050.
    assert [(d.seq, d.status) for d in result.deals][-2:] == [(5, "open"), (6, "open")]


def test_the_engine_fills_them_in_the_same_order(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tradefleet.db'}"
    upgrade_database(url)
    path = write_replay(tmp_path / "replay", CANDLES)
    bot_ids = asyncio.run(run_engine(url, tmp_path / "replay", [GRID], CANDLES))
    live = engine_fills(url, bot_ids["grid"])
    expected = [
        (f.time, f.side.value, f.price, f.base_amount, f.quote_amount, f.fee)
        for f in _backtest(path).fills
    ]
    assert live == expected
