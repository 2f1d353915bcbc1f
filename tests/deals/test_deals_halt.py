"""The emergency stop in the deal machines: ``halt`` withdraws every order, a halted bot
places nothing but its emergency sells, and ``rearm`` puts the exits back, by hand.

The signal deal of every test: the base order filled 0.994 at 100, then safety order 1
filled 0.203 at 98.50 (see test_deals_exits): it holds 1.197 at an average of
99.7456…, with safety orders s3 and s4, take profit tp7 at 101.74 and stop st8 at 94.76.
"""

from __future__ import annotations

from dataclasses import replace

from deals_testkit import BUY, FEES, PRODUCT, SELL, D, candle, execute, flat, ids, signal
from hypothesis import given, settings
from hypothesis import strategies as st
from test_deals_exits import LADDER, limit, opened, stop
from test_deals_grid import GRID

from tradefleet.deals.protocol import SignalDealManager, manager_for
from tradefleet.deals.state import BotState
from tradefleet.domain import Fill, OrderPurpose, OrderType, PlaceOrder, Side


def _dca_deal() -> tuple[SignalDealManager, BotState]:
    manager, state, _ = opened(LADDER)
    execute(manager, state, "tf-7-1-s2", candle(120, 99, 99, 98.5, 99))
    assert list(state.deals[0].open_orders) == [
        "tf-7-1-s3",
        "tf-7-1-s4",
        "tf-7-1-tp7",
        "tf-7-1-st8",
    ]
    return manager, state


def test_halt_cancels_every_order_and_keeps_the_holding() -> None:
    manager, state = _dca_deal()
    intents, problems = manager.halt(state, PRODUCT, FEES, sell=False)
    assert ids(intents) == ["-tf-7-1-s3", "-tf-7-1-s4", "-tf-7-1-tp7", "-tf-7-1-st8"]
    assert problems == []
    [deal] = state.deals
    assert (deal.base_amount, deal.open_orders, state.halted) == (D("1.197"), {}, True)
    assert state.to_manager_state()["halted"] is True
    assert BotState.from_manager_state(7, state.to_manager_state()).halted is True


def test_a_halted_bot_opens_adds_and_protects_nothing() -> None:
    manager, state = _dca_deal()
    manager.halt(state, PRODUCT, FEES, sell=False)
    assert manager.on_candle(state, flat(180, 90), signal(180, BUY), PRODUCT, FEES) == []
    assert manager.on_candle(state, flat(240, 120), signal(240, SELL), PRODUCT, FEES) == []
    assert [deal.seq for deal in state.deals] == [1]  # no new deal, not even an empty one
    assert state.deals[0].open_orders == {}


def test_halt_with_sell_all_sells_each_holding_at_market() -> None:
    manager, state = _dca_deal()
    intents, problems = manager.halt(state, PRODUCT, FEES, sell=True)
    sell = PlaceOrder(
        "tf-7-1-m9", 1, Side.SELL, OrderType.MARKET, OrderPurpose.MANUAL_CLOSE,
        base_amount=D("1.197"),
    )  # fmt: skip
    assert ids(intents[:4]) == ["-tf-7-1-s3", "-tf-7-1-s4", "-tf-7-1-tp7", "-tf-7-1-st8"]
    assert (intents[4:], problems) == ([sell], [])
    # the sell fills: 1.197 x 97 = 116.109, taker fee 0.696654; the deal closes as manual
    fill = Fill("tf-7-1-m9", 300, Side.SELL, D(97), D("1.197"), D("116.109"), D("0.696654"))
    assert manager.on_fill(state, fill, PRODUCT, FEES) == []
    [closed] = state.take_closed()
    # 116.109 - 0.696654 - (99.4 + 19.9955 + 0.5964 + 0.079982) = -4.659536
    assert (closed.close_reason.value, closed.realized_pnl) == ("manual", D("-4.659536"))
    again, _ = manager.halt(state, PRODUCT, FEES, sell=True)
    assert again == []


def test_a_holding_below_the_minimum_is_reported_not_sold() -> None:
    manager, state = _dca_deal()
    coarse = replace(PRODUCT, base_min_size=D(2))
    intents, problems = manager.halt(state, coarse, FEES, sell=True)
    assert ids(intents) == ["-tf-7-1-s3", "-tf-7-1-s4", "-tf-7-1-tp7", "-tf-7-1-st8"]
    assert problems == ["deal 1 holds 1.197, below the minimum order: not sold"]


def test_a_deal_that_bought_nothing_is_dropped() -> None:
    state = BotState(7)
    manager = SignalDealManager(LADDER)
    manager.on_candle(state, flat(0, 100), signal(0, BUY), PRODUCT, FEES)  # b1 in flight
    intents, problems = manager.halt(state, PRODUCT, FEES, sell=True)
    assert (ids(intents), problems, state.deals) == (["-tf-7-1-b1"], [], [])
    assert [deal.seq for deal in state.take_discarded()] == [1]


