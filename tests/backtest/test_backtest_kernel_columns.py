"""``kernel_columns``: the kernel's fills as exact integer columns, without Fill objects.

Every column must equal the one read off ``to_fills`` (the Decimal rules of
``fill_model``) at 1e-18, whatever the product's increments, the fee rates and the
budget's size; where it cannot promise that (slippage, more than 18 places), it says so
with ``None``.
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

import numpy as np
from tests.backtest.backtest_testkit import FEES, PRODUCT, bar
from tests.backtest.test_backtest_engines_replay import (
    _random_deal_settings,
    _random_grid,
    _random_walk,
)
from tests.backtest.test_backtest_ledger import replay_input

from tradefleet.backtest.columns import FillColumns
from tradefleet.backtest.kernel import KernelResult, to_fills
from tradefleet.backtest.kernel_columns import fill_columns
from tradefleet.deals.settings import DealSettings, GridSettings
from tradefleet.domain import Candle, FeeSchedule, ProductSpec

D = Decimal
PRODUCTS = [
    PRODUCT,  # 0.0001 base, 0.01 price
    replace(PRODUCT, base_increment=D("0.00000001"), base_min_size=D("0.00000001")),
    replace(PRODUCT, base_increment=D("0.001"), price_increment=D("0.05")),
    replace(PRODUCT, base_increment=D("1"), base_min_size=D("1"), price_increment=D("0.001")),
]
RATES = [D(0), D("0.006"), D("0.0035"), D("0.00125"), D("0.004")]


def run(
    config: DealSettings | GridSettings,
    bars: list[Candle],
    actions: str,
    product: ProductSpec = PRODUCT,
    fees: FeeSchedule = FEES,
) -> KernelResult:
    """The kernel's run of ``actions`` (B, S, . per candle)."""
    return replay_input(config, bars, actions, product, fees).kernel


def at_18(columns: FillColumns) -> dict[str, list[int]]:
    values = {
        name: (getattr(columns, name).astype(object) * 10 ** (18 - columns.scale)).tolist()
        for name in ("base", "quote", "fee")
    }
    return {**values, "time": columns.time.tolist(), "buy": columns.buy.tolist()}


def test_a_buy_and_its_sell_worked_out_by_hand() -> None:
    # 100 USD at 100 with a 0.6 % taker fee: 0.994 ETH for 99.40 + 0.5964 fee; the take
    # profit of 1 % sells it at 101.00 (its own price): 100.394 + 0.4015760 maker fee.
    config = DealSettings(budget=D(1000), base_order_quote=D(100), take_profit_pct=D(1))
    bars = [
        bar(0, 100, 100, 100, 100),
        bar(60, 100, 100.5, 99.5, 100),
        bar(120, 100, 102, 100, 101),
    ]
    result = run(config, bars, "B..")
    columns = fill_columns(result, PRODUCT, config.budget)
    assert columns is not None
    assert (columns.scale, columns.base.dtype) == (12, np.int64)  # 2 + 4 places, fees 12
    assert columns.base.tolist() == [994 * 10**9, 994 * 10**9]
    assert columns.quote.tolist() == [99_400 * 10**9, 100_394 * 10**9]
    assert columns.fee.tolist() == [596_400_000_000, 401_576_000_000]
    assert columns.buy.tolist() == [True, False]
    assert at_18(columns) == at_18(FillColumns.of(to_fills(result, PRODUCT)))


def test_random_runs_equal_the_decimal_fills() -> None:
    checked = 0
    for seed in range(150):
        rng = random.Random(seed)
        product = rng.choice(PRODUCTS)
        scale = rng.choice([D(1), D("0.01"), D(100_000)])  # 1e5: the budget beyond int64
        config = _random_grid(rng) if seed % 5 == 0 else _random_deal_settings(rng, scale)
        fees = FeeSchedule(taker=rng.choice(RATES), maker=rng.choice(RATES))
        bars = _random_walk(rng, rng.randint(30, 200), rng.choice([0.005, 0.02, 0.05]))
        actions = "".join(rng.choice("BS...") for _ in bars)
        result = run(config, bars, actions, product, fees)
        columns = fill_columns(result, product, config.budget)
        assert columns is not None, seed
        assert at_18(columns) == at_18(FillColumns.of(to_fills(result, product))), seed
        checked += len(columns)
    assert checked > 1000  # not vacuous


def test_a_budget_beyond_int64_keeps_python_ints() -> None:
    config = DealSettings(budget=D(10**9), base_order_quote=D(10**8), take_profit_pct=D(1))
    bars = [bar(i * 60, 100, 102, 99, 101) for i in range(4)]
    result = run(config, bars, "B...")
    columns = fill_columns(result, PRODUCT, config.budget)
    assert columns is not None and columns.quote.dtype == object
    assert at_18(columns) == at_18(FillColumns.of(to_fills(result, PRODUCT)))


def test_it_declines_where_the_integers_could_differ() -> None:
    config = DealSettings(budget=D(1000), base_order_quote=D(100), take_profit_pct=D(1))
    bars = [bar(i * 60, 100, 102, 99, 101) for i in range(4)]
    slipped = replace(FEES, slippage=D("0.001"))  # a slipped price is a rounded product
    assert fill_columns(run(config, bars, "B...", fees=slipped), PRODUCT, config.budget) is None
    fine = replace(PRODUCT, base_increment=D("1E-12"), price_increment=D("1E-8"))
    assert fill_columns(run(config, bars, "B...", product=fine), fine, config.budget) is None
    long_open = [bar(i * 60, 100.123456789012345, 102, 99, 101) for i in range(4)]
    assert fill_columns(run(config, long_open, "B..."), PRODUCT, config.budget) is None
