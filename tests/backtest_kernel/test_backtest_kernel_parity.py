"""The kernel's fills equal the reference's (``deals.simulate``) on random markets,
signals and settings: signal deals with every feature, and grids."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kernel_testkit import (
    BTC,
    USD,
    D,
    assert_same_fills,
    both,
    random_actions,
    reference_peak,
    walk,
)
from tests.deal_strategies import deal_settings, fee_schedules

from tradefleet.backtest.kernel import CLOSE_REASONS, PURPOSES
from tradefleet.deals.settings import DealSettings, GridSettings, GridSpacing
from tradefleet.domain import CloseReason, FeeSchedule, OrderPurpose

markets = st.tuples(
    st.integers(min_value=0, max_value=10**6),
    st.sampled_from([0.005, 0.02, 0.05]),
    st.integers(min_value=20, max_value=200),
)
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(deal_settings, fee_schedules, markets)
def test_signal_deals_fill_like_the_reference(
    config: DealSettings, fees: FeeSchedule, market: tuple[int, float, int]
) -> None:
    seed, vol, count = market
    bars = walk(seed, count, 100.0, vol, decimals=2)
    actions = random_actions(seed + 1, count)
    kernel, reference = both(config, bars, actions, USD, fees=fees)
    assert_same_fills(kernel, reference.fills, USD)
    closed = sorted(reference.closed_deals, key=lambda d: d.seq)
    done = kernel.deals.closed_at >= 0
    assert list(kernel.deals.seq[done]) == [deal.seq for deal in closed]
    assert list(kernel.deals.closed_at[done]) == [deal.closed_at for deal in closed]
    assert list(kernel.deals.safety_orders[done]) == [d.safety_orders_filled for d in closed]
    assert list(kernel.deals.bought_lots[done]) == [int(d.bought_base * 10_000) for d in closed]
    pnl = [float(d.realized_pnl or 0) for d in closed]
    assert kernel.deals.realized_pnl[done] == pytest.approx(pnl, rel=1e-9, abs=1e-9)
    peak = reference_peak(config, bars, actions, USD, fees)
    assert kernel.max_committed_quote == pytest.approx(float(peak), rel=1e-12)


grid_settings = st.builds(
    GridSettings,
    budget=st.decimals(min_value=D(100), max_value=D(3000), places=2),
    lower_price=st.decimals(min_value=D(70), max_value=D(95), places=2),
    upper_price=st.decimals(min_value=D(105), max_value=D(140), places=2),
    levels=st.integers(min_value=2, max_value=15),
    spacing=st.sampled_from(list(GridSpacing)),
    quote_per_level=st.decimals(min_value=D(5), max_value=D(300), places=2),
)


@PROPERTY
@given(grid_settings, fee_schedules, markets)
def test_grid_fills_like_the_reference(
    config: GridSettings, fees: FeeSchedule, market: tuple[int, float, int]
) -> None:
    seed, vol, count = market
    bars = walk(seed, count, 100.0, vol / 2, decimals=2)
    kernel, reference = both(config, bars, random_actions(seed, count), USD, fees=fees)
    assert_same_fills(kernel, reference.fills, USD)


def _scaled(config: DealSettings, factor: D) -> DealSettings:
    cap = config.max_position_quote
    return replace(
        config,
        budget=config.budget * factor,
        base_order_quote=config.base_order_quote * factor,
        add_order_quote=config.add_order_quote * factor,
        safety_order_quote=config.safety_order_quote * factor,
        max_position_quote=None if cap is None else cap * factor,
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deal_settings, fee_schedules, markets)
def test_raw_float_prices_on_a_btc_pair_fill_like_the_reference(
    config: DealSettings, fees: FeeSchedule, market: tuple[int, float, int]
) -> None:
    """Unrounded 17-digit candle prices and 8-decimal sizes: the sizes where float64
    alone would land on the wrong side of a rounding boundary go through ``exact``."""
    seed, vol, count = market
    bars = walk(seed, count, 0.05, min(vol, 0.02), decimals=None, step=300)
    config = _scaled(config, D("0.001"))
    kernel, reference = both(
        config, bars, random_actions(seed + 2, count), BTC, fees=fees, step=300
    )
    assert_same_fills(kernel, reference.fills, BTC)


def test_fixed_seeds_cover_every_purpose_and_close_reason() -> None:
    """200 fixed runs agree, and together they exercise every order purpose and every
    close reason (so the properties above are not vacuous)."""
    purposes: Counter[OrderPurpose] = Counter()
    reasons: Counter[CloseReason] = Counter()
    for seed in range(200):
        config = _fixed_config(seed)
        bars = walk(seed, 150, 100.0, (0.005, 0.02, 0.05)[seed % 3], decimals=2)
        fees = FeeSchedule(slippage=D("0.001") if seed % 2 else D(0))
        kernel, reference = both(config, bars, random_actions(seed, 150), USD, fees=fees)
        assert_same_fills(kernel, reference.fills, USD)
        purposes.update(PURPOSES[int(code)] for code in kernel.fills.purpose)
        reasons.update(CLOSE_REASONS[int(code)] for code in kernel.deals.close_reason if code >= 0)
    assert set(purposes) == set(PURPOSES)
    assert set(reasons) == set(CLOSE_REASONS)


def _fixed_config(seed: int) -> DealSettings | GridSettings:
    if seed % 4 == 3:
        return GridSettings(
            budget=D(2000),
            lower_price=D(80),
            upper_price=D(125),
            levels=3 + seed % 9,
            spacing=GridSpacing.GEOMETRIC if seed % 8 == 3 else GridSpacing.ARITHMETIC,
            quote_per_level=D(150),
        )
    trailing = seed % 3 == 0
    return DealSettings(
        budget=D(1500),
        base_order_quote=D(100),
        add_order_quote=D(50) if seed % 2 else D(0),
        adds_require_below_average=seed % 5 != 0,
        safety_order_count=seed % 4,
        safety_order_quote=D(60),
        safety_deviation_pct=D("1.5"),
        safety_volume_scale=D("1.5"),
        safety_step_scale=D("1.2"),
        take_profit_pct=D(2) if seed % 5 else D(0),
        trailing_deviation_pct=D("0.5") if trailing else D(0),
        stop_loss_pct=D(6) if seed % 7 else D(0),
        signal_exit=seed % 6 != 0,
        exit_min_profit_pct=D("0.5"),
        cooldown_seconds=(0, 60, 300)[seed % 3],
        max_active_deals=1 + seed % 3,
    )
