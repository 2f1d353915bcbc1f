"""Safety ladder, take profit, stop loss, signal exits and manual closes, by hand.

The base order in every test: 100 quote at 100 -> 0.994 base, 99.4 quote, fee 0.5964.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from deals_testkit import BUY, FEES, HOLD, PRODUCT, SELL, D, candle, execute, flat, ids, signal

from tradefleet.deals.protocol import SignalDealManager
from tradefleet.deals.safety import safety_ladder
from tradefleet.deals.settings import DealSettings
from tradefleet.deals.simulate import simulate
from tradefleet.deals.state import BotState, UnknownOrderError
from tradefleet.domain import (
    CancelOrder,
    CloseReason,
    Fill,
    OrderPurpose,
    OrderType,
    PlaceOrder,
    Side,
)

LADDER = DealSettings(
    budget=D(1000),
    base_order_quote=D(100),
    safety_order_count=3,
    safety_order_quote=D(20),
    safety_deviation_pct=D("1.5"),
    safety_step_scale=D(2),
    safety_volume_scale=D("1.5"),
    take_profit_pct=D(2),
    stop_loss_pct=D(5),
)
BASE_COST = D("99.9964")


def opened(settings: DealSettings) -> tuple[SignalDealManager, BotState, list[PlaceOrder]]:
    """A deal whose base order filled at 100; returns the intents of that fill."""
    state = BotState(7)
    manager = SignalDealManager(settings)
    manager.on_candle(state, flat(0, 100), signal(0, BUY), PRODUCT, FEES)
    _fill, intents = execute(manager, state, "tf-7-1-b1", flat(60, 100))
    assert all(isinstance(i, PlaceOrder) for i in intents)
    return manager, state, [i for i in intents if isinstance(i, PlaceOrder)]


def limit(cid: str, side: Side, purpose: OrderPurpose, base: str, price: str) -> PlaceOrder:
    return PlaceOrder(cid, 1, side, OrderType.LIMIT, purpose, base_amount=D(base), price=D(price))


def stop(cid: str, base: str, trigger: str) -> PlaceOrder:
    return PlaceOrder(
        cid, 1, Side.SELL, OrderType.STOP, OrderPurpose.STOP, base_amount=D(base),
        trigger_price=D(trigger),
    )  # fmt: skip


def test_safety_ladder_by_hand() -> None:
    # D1 = 1.5, D2 = 1.5 + 1.5 x 2 = 4.5, D3 = 4.5 + 1.5 x 4 = 10.5 (% below 100);
    # quotes 20, 30, 45 -> 20 / 98.5 = 0.20304, 30 / 95.5 = 0.31413, 45 / 89.5 = 0.50279
    assert safety_ladder(LADDER, D(100), PRODUCT) == [
        (D("98.50"), D("0.2030")),
        (D("95.50"), D("0.3141")),
        (D("89.50"), D("0.5027")),
    ]


def test_base_fill_places_the_ladder_then_take_profit_and_stop() -> None:
    _manager, state, intents = opened(LADDER)
    assert intents == [
        limit("tf-7-1-s2", Side.BUY, OrderPurpose.SAFETY, "0.2030", "98.50"),
        limit("tf-7-1-s3", Side.BUY, OrderPurpose.SAFETY, "0.3141", "95.50"),
        limit("tf-7-1-s4", Side.BUY, OrderPurpose.SAFETY, "0.5027", "89.50"),
        limit("tf-7-1-tp5", Side.SELL, OrderPurpose.TAKE_PROFIT, "0.994", "102"),
        stop("tf-7-1-st6", "0.994", "95"),
    ]
    deal = state.deals[0]
    assert (deal.take_profit_price, deal.stop_price) == (D(102), D(95))


def test_ladder_skips_orders_past_the_position_cap() -> None:
    # committed: base 99.9964, +SO1 20.075482 = 120.071882, +SO2 30.1165362 = 150.1884182,
    # +SO3 45.1716166 = 195.3600348 > 170
    _manager, _state, intents = opened(replace(LADDER, max_position_quote=D(170)))
    assert ids(intents) == ["+tf-7-1-s2", "+tf-7-1-s3", "+tf-7-1-tp4", "+tf-7-1-st5"]


def test_ladder_skips_orders_past_the_budget_but_tries_later_ones() -> None:
    shrinking = replace(
        LADDER, budget=D(145), safety_volume_scale=D("0.25"), safety_order_quote=D(40)
    )
    # SO1 40 / 98.5 -> 0.4060 costs 40.151…: 140.15 fits; SO2 10 / 95.5 -> 0.1047 costs
    # 10.039…: 150.19 > 145 skipped; SO3 2.5 / 89.5 -> 0.0279 costs 2.507…: 142.66 fits
    _manager, _state, intents = opened(shrinking)
    assert ids(intents) == ["+tf-7-1-s2", "+tf-7-1-s3", "+tf-7-1-tp4", "+tf-7-1-st5"]
    assert [i.price for i in intents[:2]] == [D("98.5"), D("89.5")]


def test_take_profit_is_replaced_at_the_new_average_after_a_safety_fill() -> None:
    manager, state, _ = opened(LADDER)
    fill, intents = execute(manager, state, "tf-7-1-s2", candle(120, 99, 99, 98.5, 99))
    assert (fill.quote_amount, fill.fee) == (D("19.9955"), D("0.079982"))
    # avg = (99.4 + 19.9955) / (0.994 + 0.203) = 119.3955 / 1.197 = 99.7456140350877…
    # TP 99.7456… x 1.02 = 101.7405… -> 101.74; SL x 0.95 = 94.7583… -> 94.76
    assert intents == [
        CancelOrder("tf-7-1-tp5"),
        CancelOrder("tf-7-1-st6"),
        limit("tf-7-1-tp7", Side.SELL, OrderPurpose.TAKE_PROFIT, "1.197", "101.74"),
        stop("tf-7-1-st8", "1.197", "94.76"),
    ]
    deal = state.deals[0]
    assert deal.average_entry_price == D("99.745614035087719298")
    assert deal.safety_orders_filled == 1
    assert list(deal.open_orders) == ["tf-7-1-s3", "tf-7-1-s4", "tf-7-1-tp7", "tf-7-1-st8"]


EXITS = DealSettings(
    budget=D(1000), base_order_quote=D(100), take_profit_pct=D(2), stop_loss_pct=D(5)
)


def test_stop_loss_gap_fills_at_the_open() -> None:
    bars = [flat(0, 100), flat(60, 100), candle(120, 90, 91, 85, 88)]
    result = simulate(
        EXITS, [signal(0, BUY), signal(60), signal(120)], bars, PRODUCT, FEES, bot_id=7
    )
    base_fill, stop_fill = result.fills
    assert (base_fill.time, base_fill.price) == (60, D(100))  # next open after the signal
    assert (stop_fill.client_order_id, stop_fill.price) == ("tf-7-1-st3", D(90))
    # 0.994 x 90 = 89.46, fee 0.53676
    assert (stop_fill.quote_amount, stop_fill.fee) == (D("89.46"), D("0.53676"))
    [deal] = result.closed_deals
    assert (deal.close_reason, deal.closed_at, deal.base_amount) == (
        CloseReason.STOP_LOSS,
        120,
        D(0),
    )
    assert deal.realized_pnl == D("89.46") - D("0.53676") - BASE_COST == D("-11.07316")
    assert result.final_state.last_deal_closed_at == 120
    assert result.working == []  # its take profit was cancelled


def test_stop_loss_and_take_profit_in_one_candle_takes_the_stop() -> None:
    bars = [flat(0, 100), flat(60, 100), candle(120, 100, 103, 94, 100)]
    result = simulate(
        EXITS, [signal(0, BUY), signal(60), signal(120)], bars, PRODUCT, FEES, bot_id=7
    )
    [deal] = result.closed_deals
    assert deal.close_reason is CloseReason.STOP_LOSS
    assert result.fills[-1].price == D(95)
    # 0.994 x 95 = 94.43, fee 0.56658
    assert deal.realized_pnl == D("94.43") - D("0.56658") - BASE_COST == D("-6.13298")
    assert result.working == []  # the take profit was cancelled


def test_take_profit_fills_at_its_limit_with_maker_fee() -> None:
    bars = [flat(0, 100), flat(60, 100), candle(120, 100, 102, 99.5, 101)]
    result = simulate(EXITS, [signal(0, BUY), signal(60), signal(120)], bars, PRODUCT, FEES)
    [deal] = result.closed_deals
    # 0.994 x 102 = 101.388, fee 0.4 % = 0.405552
    assert (deal.close_reason, deal.sold_quote, deal.sell_fees) == (
        CloseReason.TAKE_PROFIT, D("101.388"), D("0.405552")
    )  # fmt: skip
    assert deal.realized_pnl == D("0.986048")


TRAILING = DealSettings(
    budget=D(1000), base_order_quote=D(100), take_profit_pct=D(2), trailing_deviation_pct=D(1)
)


def test_trailing_take_profit_activates_trails_and_exits() -> None:
    manager, state, placed = opened(TRAILING)
    assert placed == []  # nothing rests above the price while trailing
    deal = state.deals[0]
    assert deal.take_profit_price == D(102)  # the activation price
    hold = signal(0, HOLD)
    assert manager.on_candle(state, candle(120, 100, 101.99, 99, 101), hold, PRODUCT, FEES) == []
    assert not deal.trailing_active
    # high 103 >= 102: active, peak 103, stop 103 x 0.99 = 101.97
    intents = manager.on_candle(state, candle(180, 101, 103, 100, 102.5), hold, PRODUCT, FEES)
    assert intents == [stop("tf-7-1-st2", "0.994", "101.97")]
    assert (deal.trailing_active, deal.trailing_peak) == (True, D(103))
    assert manager.on_candle(state, candle(240, 102, 102.9, 102, 102), hold, PRODUCT, FEES) == []
    intents = manager.on_candle(state, candle(300, 102, 105, 102, 104.5), hold, PRODUCT, FEES)
    assert intents == [CancelOrder("tf-7-1-st2"), stop("tf-7-1-st3", "0.994", "103.95")]
    fill, _ = execute(manager, state, "tf-7-1-st3", candle(360, 104, 104.2, 103, 103.5))
    assert fill.price == D("103.95")
    [closed] = state.closed
    assert closed.close_reason is CloseReason.TRAILING
    # 0.994 x 103.95 = 103.3263, fee 0.6 % = 0.6199578
    assert closed.realized_pnl == D("103.3263") - D("0.6199578") - BASE_COST


def test_trailing_stop_replaces_the_stop_loss_once_higher() -> None:
    manager, state, placed = opened(replace(TRAILING, stop_loss_pct=D(5)))
    assert placed == [stop("tf-7-1-st2", "0.994", "95")]
    intents = manager.on_candle(state, candle(120, 100, 103, 100, 102), signal(0), PRODUCT, FEES)
    assert intents == [CancelOrder("tf-7-1-st2"), stop("tf-7-1-st3", "0.994", "101.97")]


def test_wide_trailing_keeps_the_higher_stop_loss() -> None:
    manager, state, _ = opened(replace(TRAILING, stop_loss_pct=D(5), trailing_deviation_pct=D(10)))
    # 103 x 0.9 = 92.7 < 95: the stop stays where it is, but the deal now trails
    assert manager.on_candle(state, candle(120, 100, 103, 100, 102), signal(0), PRODUCT, FEES) == []
    assert state.deals[0].trailing_active
    execute(manager, state, "tf-7-1-st2", candle(180, 96, 96, 94, 95))
    assert state.closed[0].close_reason is CloseReason.TRAILING


SIGNAL_EXIT = DealSettings(
    budget=D(1000), base_order_quote=D(100), stop_loss_pct=D(5), exit_min_profit_pct=D(1)
)


def test_sell_signal_exits_only_at_the_minimum_profit_net_of_fees() -> None:
    manager, state, _ = opened(SIGNAL_EXIT)
    sell = signal(120, SELL)
    # cost 99.4 + fee 0.5964 = 99.9964; selling 0.994 at C nets C x 0.994 x (1 - 0.006).
    # 1 % profit needs C x 0.988036 >= 100.996364, i.e. C >= 102.2193...
    assert manager.on_candle(state, flat(120, 102.21), sell, PRODUCT, FEES) == []
    intents = manager.on_candle(state, flat(180, 102.22), sell, PRODUCT, FEES)
    assert intents == [
        CancelOrder("tf-7-1-st2"),
        PlaceOrder(
            "tf-7-1-x3", 1, Side.SELL, OrderType.MARKET, OrderPurpose.EXIT, base_amount=D("0.994")
        ),
    ]
    execute(manager, state, "tf-7-1-x3", flat(240, 102.22))
    assert state.closed[0].close_reason is CloseReason.SIGNAL
    assert state.closed[0].realized_pnl is not None and state.closed[0].realized_pnl > 0


def test_sell_signal_ignored_without_signal_exit() -> None:
    manager, state, _ = opened(replace(SIGNAL_EXIT, signal_exit=False))
    assert manager.on_candle(state, flat(120, 120), signal(120, SELL), PRODUCT, FEES) == []


def test_rejected_exit_puts_the_protection_back() -> None:
    manager, state, _ = opened(replace(SIGNAL_EXIT, take_profit_pct=D(3)))
    manager.on_candle(state, flat(120, 102.5), signal(120, SELL), PRODUCT, FEES)
    intents = manager.on_reject(state, "tf-7-1-x4", PRODUCT, FEES)
    assert ids(intents) == ["+tf-7-1-tp5", "+tf-7-1-st6"]
    assert state.deals[0].status == "open"


def test_manual_close_cancels_and_sells_everything() -> None:
    manager, state, _ = opened(LADDER)
    intents = manager.close_deal(state, 1, PRODUCT, FEES)
    assert ids(intents) == [
        "-tf-7-1-s2", "-tf-7-1-s3", "-tf-7-1-s4", "-tf-7-1-tp5", "-tf-7-1-st6", "+tf-7-1-m7"
    ]  # fmt: skip
    assert intents[-1] == PlaceOrder(
        "tf-7-1-m7",
        1,
        Side.SELL,
        OrderType.MARKET,
        OrderPurpose.MANUAL_CLOSE,
        base_amount=D("0.994"),
    )
    assert manager.close_deal(state, 1, PRODUCT, FEES) == []  # the sell is in flight
    execute(manager, state, "tf-7-1-m7", flat(120, 100))
    assert state.closed[0].close_reason is CloseReason.MANUAL
    with pytest.raises(ValueError, match="no open deal 1"):
        manager.close_deal(state, 1, PRODUCT, FEES)


def test_manual_close_refused_while_the_base_buy_is_in_flight() -> None:
    state = BotState(7)
    manager = SignalDealManager(LADDER)
    manager.on_candle(state, flat(0, 100), signal(0, BUY), PRODUCT, FEES)
    with pytest.raises(ValueError, match="in flight"):
        manager.close_deal(state, 1, PRODUCT, FEES)


def test_fill_of_an_unknown_order_is_refused() -> None:
    manager, state, _ = opened(LADDER)
    stray = Fill("tf-7-1-b99", 120, Side.BUY, D(100), D(1), D(100), D("0.4"))
    with pytest.raises(UnknownOrderError):
        manager.on_fill(state, stray, PRODUCT, FEES)


def test_selling_more_than_held_is_refused() -> None:
    manager, state, _ = opened(LADDER)
    too_much = Fill("tf-7-1-tp5", 120, Side.SELL, D(102), D("0.995"), D("101.49"), D("0.4"))
    with pytest.raises(ValueError, match=r"held 0\.994"):
        manager.on_fill(state, too_much, PRODUCT, FEES)