def test_rearm_puts_back_the_unfilled_safety_orders_then_the_exits() -> None:
    manager, state = _dca_deal()
    manager.halt(state, PRODUCT, FEES, sell=False)
    intents = manager.rearm(state, PRODUCT, FEES)
    # safety orders 2 and 3 of the ladder (1 filled), at their own prices; then the
    # take profit and stop at the same levels as before the halt, under fresh ids
    assert intents == [
        limit("tf-7-1-s9", Side.BUY, OrderPurpose.SAFETY, "0.3141", "95.50"),
        limit("tf-7-1-s10", Side.BUY, OrderPurpose.SAFETY, "0.5027", "89.50"),
        limit("tf-7-1-tp11", Side.SELL, OrderPurpose.TAKE_PROFIT, "1.197", "101.74"),
        stop("tf-7-1-st12", "1.197", "94.76"),
    ]
    assert state.halted is False and "halted" not in state.to_manager_state()


def test_rearm_leaves_a_deal_whose_emergency_sell_is_in_flight() -> None:
    manager, state = _dca_deal()
    manager.halt(state, PRODUCT, FEES, sell=True)
    assert manager.rearm(state, PRODUCT, FEES) == []
    assert list(state.deals[0].open_orders) == ["tf-7-1-m9"]


def test_a_halted_grid_keeps_its_holding_and_rearms_its_sell() -> None:
    state = BotState(3)
    manager = manager_for(GRID)
    manager.on_candle(state, flat(0, 102), signal(0), PRODUCT, FEES)
    execute(manager, state, "tf-3-1-gb2c1n1", candle(60, 101, 101, 100, 100.5))
    intents, problems = manager.halt(state, PRODUCT, FEES, sell=False)
    assert ids(intents) == ["-tf-3-1-gs3c1n2", "-tf-3-2-gb1c1n1", "-tf-3-3-gb0c1n1"]
    assert problems == [] and [deal.seq for deal in state.deals] == [1]
    assert manager.on_candle(state, flat(120, 102), signal(120), PRODUCT, FEES) == []
    sell = manager.rearm(state, PRODUCT, FEES)
    assert sell == [
        PlaceOrder(
            "tf-3-1-gs3c1n3", 1, Side.SELL, OrderType.LIMIT, OrderPurpose.GRID_SELL,
            base_amount=D(1), price=D(105),
        )
    ]  # fmt: skip
    # the freed levels 95 and 90 are armed again by the next candle, in new cycles
    assert ids(manager.on_candle(state, flat(180, 102), signal(180), PRODUCT, FEES)) == [
        "+tf-3-4-gb1c2n1",
        "+tf-3-5-gb0c2n1",
    ]


@settings(max_examples=60, deadline=None)
@given(
    actions=st.lists(st.sampled_from([BUY, SELL, None]), min_size=1, max_size=12),
    prices=st.lists(st.integers(80, 120), min_size=12, max_size=12),
    sell=st.booleans(),
)
def test_once_halted_only_emergency_sells_are_ever_placed(
    actions: list[object], prices: list[int], sell: bool
) -> None:
    """Whatever the deal did before, after ``halt`` every manager call on any candle,
    signal or fill places at most the manual-close sells, and leaves no deal unsold
    with an order other than that sell."""
    manager, state = _dca_deal()
    manager.halt(state, PRODUCT, FEES, sell=sell)
    for time, (action, price) in enumerate(zip(actions, prices, strict=False), start=3):
        bar = candle(time * 60, price, price + 1, price - 1, price)
        placed: list[PlaceOrder] = []
        placed += [
            i for i in manager.on_fees(state, PRODUCT, replace(FEES, maker=D("0.005")))
            if isinstance(i, PlaceOrder)
        ]  # fmt: skip
        if action is None:
            for order in list(state.working_orders()):
                fill = Fill(
                    order.client_order_id, bar.time, order.side, D(price),
                    order.base_amount or D(0), (order.base_amount or D(0)) * price, D(0),
                )  # fmt: skip
                placed += [
                    i for i in manager.on_fill(state, fill, PRODUCT, FEES)
                    if isinstance(i, PlaceOrder)
                ]  # fmt: skip
        else:
            placed += [
                i for i in manager.on_candle(state, bar, signal(bar.time, action), PRODUCT, FEES)
                if isinstance(i, PlaceOrder)
            ]  # fmt: skip
        assert all(order.purpose is OrderPurpose.MANUAL_CLOSE for order in placed)
        purposes = {order.purpose for order in state.working_orders()}
        assert purposes <= {OrderPurpose.MANUAL_CLOSE}
        assert len(state.deals) <= 1
