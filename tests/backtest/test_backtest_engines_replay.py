"""The kernel engine's exact replay (deals, peak committed quote) and its safety net.

Hand-worked cases first: a peak the kernel's float64 sum cannot hold exactly, a market
buy refused as too small (its deal discarded, its reservation still in the peak), a
deal decided on the last candle. Then many random settings straight through both
engines, on products that refuse small market buys and with grids the budget holds
back. Then the fallbacks: a kernel run the replay contradicts, settings the kernel
refuses.
"""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.backtest.backtest_testkit import FEES, PRODUCT, arrays, bar

from tradefleet.backtest import kernel as kernel_package
from tradefleet.backtest.engines import EngineJob, EngineRun, reference_engine
from tradefleet.backtest.fast_engine import kernel_engine
from tradefleet.backtest.kernel import KernelResult, run_kernel
from tradefleet.backtest.kernel_replay import FirstAbove
from tradefleet.deals.settings import DealSettings, GridSettings, GridSpacing
from tradefleet.domain import Candle, FeeSchedule, ProductSpec

D = Decimal
LOGGER = "tradefleet.backtest.fast_engine"


def job(
    config: DealSettings | GridSettings,
    bars: list[Candle],
    actions: str,
    *,
    product: ProductSpec = PRODUCT,
    fees: FeeSchedule = FEES,
    start: int = 0,
) -> EngineJob:
    """``actions``: one of B (buy), S (sell), . (hold) per candle."""
    buy = np.array([a == "B" for a in actions])
    sell = np.array([a == "S" for a in actions])
    return EngineJob(config, arrays(bars), buy, sell, product, fees, 60, start=start)


def both(work: EngineJob, caplog: pytest.LogCaptureFixture) -> EngineRun:
    """The kernel engine's run, after checking it equals the reference's without a fallback."""
    with caplog.at_level(logging.INFO, logger=LOGGER):
        fast = kernel_engine(work)
    assert [r.getMessage() for r in caplog.records if r.name == LOGGER] == []
    reference = reference_engine(work)
    assert fast == reference
    assert column_values(fast) == column_values(reference)
    return fast


def column_values(run: EngineRun) -> dict[str, list[int]]:
    """The run's exact columns (as the engine gave them or read off its objects) at 1e-18."""
    fills, deals = run.columns()
    values = {
        f"fill {name}": (getattr(fills, name).astype(object) * 10 ** (18 - fills.scale)).tolist()
        for name in ("base", "quote", "fee")
    }
    values["fill time"] = fills.time.tolist()
    values["fill buy"] = fills.buy.tolist()
    values["deal realized"] = (deals.realized.astype(object) * 10 ** (18 - deals.scale)).tolist()
    for name in ("closed", "opened_at", "closed_at", "holds", "safety_orders"):
        values[f"deal {name}"] = getattr(deals, name).tolist()
    return values


SAFETY = DealSettings(
    budget=D(1000),
    base_order_quote=D(100),
    safety_order_count=1,
    safety_order_quote=D(60),
    safety_deviation_pct=D("1.5"),
    take_profit_pct=D(5),
)
FLAT = [bar(i * 60, 100, 100.5, 99.5, 100) for i in range(5)]


def test_a_deal_with_a_resting_safety_order_is_booked_exactly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Base: 0.994 at 100 = 99.40 + 0.5964 fee; its safety order at 98.50 never fills.
    run = both(job(SAFETY, FLAT, "B...."), caplog)
    (deal,) = run.deals
    assert (deal.status, deal.bought_quote, deal.buy_fees) == ("open", D("99.4"), D("0.5964"))
    assert deal.average_entry_price == D(100)


def test_a_refused_market_buy_discards_its_deal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # 100 USD at an open of 120 buys round_down(100 / 120.72, 0.0001) = 0.8283 ETH, below
    # the 0.9 minimum: the base order of deal 1 is refused and the deal dropped. The next
    # BUY opens deal 2, which fills at 100.
    product = replace(PRODUCT, base_min_size=D("0.9"))
    bars = [bar(0, 100, 100, 100, 100), bar(60, 120, 121, 119, 100)]
    bars += [bar(120, 100, 100.5, 99.5, 100), bar(180, 100, 100.5, 99.5, 100)]
    run = both(job(SAFETY, bars, "BB..", product=product), caplog)
    assert [(d.seq, d.opened_at, d.bought_base) for d in run.deals] == [(2, 120, D("0.994"))]
    assert [f.client_order_id for f in run.fills] == ["tf-1-2-b1"]


