"""Edges of the exact integer columns (found in review): sums beyond int64, divisors beyond
int64, lot counts beyond int64, order quotes beyond int64, budgets with too many places.

Each run must give the reference engine's result (or its error), never a wrapped
integer or an OverflowError.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest
from tests.backtest.backtest_testkit import arrays, bar

from tradefleet.backtest.engines import EngineJob, reference_engine
from tradefleet.backtest.fast_engine import kernel_engine
from tradefleet.backtest.metrics import Metrics
from tradefleet.backtest.runner import run_backtest
from tradefleet.deals.settings import DealSettings
from tradefleet.domain import CandleArrays, FeeSchedule, ProductSpec
from tradefleet.market.products import default_spec
from tradefleet.strategies import StrategyConfigError

D = Decimal
SATOSHI = D("0.00000001")


def flat(count: int, open_: float, high: float, low: float, close: float) -> CandleArrays:
    return arrays([bar(i * 60, open_, high, low, close) for i in range(count)])


def both(
    strategy: str,
    config: dict[str, object],
    candles: CandleArrays,
    run: tuple[ProductSpec, Decimal, FeeSchedule],
) -> tuple[Metrics, Metrics]:
    """``run_backtest`` on both engines, which must agree; ``run`` = (product, budget, fees)."""
    product, budget, fees = run
    results = [
        run_backtest(strategy, config, candles, product, budget, fees, engine=engine)
        for engine in ("reference", "kernel")
    ]
    reference, kernel = results
    assert kernel.metrics == reference.metrics
    assert list(kernel.fills) == list(reference.fills)
    assert list(kernel.deals) == list(reference.deals)
    assert kernel.equity.tolist() == reference.equity.tolist()
    return reference.metrics, kernel.metrics


def test_fees_paid_beyond_int64_are_summed_exactly() -> None:
    # 798 buys of 75,000 at a 60 % taker fee: fees of 18.7 M USD, 1.87e19 at 1e-12.
    product = replace_increments(default_spec("ETH-USD"), base=SATOSHI, price=D("0.01"))
    config = {"buy_amount": 75000, "interval_minutes": 1, "take_profit_pct": 100}
    fees = FeeSchedule(taker=D("0.6"), maker=D("0.2"))
    reference, _kernel = both(
        "simple_dca", config, flat(800, 1, 2, 1, 1), (product, D(75000), fees)
    )
    assert reference.fees_paid == D(18_703_125)


def test_a_fee_rate_with_many_places_divides_beyond_int64() -> None:
    candles = arrays([bar(i * 60, 100 + i % 7, 108, 99, 100 + (i + 3) % 7) for i in range(120)])
    fees = FeeSchedule(taker=D("1E-20"), maker=D("0.004"))
    reference, _kernel = both(
        "ema_cross", {"fast_period": 3, "slow_period": 8}, candles,
        (default_spec("ETH-USD"), D(1000), fees),
    )  # fmt: skip
    assert reference.fills > 0


def test_a_deal_of_more_lots_than_int64_holds_falls_back_to_the_reference() -> None:
    product = replace_increments(default_spec("ETH-BTC"), base=SATOSHI, price=SATOSHI)
    config = {"buy_amount": 50_000_000, "interval_minutes": 2}
    reference, _kernel = both(
        "simple_dca", config, flat(6, 0.001, 0.001, 0.001, 0.001),
        (product, D(100_000_000), FeeSchedule()),
    )  # fmt: skip
    assert reference.fills == 2


@pytest.mark.parametrize("order", ["base", "add"])
def test_an_order_quote_beyond_int64_that_never_fits_is_no_error(order: str) -> None:
    huge = D("1e7")
    settings = DealSettings(
        budget=D(10000),
        base_order_quote=huge if order == "base" else D(1000),
        add_order_quote=huge if order == "add" else D(0),
        adds_require_below_average=False,
        exit_min_profit_pct=D(-100),
    )
    bars = [bar(i * 60, 100.0 - i, 101.0, 90.0, 100.0 - i - 0.5) for i in range(6)]
    actions = "B.B.S."
    job = EngineJob(
        settings, arrays(bars), np.array([a == "B" for a in actions]),
        np.array([a == "S" for a in actions]), default_spec("ETH-USD"),
        FeeSchedule(taker=D("0.006"), maker=D("0.004")), 60,
    )  # fmt: skip
    assert kernel_engine(job) == reference_engine(job)


def test_a_budget_with_more_than_18_places_is_refused_on_both_engines() -> None:
    candles = flat(60, 100, 101, 99, 100)
    for engine in ("reference", "kernel"):
        with pytest.raises(StrategyConfigError, match="budget: must have at most 18 decimal"):
            run_backtest(
                "rsi", None, candles, default_spec("ETH-USD"),
                D("1000.0000000000000000001"), FeeSchedule(), engine=engine,
            )  # fmt: skip


def replace_increments(spec: ProductSpec, *, base: Decimal, price: Decimal) -> ProductSpec:
    return replace(spec, base_increment=base, base_min_size=base, price_increment=price,
                   quote_increment=price, quote_min_size=price)  # fmt: skip
