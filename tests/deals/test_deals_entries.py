"""Opening deals and adding to them: signals, max deals, cooldown, budget and caps."""

from __future__ import annotations

from dataclasses import replace

import pytest
from deals_testkit import BUY, FEES, HOLD, PRODUCT, SELL, D, execute, flat, ids, signal

from tradefleet.deals.protocol import SignalDealManager
from tradefleet.deals.settings import DealSettings
from tradefleet.deals.simulate import simulate
from tradefleet.deals.state import BotState
from tradefleet.domain import (
    OrderPurpose,
    OrderType,
    PlaceOrder,
    Side,
    SignalAction,
)

SETTINGS = DealSettings(budget=D(1000), base_order_quote=D(100))


def buy_on(manager: SignalDealManager, state: BotState, time: int, price: float) -> list[str]:
    return ids(manager.on_candle(state, flat(time, price), signal(time, BUY), PRODUCT, FEES))


def test_buy_signal_opens_a_deal_with_a_market_base_order() -> None:
    state = BotState(7)
    manager = SignalDealManager(SETTINGS)
    intents = manager.on_candle(state, flat(600, 100), signal(600, BUY), PRODUCT, FEES)
    assert intents == [
        PlaceOrder(
            "tf-7-1-b1", 1, Side.BUY, OrderType.MARKET, OrderPurpose.BASE, quote_amount=D(100)
        )
    ]
    [deal] = state.deals
    assert (deal.seq, deal.opened_at, deal.order_seq, state.next_deal_seq) == (1, 600, 1, 2)
    assert deal.open_orders == {"tf-7-1-b1": intents[0]}


def test_base_fill_sets_entry_and_opened_at() -> None:
    state = BotState(7)
    manager = SignalDealManager(SETTINGS)
    buy_on(manager, state, 600, 100)
    fill, intents = execute(manager, state, "tf-7-1-b1", flat(660, 100))
    assert intents == []  # no safety orders, no take profit, no stop configured
    deal = state.deals[0]
    assert (deal.base_amount, deal.bought_base, deal.bought_quote) == (
        D("0.994"), D("0.994"), D("99.4")
    )  # fmt: skip
    assert (deal.buy_fees, deal.base_price, deal.average_entry_price) == (
        D("0.5964"),
        D(100),
        D(100),
    )
    assert deal.opened_at == 660 == fill.time


@pytest.mark.parametrize("action", [HOLD, SELL])
def test_only_buy_signals_open_deals(action: SignalAction) -> None:
    state = BotState(7)
    manager = SignalDealManager(SETTINGS)
    assert manager.on_candle(state, flat(600, 100), signal(600, action), PRODUCT, FEES) == []
    assert state.deals == []


def test_entry_on_signal_off_ignores_buy_signals() -> None:
    state = BotState(7)
    manager = SignalDealManager(replace(SETTINGS, entry_on_signal=False))
    assert buy_on(manager, state, 600, 100) == []


def test_base_quote_is_rounded_down_to_the_quote_increment() -> None:
    state = BotState(7)
    manager = SignalDealManager(replace(SETTINGS, base_order_quote=D("100.009")))
    manager.on_candle(state, flat(600, 100), signal(600, BUY), PRODUCT, FEES)
    [order] = state.deals[0].open_orders.values()
    assert order.quote_amount == D("100.00")


def test_max_active_deals_caps_open_deals() -> None:
    state = BotState(7)
    manager = SignalDealManager(replace(SETTINGS, max_active_deals=2))
    assert buy_on(manager, state, 0, 100) == ["+tf-7-1-b1"]
    execute(manager, state, "tf-7-1-b1", flat(60, 100))
    assert buy_on(manager, state, 60, 100) == ["+tf-7-2-b1"]
    execute(manager, state, "tf-7-2-b1", flat(120, 100))
    assert buy_on(manager, state, 120, 100) == []
    assert [deal.seq for deal in state.deals] == [1, 2]


def test_budget_blocks_a_new_deal() -> None:
    state = BotState(7)
    manager = SignalDealManager(replace(SETTINGS, budget=D(150), max_active_deals=3))
    assert buy_on(manager, state, 0, 100) == ["+tf-7-1-b1"]
    execute(manager, state, "tf-7-1-b1", flat(60, 100))  # committed 99.9964
    assert buy_on(manager, state, 60, 100) == []


def test_cooldown_blocks_reentry_until_it_has_passed() -> None:
    state = BotState(7)
    manager = SignalDealManager(replace(SETTINGS, cooldown_seconds=300))
    buy_on(manager, state, 0, 100)
    execute(manager, state, "tf-7-1-b1", flat(60, 100))
    exit_intents = manager.on_candle(state, flat(60, 102), signal(60, SELL), PRODUCT, FEES)
    assert ids(exit_intents) == ["+tf-7-1-x2"]
    execute(manager, state, "tf-7-1-x2", flat(120, 102))
    assert state.last_deal_closed_at == 120
    assert buy_on(manager, state, 360, 100) == []  # 240 s after the close
    assert buy_on(manager, state, 420, 100) == ["+tf-7-2-b1"]  # 300 s after


