"""Hypothesis strategies for deal settings and fees, shared by the deal-manager property
tests and the kernel-versus-reference tests, so both explore the same space."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from tradefleet.deals.settings import DealSettings
from tradefleet.domain import FeeSchedule

D = Decimal


def pct(low: str, high: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=D(low), max_value=D(high), places=2)


def off_or(strategy: st.SearchStrategy[Decimal]) -> st.SearchStrategy[Decimal]:
    return st.one_of(st.just(D(0)), strategy)


deal_settings = st.builds(
    DealSettings,
    budget=st.decimals(min_value=D(150), max_value=D(3000), places=2),
    base_order_quote=st.decimals(min_value=D(20), max_value=D(300), places=3),
    add_order_quote=off_or(st.decimals(min_value=D(5), max_value=D(150), places=2)),
    adds_require_below_average=st.booleans(),
    max_position_quote=st.one_of(
        st.none(), st.decimals(min_value=D(50), max_value=D(800), places=2)
    ),
    safety_order_count=st.integers(min_value=0, max_value=4),
    safety_order_quote=st.decimals(min_value=D(5), max_value=D(120), places=2),
    safety_deviation_pct=pct("0.3", "4"),
    safety_volume_scale=pct("0.5", "2.5"),
    safety_step_scale=pct("0.5", "2.5"),
    take_profit_pct=off_or(pct("0.3", "6")),
    trailing_deviation_pct=off_or(pct("0.1", "3")),
    stop_loss_pct=off_or(pct("1", "15")),
    signal_exit=st.booleans(),
    exit_min_profit_pct=pct("-2", "3"),
    cooldown_seconds=st.sampled_from([0, 60, 300]),
    candle_seconds=st.sampled_from([0, 60]),
    compound_profits=st.booleans(),
    max_active_deals=st.integers(min_value=1, max_value=3),
    entry_on_signal=st.just(True),
)
fee_schedules = st.builds(
    FeeSchedule,
    taker=st.sampled_from([D(0), D("0.006"), D("0.0125")]),
    maker=st.sampled_from([D(0), D("0.004"), D("0.0025")]),
    slippage=st.sampled_from([D(0), D("0.001")]),
)