def test_deals_decided_on_the_last_candle_are_reported_open_and_empty(
    caplog: pytest.LogCaptureFixture,
) -> None:
    run = both(job(SAFETY, FLAT, "....B"), caplog)
    (deal,) = run.deals
    assert (deal.seq, deal.status, deal.opened_at, deal.bought_base) == (1, "open", 240, 0)
    assert deal.average_entry_price is None
    assert run.fills == []


def test_a_signal_exit_cancels_the_safety_orders_of_both_deals(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Candle 2 opens deal 2. On candle 3 deal 2's base fills and places its safety
    order, and the SELL exits both deals at the next open, cancelling both ladders."""
    two = replace(SAFETY, max_active_deals=2, take_profit_pct=D(0), exit_min_profit_pct=D(-50))
    bars = [bar(i * 60, 100, 100.5, 99.5, 100) for i in range(5)]
    run = both(job(two, bars, "B.BS."), caplog)
    assert [(d.seq, d.close_reason, d.closed_at) for d in run.deals] == [
        (1, "signal", 240),
        (2, "signal", 240),
    ]
    assert [f.client_order_id for f in run.fills] == [
        "tf-1-1-b1", "tf-1-2-b1", "tf-1-1-x3", "tf-1-2-x3",
    ]  # fmt: skip


def _random_deal_settings(rng: random.Random, scale: Decimal) -> DealSettings:
    def pct(low: float, high: float) -> Decimal:
        return D(str(round(rng.uniform(low, high), 2)))

    return DealSettings(
        budget=pct(150, 3000) * scale,
        base_order_quote=pct(0.5, 300) * scale,
        add_order_quote=rng.choice([D(0), pct(0.5, 150) * scale]),
        adds_require_below_average=rng.random() < 0.5,
        max_position_quote=rng.choice([None, pct(50, 800) * scale]),
        safety_order_count=rng.randint(0, 4),
        safety_order_quote=pct(1, 120) * scale,
        safety_deviation_pct=pct(0.3, 4),
        safety_volume_scale=pct(0.5, 2.5),
        safety_step_scale=pct(0.5, 2.5),
        take_profit_pct=rng.choice([D(0), pct(0.3, 6)]),
        trailing_deviation_pct=rng.choice([D(0), pct(0.1, 3)]),
        stop_loss_pct=rng.choice([D(0), pct(1, 15)]),
        signal_exit=rng.random() < 0.7,
        exit_min_profit_pct=pct(-2, 3),
        cooldown_seconds=rng.choice([0, 60, 300]),
        max_active_deals=rng.randint(1, 3),
    )


def _random_grid(rng: random.Random) -> GridSettings:
    """Budgets often below what the levels need: arming waits for room."""
    return GridSettings(
        budget=D(rng.randint(100, 3000)),
        lower_price=D(rng.randint(70, 95)),
        upper_price=D(rng.randint(105, 140)),
        levels=rng.randint(2, 15),
        spacing=rng.choice(list(GridSpacing)),
        quote_per_level=D(rng.randint(5, 300)),
    )


def _random_walk(rng: random.Random, count: int, vol: float) -> list[Candle]:
    bars, price = [], 100.0
    for index in range(count):
        close = max(2.0, price * (1 + rng.gauss(0, vol)))
        high = max(price, close) * (1 + abs(rng.gauss(0, vol / 2)))
        low = min(price, close) * (1 - abs(rng.gauss(0, vol / 2)))
        bars.append(
            bar(index * 60, round(price, 2), round(high, 2), round(low, 2), round(close, 2))
        )
        price = close
    return bars


def _random_job(seed: int) -> EngineJob:
    rng = random.Random(seed)
    product = replace(PRODUCT, base_min_size=rng.choice([D("0.0001"), D("0.5")]))
    grid = seed % 4 == 0
    config = _random_grid(rng) if grid else _random_deal_settings(rng, D(1))
    fees = FeeSchedule(
        taker=rng.choice([D(0), D("0.006")]),
        maker=rng.choice([D(0), D("0.004")]),
        slippage=rng.choice([D(0), D("0.001")]),
    )
    bars = _random_walk(rng, rng.randint(30, 300), rng.choice([0.005, 0.02, 0.05]))
    if seed % 3 == 0:  # missing minutes
        bars = [b for i, b in enumerate(bars) if i % 7 != 3]
    actions = "".join(rng.choice("BS...") for _ in bars)
    start = rng.choice([0, 0, rng.randrange(len(bars))])
    return job(config, bars, actions, product=product, fees=fees, start=start)


def test_random_settings_run_identically_on_both_engines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs = [both(_random_job(seed), caplog) for seed in range(300)]
    deals = [d for run in runs for d in run.deals]
    # Not vacuous: refused base orders (a deal seq skipped), deals still empty at the
    # end, every close reason, safety orders and adds filled.
    assert any(
        [d.seq for d in run.deals] != list(range(1, len(run.deals) + 1))
        for run in runs[1::4]  # signal-deal runs
    )
    assert any(d.status == "open" and not d.bought_base for d in deals)
    reasons = {d.close_reason for d in deals}
    assert reasons == {"take_profit", "trailing_take_profit", "stop_loss", "signal", "grid", None}
    assert max(d.safety_orders_filled for d in deals) >= 2
    assert max(d.adds_filled for d in deals) >= 1


def test_a_kernel_run_the_replay_contradicts_falls_back_to_the_reference(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = job(SAFETY, [*FLAT, bar(300, 100, 106, 99, 105)], "B.....")

    def without_last_fill(*args: object) -> KernelResult:
        result = run_kernel(*args)  # type: ignore[arg-type]
        fills = result.fills
        cut = {
            name: getattr(fills, name)[:-1]
            for name in fills.__dataclass_fields__  # every column: one fill fewer
        }
        return replace(result, fills=replace(fills, **cut))

    monkeypatch.setattr(kernel_package, "run_kernel", without_last_fill)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        fast = kernel_engine(work)
    assert fast == reference_engine(work)
    assert [f.client_order_id for f in fast.fills] == ["tf-1-1-b1", "tf-1-1-tp3"]
    (record,) = [r for r in caplog.records if r.name == LOGGER]
    assert record.levelno == logging.WARNING
    assert "disagrees" in record.getMessage()


def test_settings_the_kernel_refuses_run_on_the_reference(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Grid levels of 1e8 with a 1e-8 price increment exceed the kernel's exact ticks."""
    product = ProductSpec(
        "BIG-USD", "BIG", "USD", D("0.00000001"), D("0.01"), D("0.00000001"),
        D("0.00000001"), D(1),
    )  # fmt: skip
    grid = GridSettings(D(1000), D(90_000_000), D(110_000_000), 3, GridSpacing.ARITHMETIC, D(100))
    prices = [1.05e8, 1.05e8, 0.99e8, 1.08e8, 1.12e8]
    bars = [bar(i * 60, p, p * 1.001, p * 0.999, p) for i, p in enumerate(prices)]
    work = job(grid, bars, ".....", product=product)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        fast = kernel_engine(work)
    assert fast == reference_engine(work)
    assert [f.client_order_id for f in fast.fills] == ["tf-1-1-gb1c1n1", "tf-1-1-gs2c1n2"]
    (record,) = [r for r in caplog.records if r.name == LOGGER]
    assert "beyond the kernel's exact range (1.12e+16 price ticks" in record.getMessage()


@pytest.mark.parametrize(
    ("price", "budget", "reason"),
    [
        (25_000.0, D(10_000), "2.55e+12 price ticks"),  # a 1e-8 tick on a 25,500 high
        (0.0001, D(10**9), "1e+11 quote units"),  # a budget of 1e11 cents
        (0.0001, D(10**6), "1.01e+18 lots"),  # 1e18 satoshi-sized lots at 0.0001
    ],
)
def test_amounts_beyond_floats_run_on_the_reference(
    price: float, budget: Decimal, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by a review's fuzzing: at such magnitudes float64 misjudged fills (and lot
    counts overflowed int64); now the kernel refuses and the reference answers."""
    tick = D("0.00000001") if price > 1 else D("0.0001")
    quote = D("0.01") if budget > 10**8 else D("0.00000001")
    product = ProductSpec("X-Y", "X", "Y", D("0.00000001"), quote, tick, D("0.00000001"), quote)
    config = DealSettings(budget=budget, base_order_quote=budget / 10, take_profit_pct=D(1))
    bars = [bar(i * 60, price, price * 1.02, price * 0.99, price * 1.01) for i in range(5)]
    work = job(config, bars, "B....", product=product)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        fast = kernel_engine(work)
    assert fast == reference_engine(work) and len(fast.fills) == 2
    (record,) = [r for r in caplog.records if r.name == LOGGER]
    assert reason in record.getMessage()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=50), max_size=1_300),
    st.integers(min_value=0, max_value=1_400),
    st.integers(min_value=-1, max_value=51),
)
def test_first_above_finds_the_first_value_reaching_the_threshold(
    values: list[int], start: int, threshold: int
) -> None:
    array = np.array(values, dtype=np.float64)
    naive = next((i for i in range(start, len(values)) if values[i] >= threshold), len(values))
    assert FirstAbove(array).find(start, float(threshold)) == naive


def test_an_exit_price_on_a_half_tick_after_several_buys_runs_on_the_reference(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Found by a review's fuzzing. Buys of 50 lots at 3.20, 3.22 and 3.241 average
    0.048305 / 0.015 = 3.2203333...; a 0.5 % take profit of that is exactly 3.236435, a
    half tick of 0.00001, but the reference rounds the average to 18 places first
    (3.220333333333333333) and so rounds the price down to 3.23643. float64 cannot see
    that side: the kernel refuses and the reference answers."""
    product = ProductSpec(
        "X-Y", "X", "Y", D("0.0001"), D("1E-8"), D("0.00001"), D("0.0001"), D("1E-8")
    )
    config = DealSettings(
        budget=D(1), base_order_quote=D("0.0163"), add_order_quote=D("0.0163"),
        adds_require_below_average=False, take_profit_pct=D("0.5"),
    )  # fmt: skip
    opens = [3.2, 3.2, 3.22, 3.241, 3.2, 3.2, 3.3]
    bars = [bar(i * 60, o, o, o, o) for i, o in enumerate(opens)]
    work = job(config, bars, "BBB....", product=product, fees=FeeSchedule(D(0), D(0)))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        fast = kernel_engine(work)
    assert fast == reference_engine(work)
    assert [f.price for f in fast.fills] == [D("3.2"), D("3.22"), D("3.241"), D("3.23643")]
    (record,) = [r for r in caplog.records if r.name == LOGGER]
    assert "of a deal of several buys on a half tick" in record.getMessage()


def test_a_loss_inside_the_kernels_tolerance_goes_to_the_reference(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """All in (base order = budget 100) at a taker fee of 1e-14: the first deal loses
    2e-12 (two fees of 1e-12), so the reference refuses the second base order of 100.
    1e-12 of 100 is inside the kernel's float tolerance: the kernel cannot tell, marks
    the run undecided and the reference engine answers (found by review, issue 7)."""
    config = DealSettings(budget=D(100), base_order_quote=D(100), exit_min_profit_pct=D(-100))
    bars = [bar(i * 60, 100, 100, 100, 100) for i in range(8)]
    fees = FeeSchedule(taker=D("0.00000000000001"), maker=D(0))
    work = job(config, bars, "B.S.B...", fees=fees)
    reference = reference_engine(work)
    assert [f.side.value for f in reference.fills] == ["buy", "sell"]
    with caplog.at_level(logging.INFO, logger="tradefleet.backtest.fast_engine"):
        assert kernel_engine(work) == reference
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(messages) == 1 and "decisions float64 cannot take" in messages[0]
