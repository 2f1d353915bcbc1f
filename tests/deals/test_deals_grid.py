"""Grid levels and buy/sell cycles, worked out by hand."""

from __future__ import annotations

from dataclasses import replace

import pytest
from deals_testkit import FEES, PRODUCT, D, candle, execute, flat, ids, signal

from tradefleet.deals.grid import grid_levels
from tradefleet.deals.protocol import GridManager, manager_for
from tradefleet.deals.settings import DealSettings, GridSettings, GridSpacing
from tradefleet.deals.simulate import simulate
from tradefleet.deals.state import BotState
from tradefleet.domain import CloseReason, OrderPurpose, OrderType, PlaceOrder, Side

GRID = GridSettings(
    budget=D(1000),
    lower_price=D(90),
    upper_price=D(110),
    levels=5,
    spacing=GridSpacing.ARITHMETIC,
    quote_per_level=D(100),
)


def test_arithmetic_levels_are_equal_steps() -> None:
    assert grid_levels(GRID, PRODUCT) == [D(90), D(95), D(100), D(105), D(110)]
    thirds = replace(GRID, lower_price=D(100), upper_price=D(101), levels=4)
    assert grid_levels(thirds, PRODUCT) == [D(100), D("100.33"), D("100.67"), D(101)]


def test_geometric_levels_are_equal_ratios() -> None:
    exact = replace(
        GRID, lower_price=D(100), upper_price=D(121), levels=3, spacing=GridSpacing.GEOMETRIC
    )
    assert grid_levels(exact, PRODUCT) == [D(100), D(110), D(121)]
    # ratio 1.5 ** (1/8) = 1.051989…: 80 x 1.051989 = 84.159…, 80 x 1.051989² = 88.534…
    wide = replace(
        GRID, lower_price=D(80), upper_price=D(120), levels=9, spacing=GridSpacing.GEOMETRIC
    )
    assert grid_levels(wide, PRODUCT) == [
        D(80), D("84.16"), D("88.53"), D("93.14"), D("97.98"),
        D("103.07"), D("108.43"), D("114.07"), D(120),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("lower", "upper", "levels"),
    [("90", "90", 5), ("110", "90", 5), ("90", "110", 1), ("0", "110", 5), ("100", "100.02", 5)],
)
def test_impossible_grids_are_refused(lower: str, upper: str, levels: int) -> None:
    bad = replace(GRID, lower_price=D(lower), upper_price=D(upper), levels=levels)
    with pytest.raises(ValueError, match="grid"):
        grid_levels(bad, PRODUCT)


def grid_buy(cid: str, seq: int, base: str, price: str) -> PlaceOrder:
    return PlaceOrder(
        cid, seq, Side.BUY, OrderType.LIMIT, OrderPurpose.GRID_BUY, base_amount=D(base),
        price=D(price),
    )  # fmt: skip


def test_first_candle_buys_every_level_below_the_close_highest_first() -> None:
    state = BotState(3)
    manager = manager_for(GRID)
    assert isinstance(manager, GridManager)
    intents = manager.on_candle(state, flat(0, 102), signal(0), PRODUCT, FEES)
    # 100 / 100 = 1; 100 / 95 = 1.05263 -> 1.0526; 100 / 90 = 1.1111
    assert intents == [
        grid_buy("tf-3-1-gb2c1n1", 1, "1", "100"),
        grid_buy("tf-3-2-gb1c1n1", 2, "1.0526", "95"),
        grid_buy("tf-3-3-gb0c1n1", 3, "1.1111", "90"),
    ]
    assert [(d.seq, d.grid_level) for d in state.deals] == [(1, 2), (2, 1), (3, 0)]
    assert state.grid is not None and state.grid.cycles == [1, 1, 1, 0, 0]
    assert manager.on_candle(state, flat(60, 102), signal(60), PRODUCT, FEES) == []


def test_top_level_never_gets_a_buy() -> None:
    state = BotState(3)
    intents = manager_for(GRID).on_candle(state, flat(0, 200), signal(0), PRODUCT, FEES)
    assert ids(intents) == [
        "+tf-3-1-gb3c1n1",
        "+tf-3-2-gb2c1n1",
        "+tf-3-3-gb1c1n1",
        "+tf-3-4-gb0c1n1",
    ]


