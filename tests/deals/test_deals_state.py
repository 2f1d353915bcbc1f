"""Client order ids, persisted manager state and resuming after a restart."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from deals_testkit import FEES, PRODUCT, D, random_signals, walk

from tradefleet.brokers.fill_model import WorkingOrder
from tradefleet.deals.book import client_order_id
from tradefleet.deals.protocol import manager_for
from tradefleet.deals.settings import DealSettings, GridSettings, GridSpacing
from tradefleet.deals.simulate import Simulator
from tradefleet.deals.state import (
    DEAL_COLUMNS,
    BotState,
    DealState,
    GridState,
    restore,
)
from tradefleet.domain import CloseReason, OrderPurpose, OrderType, PlaceOrder, Side
from tradefleet.money import canonical

SIGNAL_BOT = DealSettings(
    budget=D(1000),
    base_order_quote=D(100),
    add_order_quote=D(40),
    safety_order_count=3,
    safety_order_quote=D(50),
    safety_deviation_pct=D("1.5"),
    safety_volume_scale=D("1.5"),
    safety_step_scale=D(2),
    take_profit_pct=D(2),
    trailing_deviation_pct=D("0.5"),
    stop_loss_pct=D(6),
    max_active_deals=2,
)
GRID_BOT = GridSettings(
    budget=D(800),
    lower_price=D(80),
    upper_price=D(120),
    levels=9,
    spacing=GridSpacing.GEOMETRIC,
    quote_per_level=D(100),
)


def test_client_order_ids_follow_the_documented_form() -> None:
    assert client_order_id(12, 345, OrderPurpose.TAKE_PROFIT, "7") == "tf-12-345-tp7"
    assert client_order_id(1, 2, OrderPurpose.MANUAL_CLOSE, "3") == "tf-1-2-m3"
    with pytest.raises(ValueError, match="longer than 64"):
        client_order_id(10**30, 10**30, OrderPurpose.STOP, "1")


def test_manager_state_is_json_and_round_trips() -> None:
    state = BotState(4, next_deal_seq=9, last_deal_closed_at=1200)
    state.grid = GridState(levels=[D(90), D("95.5")], filled={1}, cycles=[2, 3])
    data = json.loads(json.dumps(state.to_manager_state()))
    assert data == {
        "next_deal_seq": 9,
        "last_deal_closed_at": 1200,
        "grid": {"levels": ["90", "95.5"], "filled": [1], "cycles": [2, 3]},
    }
    again = BotState.from_manager_state(4, data)
    assert (again.next_deal_seq, again.last_deal_closed_at) == (9, 1200)
    assert again.grid == state.grid
    fresh = BotState.from_manager_state(5, {})
    assert (fresh.next_deal_seq, fresh.last_deal_closed_at, fresh.grid) == (1, None, None)


def test_deal_columns_match_the_position_table() -> None:
    from tradefleet.db.models import Position

    position_columns = set(Position.__table__.columns.keys())
    assert set(DEAL_COLUMNS) <= position_columns
    assert position_columns - set(DEAL_COLUMNS) == {"id", "bot_id", "product_id"}


def test_from_columns_accepts_database_values() -> None:
    row = {
        "id": 77, "bot_id": 4, "product_id": "ETH-USD", "seq": 3, "status": "closed",
        "opened_at": datetime(2024, 1, 1, tzinfo=UTC),
        "closed_at": datetime(2024, 1, 2, tzinfo=UTC),
        "close_reason": "stop_loss", "base_amount": D(0), "realized_pnl": D("-1.5"),
    }  # fmt: skip
    deal = DealState.from_columns(row)
    assert (deal.seq, deal.opened_at, deal.closed_at) == (3, 1704067200, 1704153600)
    assert deal.close_reason is CloseReason.STOP_LOSS and deal.realized_pnl == D("-1.5")


def test_restore_refuses_orders_without_a_deal_and_closed_deals() -> None:
    order = PlaceOrder(
        "tf-1-5-b1", 5, Side.BUY, OrderType.MARKET, OrderPurpose.BASE, quote_amount=D(1)
    )
    with pytest.raises(ValueError, match="no open deal"):
        restore(1, {}, [], [order])
    with pytest.raises(ValueError, match="not open"):
        restore(1, {}, [DealState(seq=1, opened_at=0, status="closed")], [])


def through_database(deal: DealState) -> DealState:
    """What reading the Position row back gives: canonical Decimals, aware datetimes."""
    values = {
        name: canonical(value) if isinstance(value, D) else value
        for name, value in deal.column_values().items()
    }
    for name in ("opened_at", "closed_at"):
        if values[name] is not None:
            values[name] = datetime.fromtimestamp(int(values[name]), UTC)
    return DealState.from_columns(values)


def restarted(sim: Simulator) -> Simulator:
    """The same bot rebuilt from what the engine persists, with the broker's orders kept."""
    manager_state = json.loads(json.dumps(sim.state.to_manager_state()))
    deals = [through_database(deal) for deal in sim.state.deals]
    orders = [order.intent for order in sim.working]
    state = restore(sim.state.bot_id, manager_state, deals, orders)
    twin = Simulator(sim.manager, state, sim.product, sim.fees)
    twin.working = [WorkingOrder(o.intent, o.active_from) for o in sim.working]
    return twin


@pytest.mark.parametrize("settings", [SIGNAL_BOT, GRID_BOT], ids=["signal", "grid"])
def test_a_restarted_bot_continues_exactly_as_if_it_had_not_stopped(
    settings: DealSettings | GridSettings,
) -> None:
    bars = walk(seed=11, count=400)
    signals = random_signals(seed=12, bars=bars)
    sim = Simulator(manager_for(settings), BotState(6), PRODUCT, FEES)
    twin: Simulator | None = None
    for index, bar in enumerate(bars):
        next_open = bar.time + 60
        sim.step(bar, signals[index], next_open)
        if twin is not None:
            twin.step(bar, signals[index], next_open)
        if twin is None and index >= 150 and sim.state.deals and sim.working:
            twin = restarted(sim)  # restart while deals are open and orders work
            assert [d.column_values() for d in twin.state.deals] == [
                d.column_values() for d in sim.state.deals
            ]
            marks = (len(sim.orders), len(sim.fills), len(sim.closed))
    assert twin is not None
    assert twin.orders == sim.orders[marks[0] :]
    assert twin.fills == sim.fills[marks[1] :]
    assert len(twin.fills) > 10  # the second half did trade
    assert [d.column_values() for d in twin.closed] == [
        d.column_values() for d in sim.closed[marks[2] :]
    ]
    assert [d.column_values() for d in twin.state.deals] == [
        d.column_values() for d in sim.state.deals
    ]
    assert twin.state.to_manager_state() == sim.state.to_manager_state()