ADDS = replace(SETTINGS, add_order_quote=D(50))


def opened(settings: DealSettings) -> tuple[SignalDealManager, BotState]:
    state = BotState(7)
    manager = SignalDealManager(settings)
    buy_on(manager, state, 0, 100)
    execute(manager, state, "tf-7-1-b1", flat(60, 100))
    return manager, state


def test_add_buys_more_below_the_average() -> None:
    manager, state = opened(ADDS)
    intents = manager.on_candle(state, flat(60, 99.99), signal(60, BUY), PRODUCT, FEES)
    assert intents == [
        PlaceOrder("tf-7-1-a2", 1, Side.BUY, OrderType.MARKET, OrderPurpose.ADD, quote_amount=D(50))
    ]
    # 50 / (99 x 1.006) = 0.50205 -> 0.502; 99 x 0.502 = 49.698; fee 0.298188
    _fill, after = execute(manager, state, "tf-7-1-a2", flat(120, 99))
    assert after == []
    deal = state.deals[0]
    assert (deal.adds_filled, deal.bought_base, deal.bought_quote) == (1, D("1.496"), D("149.098"))
    assert deal.average_entry_price == D("99.664438502673796791")  # 149.098 / 1.496


def test_add_waits_for_a_close_below_the_average() -> None:
    manager, state = opened(ADDS)
    assert buy_on(manager, state, 60, 100) == []  # not below 100: and no second deal (max 1)


def test_add_without_the_below_average_rule() -> None:
    manager, state = opened(replace(ADDS, adds_require_below_average=False))
    assert buy_on(manager, state, 60, 105) == ["+tf-7-1-a2"]


def test_add_respects_the_position_cap_and_falls_back_to_a_new_deal() -> None:
    settings = replace(ADDS, max_position_quote=D(140), max_active_deals=2)
    manager, state = opened(settings)
    # 99.9964 + 50 > 140, so the BUY opens a second deal instead (one buy per candle)
    assert buy_on(manager, state, 60, 99) == ["+tf-7-2-b1"]
    assert len(state.deals) == 2 and state.deals[0].order_seq == 1


def test_add_respects_the_budget() -> None:
    manager, state = opened(replace(ADDS, budget=D(149)))
    assert buy_on(manager, state, 60, 99) == []


def test_rejected_base_order_drops_the_empty_deal() -> None:
    state = BotState(7)
    manager = SignalDealManager(SETTINGS)
    buy_on(manager, state, 0, 100)
    assert manager.on_reject(state, "tf-7-1-b1", PRODUCT, FEES) == []
    assert state.deals == []
    [gone] = state.take_discarded()
    assert gone.seq == 1 and state.discarded == []
    assert buy_on(manager, state, 60, 100) == ["+tf-7-2-b1"]  # seq numbers are never reused


def test_rejected_add_leaves_the_deal_as_it_was() -> None:
    manager, state = opened(ADDS)
    buy_on(manager, state, 60, 99)
    assert manager.on_reject(state, "tf-7-1-a2", PRODUCT, FEES) == []
    assert state.deals[0].open_orders == {} and state.deals[0].bought_base == D("0.994")


def test_no_buy_while_a_market_buy_is_in_flight() -> None:
    state = BotState(7)
    manager = SignalDealManager(replace(ADDS, max_active_deals=1))
    buy_on(manager, state, 0, 100)
    assert buy_on(manager, state, 60, 90) == []  # base not filled yet: no add, max 1 deal
    assert list(state.deals[0].open_orders) == ["tf-7-1-b1"]


def test_base_order_too_small_at_the_open_is_rejected_and_its_deal_dropped() -> None:
    tiny = replace(SETTINGS, base_order_quote=D(1))
    # at 20000: 1 / (20000 x 1.006) = 0.0000497 base, below the 0.0001 minimum;
    # at 5000: 1 / 5030 = 0.000198 -> 0.0001 fills
    bars = [flat(0, 20000), flat(60, 20000), flat(120, 5000)]
    signals = [signal(0, BUY), signal(60, BUY), signal(120)]
    result = simulate(tiny, signals, bars, PRODUCT, FEES, bot_id=7)
    [(refused, reason)] = result.rejected
    assert refused.client_order_id == "tf-7-1-b1" and "below the minimum" in reason
    assert [f.client_order_id for f in result.fills] == ["tf-7-2-b1"]
    assert [d.seq for d in result.final_state.deals] == [2]
    assert result.fills[0].base_amount == D("0.0001")