def test_buy_sell_cycle_by_hand() -> None:
    state = BotState(3)
    manager = manager_for(GRID)
    manager.on_candle(state, flat(0, 102), signal(0), PRODUCT, FEES)
    fill, intents = execute(manager, state, "tf-3-1-gb2c1n1", candle(60, 101, 101, 100, 100.5))
    # 1 x 100 = 100, maker fee 0.4
    assert (fill.quote_amount, fill.fee) == (D(100), D("0.4"))
    assert intents == [
        PlaceOrder(
            "tf-3-1-gs3c1n2", 1, Side.SELL, OrderType.LIMIT, OrderPurpose.GRID_SELL,
            base_amount=D(1), price=D(105),
        )
    ]  # fmt: skip
    assert state.grid is not None and state.grid.filled == {2}
    fill, intents = execute(manager, state, "tf-3-1-gs3c1n2", candle(120, 104, 105, 104, 104.5))
    # sold 1 x 105 = 105, fee 0.42: pnl 105 - 0.42 - (100 + 0.4) = 4.18
    [deal] = state.take_closed()
    assert (deal.close_reason, deal.realized_pnl, deal.closed_at) == (
        CloseReason.GRID,
        D("4.18"),
        120,
    )
    assert intents == [grid_buy("tf-3-4-gb2c2n1", 4, "1", "100")]  # level 2 again, cycle 2
    assert state.grid.filled == set() and state.grid.cycles[2] == 2


def test_a_paused_grid_withdraws_its_entry_buys_and_never_rearms() -> None:
    state = BotState(3)
    manager = manager_for(GRID)
    manager.on_candle(state, flat(0, 102), signal(0), PRODUCT, FEES)
    execute(manager, state, "tf-3-1-gb2c1n1", candle(60, 101, 101, 100, 100.5))
    state.entries_paused = True
    intents = manager.on_candle(state, flat(120, 102), signal(120), PRODUCT, FEES)
    # deals 2 and 3 never bought: their buys go; deal 1 keeps its sell one level up
    assert ids(intents) == ["-tf-3-2-gb1c1n1", "-tf-3-3-gb0c1n1"]
    assert [d.seq for d in state.deals] == [1]
    assert [d.seq for d in state.take_discarded()] == [2, 3]
    _, intents = execute(manager, state, "tf-3-1-gs3c1n2", candle(180, 104, 105, 104, 104.5))
    assert intents == []  # the level is not bought again
    assert state.deals == []
    assert manager.on_candle(state, flat(240, 96), signal(240), PRODUCT, FEES) == []


def test_grid_never_arms_past_its_budget() -> None:
    state = BotState(3)
    tight = replace(GRID, budget=D(250))
    # each buy reserves 100 + 0.4 maker fee: two fit in 250, a third (301.2) does not
    intents = manager_for(tight).on_candle(state, flat(0, 102), signal(0), PRODUCT, FEES)
    assert ids(intents) == ["+tf-3-1-gb2c1n1", "+tf-3-2-gb1c1n1"]


def test_refused_grid_buy_frees_its_level_for_a_later_candle() -> None:
    state = BotState(3)
    manager = manager_for(GRID)
    manager.on_candle(state, flat(0, 102), signal(0), PRODUCT, FEES)
    assert manager.on_reject(state, "tf-3-2-gb1c1n1", PRODUCT, FEES) == []
    assert [d.seq for d in state.take_discarded()] == [2]
    assert ids(manager.on_candle(state, flat(60, 102), signal(60), PRODUCT, FEES)) == [
        "+tf-3-4-gb1c2n1"
    ]


def test_levels_above_the_start_are_armed_once_the_price_rises() -> None:
    state = BotState(3)
    manager = manager_for(GRID)
    manager.on_candle(state, flat(0, 102), signal(0), PRODUCT, FEES)
    intents = manager.on_candle(state, candle(60, 102, 107, 102, 106), signal(60), PRODUCT, FEES)
    assert ids(intents) == ["+tf-3-4-gb3c1n1"]


def test_manual_close_of_a_grid_deal() -> None:
    state = BotState(3)
    manager = manager_for(GRID)
    manager.on_candle(state, flat(0, 102), signal(0), PRODUCT, FEES)
    assert ids(manager.close_deal(state, 3, PRODUCT, FEES)) == ["-tf-3-3-gb0c1n1"]  # nothing held
    execute(manager, state, "tf-3-1-gb2c1n1", flat(60, 100))
    assert ids(manager.close_deal(state, 1, PRODUCT, FEES)) == ["-tf-3-1-gs3c1n2", "+tf-3-1-m3"]
    assert ids(manager.on_reject(state, "tf-3-1-m3", PRODUCT, FEES)) == ["+tf-3-1-gs3c1n4"]
    manager.close_deal(state, 1, PRODUCT, FEES)
    execute(manager, state, "tf-3-1-m5", flat(120, 99))
    assert state.closed[0].close_reason is CloseReason.MANUAL


def test_grid_simulation_cycles_and_realises_pnl() -> None:
    bars = [flat(0, 102), candle(60, 101, 101, 99, 100), candle(120, 101, 106, 101, 104)]
    result = simulate(GRID, None, bars, PRODUCT, FEES, bot_id=3)
    [deal] = result.closed_deals
    assert deal.realized_pnl == D("4.18")
    assert [f.client_order_id for f in result.fills] == ["tf-3-1-gb2c1n1", "tf-3-1-gs3c1n2"]


def test_manager_for_picks_the_signal_machine_for_deal_settings() -> None:
    settings = DealSettings(budget=D(100), base_order_quote=D(10))
    assert type(manager_for(settings)).__name__ == "SignalDealManager"
