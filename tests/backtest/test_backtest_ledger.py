"""``kernel_ledger``: the exact book of signal runs, safety ladders included, derived from
the fills alone.

Its deals must equal the full replay's (``kernel_replay``) to the repr of every Decimal
wherever it answers, and it must decline (``None``) wherever the fills alone do not fix
the book.
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

import numpy as np
from tests.backtest.backtest_testkit import FEES, PRODUCT, arrays, bar
from tests.backtest.test_backtest_engines_replay import _random_deal_settings, _random_walk

from tradefleet.backtest.columns import FillColumns
from tradefleet.backtest.kernel import run_kernel, to_fills
from tradefleet.backtest.kernel.result import quantize_18
from tradefleet.backtest.kernel_columns import fill_columns
from tradefleet.backtest.kernel_ledger import LedgerInput, ledger
from tradefleet.backtest.kernel_replay import ExactBook, ReplayInput, replay_book
from tradefleet.deals.settings import DealSettings, GridSettings, GridSpacing
from tradefleet.domain import Candle, FeeSchedule, ProductSpec
from tradefleet.money import quantize_amount

D = Decimal
FLAT = [bar(i * 60, 100, 100.5, 99.5, 100) for i in range(6)]
PLAIN = DealSettings(budget=D(1000), base_order_quote=D(100), take_profit_pct=D(5))


def replay_input(
    config: DealSettings | GridSettings,
    bars: list[Candle],
    actions: str,
    product: ProductSpec = PRODUCT,
    fees: FeeSchedule = FEES,
) -> ReplayInput:
    candles = arrays(bars)
    buy = np.array([a == "B" for a in actions])
    sell = np.array([a == "S" for a in actions])
    result = run_kernel(config, buy, sell, candles, product, fees, 60)
    fills = to_fills(result, product, 1)
    return ReplayInput(config, candles, buy, sell, product, fees, 60, fills, result)


def ledger_book(data: ReplayInput) -> ExactBook | None:
    """The ledger's book of ``data``, its exact fill columns checked against the fills."""
    from_objects = FillColumns.of(data.fills)
    columns = fill_columns(data.kernel, data.product, data.settings.budget)
    if columns is None:  # slippage: the engine reads the columns off the fills
        columns = from_objects
    for name in ("base", "quote", "fee"):
        exact = getattr(columns, name).astype(object) * 10 ** (18 - columns.scale)
        assert exact.tolist() == getattr(from_objects, name).tolist(), name
    book = ledger(
        LedgerInput(
            data.settings, data.candles, data.buy, data.product, data.fees, data.kernel, columns
        )
    )
    return None if book is None else ExactBook(book.summaries())


def same(a: ExactBook, b: ExactBook) -> bool:
    return repr(a.deals) == repr(b.deals)


def test_a_plain_deal_with_an_add_equals_the_replay() -> None:
    # Base 100 USD at 100 (0.994 ETH + 0.5964 fee), an add of 50 at 99, then a signal exit.
    config = replace(
        PLAIN,
        add_order_quote=D(50),
        adds_require_below_average=False,
        take_profit_pct=D(0),
        exit_min_profit_pct=D(-100),
    )
    bars = [*FLAT[:2], bar(120, 99, 99.5, 98.5, 99), *FLAT[3:]]
    data = replay_input(config, bars, "BB.S..")
    book = ledger_book(data)
    assert book is not None and same(book, replay_book(data))
    (deal,) = book.deals
    assert (deal.status, deal.close_reason, deal.adds_filled) == ("closed", "signal", 1)
    # 100 at 100 -> 0.9940 base for 99.40; 50 at 99 -> 0.5020 for 49.698.
    assert (deal.bought_base, deal.bought_quote) == (D("1.4960"), D("149.098"))


def test_a_safety_ladder_equals_the_replay() -> None:
    # Base 100 at 100 (0.9940 ETH); two safety orders of 60 at 99 and 98 (1 % apart):
    # 60 / 99 -> 0.6060, 60 / 98 -> 0.6122, both fill on the candle that reaches 97.5.
    config = replace(
        PLAIN, safety_order_count=2, safety_order_quote=D(60), safety_deviation_pct=D(1),
        take_profit_pct=D(1),
    )  # fmt: skip
    bars = [*FLAT[:2], bar(120, 99.5, 99.6, 97.5, 98), *FLAT[3:]]
    data = replay_input(config, bars, "B.....")
    book = ledger_book(data)
    assert book is not None and same(book, replay_book(data))
    (deal,) = book.deals
    assert deal.safety_orders_filled == 2
    assert deal.bought_base == D("0.9940") + D("0.6060") + D("0.6122")


def test_random_runs_equal_the_replay() -> None:
    answered = ladders = 0
    for seed in range(300):
        rng = random.Random(seed)
        config = _random_deal_settings(rng, D(1))
        fees = FeeSchedule(
            taker=rng.choice([D(0), D("0.006")]),
            maker=rng.choice([D(0), D("0.004")]),
            slippage=rng.choice([D(0), D("0.001")]),
        )
        bars = _random_walk(rng, rng.randint(30, 200), rng.choice([0.005, 0.02, 0.05]))
        actions = "".join(rng.choice("BS...") for _ in bars)
        data = replay_input(config, bars, actions, fees=fees)
        book = ledger_book(data)
        if book is not None:
            answered += 1
            ladders += any(d.safety_orders_filled for d in book.deals)
            assert same(book, replay_book(data)), seed
    assert answered >= 150 and ladders >= 30  # not vacuous: most runs take the ledger


def test_it_declines_where_the_fills_do_not_fix_the_book() -> None:
    assert ledger_book(replay_input(PLAIN, FLAT, ".....B")) is None  # still working at the end
    refusing = replace(PRODUCT, base_min_size=D("0.995"))  # 100 USD buys 0.994
    assert ledger_book(replay_input(PLAIN, FLAT, "B.....", product=refusing)) is None
    grid = GridSettings(
        budget=D(1000),
        lower_price=D(90),
        upper_price=D(110),
        levels=4,
        spacing=GridSpacing.ARITHMETIC,
        quote_per_level=D(100),
    )
    assert ledger_book(replay_input(grid, FLAT, "......")) is None


def test_quantize_18_is_quantize_amount() -> None:
    values = [D("1") / D("3"), D("2.0000000000000000005"), D("-7.1234567890123456785"), D(0)]
    for value in [*values, D("123456789012345678.123456789012345678901")]:
        got, expected = quantize_18(value), quantize_amount(value)
        assert (got, str(got)) == (expected, str(expected))
