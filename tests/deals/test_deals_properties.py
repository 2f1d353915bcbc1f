"""Invariants of manager + fill model over random candle walks and random signals."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from deals_testkit import PRODUCT, random_signals, walk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.deal_strategies import deal_settings, fee_schedules

from tradefleet.deals.book import spendable, total_committed
from tradefleet.deals.protocol import manager_for
from tradefleet.deals.settings import DealSettings, GridSettings, GridSpacing
from tradefleet.deals.simulate import SimulationResult, Simulator, simulate
from tradefleet.deals.state import BotState, DealState
from tradefleet.domain import (
    Candle,
    FeeSchedule,
    Fill,
    OrderType,
    Side,
    Signal,
)
from tradefleet.money import fee_for, quantize_amount

D = Decimal

BOT = 5


market = st.tuples(
    st.integers(min_value=0, max_value=10**6),
    st.sampled_from([0.005, 0.02, 0.05]),
    st.integers(min_value=30, max_value=160),
)
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run_checked(
    config: DealSettings | GridSettings,
    bars: list[Candle],
    signals: list[Signal],
    fees: FeeSchedule,
) -> SimulationResult:
    """Step the bot, checking the per-candle invariants after every candle."""
    sim = Simulator(manager_for(config), BotState(BOT), PRODUCT, fees)
    placed_at: dict[str, int] = {}
    paid_out = D(0)  # net quote the bot has paid out: buys + fees - sell proceeds
    compound = isinstance(config, DealSettings) and config.compound_profits
    for index, bar in enumerate(bars):
        known = len(sim.orders)
        for fill in sim.step(bar, signals[index], bar.time + 60):
            # never on the candle that caused the order: placed on an earlier candle
            assert placed_at[fill.client_order_id] < fill.time == bar.time
            if fill.side is Side.BUY:
                paid_out += fill.quote_amount + fill.fee
            else:
                paid_out -= fill.quote_amount - fill.fee
            # a bot never loses more than its budget, whatever the candles
            assert paid_out <= config.budget
        placed_at.update((order.client_order_id, bar.time) for order in sim.orders[known:])
        room = spendable(config.budget, sim.state, compound)
        assert total_committed(sim.state, fees) <= room
        realized = sum((d.realized_pnl or D(0) for d in sim.closed), D(0))
        assert sim.state.realized_pnl == realized
        for deal in sim.state.deals:
            check_deal_books(deal)
            assert deal.base_amount == deal.bought_base - deal.sold_base
        # the broker works exactly the orders the deals wait for
        working = sorted(o.intent.client_order_id for o in sim.working)
        assert working == sorted(cid for deal in sim.state.deals for cid in deal.open_orders)
    return sim.result()


def check_deal_books(deal: DealState) -> None:
    assert deal.base_amount >= 0
    if deal.bought_base:
        assert deal.average_entry_price == quantize_amount(deal.bought_quote / deal.bought_base)


def check_fills(result: SimulationResult, fees: FeeSchedule) -> None:
    """Each fill charges its order's fee rate on exact amounts; sells never exceed holdings."""
    placed = {order.client_order_id: order for order in result.orders}
    for fill in result.fills:
        order = placed[fill.client_order_id]
        rate = fees.maker if order.order_type is OrderType.LIMIT else fees.taker
        assert fill.fee == fee_for(fill.quote_amount, rate)
        assert fill.quote_amount == quantize_amount(fill.price * fill.base_amount)
        if order.order_type is OrderType.MARKET and order.side is Side.BUY:
            assert order.quote_amount is not None
            assert fill.quote_amount + fill.fee <= order.quote_amount
        elif order.order_type is OrderType.LIMIT:
            assert fill.price == order.price


def check_closed(result: SimulationResult) -> None:
    """Every closed deal's PnL is exactly its fills' quote in minus quote out."""
    by_deal: dict[int, list[Fill]] = defaultdict(list)
    for fill in result.fills:
        by_deal[int(fill.client_order_id.split("-")[2])].append(fill)
    for deal in result.closed_deals:
        check_deal_books(deal)
        fills = by_deal[deal.seq]
        quote_in = sum((f.quote_amount - f.fee for f in fills if f.side is Side.SELL), D(0))
        quote_out = sum((f.quote_amount + f.fee for f in fills if f.side is Side.BUY), D(0))
        assert deal.realized_pnl == quote_in - quote_out
        sold = sum((f.base_amount for f in fills if f.side is Side.SELL), D(0))
        bought = sum((f.base_amount for f in fills if f.side is Side.BUY), D(0))
        assert sold == deal.sold_base == bought == deal.bought_base
        assert deal.base_amount == 0 and deal.close_reason is not None


def check_ids(result: SimulationResult) -> None:
    placed = [o.client_order_id for o in result.orders] + [
        o.client_order_id for o, _ in result.rejected
    ]
    assert len(placed) == len(set(placed))
    assert all(cid.startswith(f"tf-{BOT}-") and len(cid) <= 64 for cid in placed)


def same_run(first: SimulationResult, second: SimulationResult) -> None:
    assert first.orders == second.orders
    assert first.fills == second.fills
    assert [d.column_values() for d in first.closed_deals] == [
        d.column_values() for d in second.closed_deals
    ]


@PROPERTY
@given(config=deal_settings, fees=fee_schedules, walk_args=market)
def test_signal_bot_invariants(
    config: DealSettings, fees: FeeSchedule, walk_args: tuple[int, float, int]
) -> None:
    seed, vol, count = walk_args
    bars = walk(seed, count, vol=vol)
    signals = random_signals(seed + 1, bars)
    result = run_checked(config, bars, signals, fees)
    check_fills(result, fees)
    check_closed(result)
    check_ids(result)
    same_run(result, simulate(config, signals, bars, PRODUCT, fees, bot_id=BOT))


grid_settings = st.builds(
    GridSettings,
    budget=st.decimals(min_value=D(100), max_value=D(2000), places=2),
    lower_price=st.decimals(min_value=D(60), max_value=D(95), places=2),
    upper_price=st.decimals(min_value=D(105), max_value=D(150), places=2),
    levels=st.integers(min_value=2, max_value=20),
    spacing=st.sampled_from(list(GridSpacing)),
    quote_per_level=st.decimals(min_value=D(5), max_value=D(200), places=2),
)


@PROPERTY
@given(config=grid_settings, fees=fee_schedules, walk_args=market)
def test_grid_bot_invariants(
    config: GridSettings, fees: FeeSchedule, walk_args: tuple[int, float, int]
) -> None:
    seed, vol, count = walk_args
    bars = walk(seed, count, vol=vol)
    result = run_checked(config, bars, random_signals(seed, bars), fees)
    check_fills(result, fees)
    check_closed(result)
    check_ids(result)
    state = result.final_state
    assert state.grid is not None
    levels = [deal.grid_level for deal in state.deals]
    assert len(levels) == len(set(levels))  # one deal per level at a time
    assert state.grid.filled == {d.grid_level for d in state.deals if d.base_amount > 0}
    for deal in result.closed_deals:
        assert deal.realized_pnl is not None
        # a grid cycle sells one level above its buy: it never loses at zero fees
        if fees.maker == 0:
            assert deal.realized_pnl > 0
    same_run(result, simulate(config, None, bars, PRODUCT, fees, bot_id=BOT))
