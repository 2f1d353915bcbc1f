"""Dust: a live buy by quote amount receives base off the base increment; every sell asks
for the holding rounded down to the increment, and the rest stays with the closed deal.

The buy of every test, as Coinbase fills a 100 USD market buy at 100.03 with its 0.6 %
fee taken out of the quote: 99.403579 / 100.03 = 0.99373767… ETH, reported to 8 places.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from deals_testkit import BUY, FEES, HOLD, PRODUCT, D, flat, signal, walk
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_deals_exits import LADDER, limit, stop

from tradefleet.brokers.fill_model import validate_order
from tradefleet.deals.book import close_deal, sellable
from tradefleet.deals.protocol import SignalDealManager
from tradefleet.deals.simulate import simulate
from tradefleet.deals.state import BotState
from tradefleet.domain import CancelOrder, Fill, OrderPurpose, OrderType, PlaceOrder, Side

EXITS = replace(LADDER, safety_order_count=0)
LIVE_BUY = Fill("tf-7-1-b1", 60, Side.BUY, D("100.03"), D("0.99373767"), D("99.403579"),
                D("0.596421"))  # fmt: skip


def _bought(fill: Fill = LIVE_BUY) -> tuple[SignalDealManager, BotState, list[object]]:
    state = BotState(7)
    manager = SignalDealManager(EXITS)
    manager.on_candle(state, flat(0, 100), signal(0, BUY), PRODUCT, FEES)
    return manager, state, list(manager.on_fill(state, fill, PRODUCT, FEES))


def test_exits_sell_the_holding_rounded_down_to_the_increment() -> None:
    _manager, state, intents = _bought()
    # avg 99.403579 / 0.99373767 = 100.0299998…; TP +2 % = 102.0306 -> 102.03, SL -5 %
    # = 95.0285 -> 95.03; both for 0.9937 (the increment is 0.0001)
    assert intents == [
        limit("tf-7-1-tp2", Side.SELL, OrderPurpose.TAKE_PROFIT, "0.9937", "102.03"),
        stop("tf-7-1-st3", "0.9937", "95.03"),
    ]
    deal = state.deals[0]
    assert (deal.base_amount, sellable(deal, PRODUCT)) == (D("0.99373767"), D("0.9937"))


def test_the_deal_closes_keeping_its_dust_and_its_cost() -> None:
    manager, state, _ = _bought()
    # the take profit fills: 0.9937 x 102.03 = 101.387211, maker fee 0.405548844
    sold = Fill("tf-7-1-tp2", 120, Side.SELL, D("102.03"), D("0.9937"), D("101.387211"),
                D("0.405548844"))  # fmt: skip
    assert manager.on_fill(state, sold, PRODUCT, FEES) == [CancelOrder("tf-7-1-st3")]
    [deal] = state.take_closed()
    # 101.387211 - 0.405548844 - (99.403579 + 0.596421) = 0.981662156; 0.00003767 kept
    assert (deal.base_amount, deal.sold_base, deal.realized_pnl) == (
        D("0.00003767"),
        D("0.9937"),
        D("0.981662156"),
    )


def test_a_sell_that_leaves_more_than_dust_is_refused() -> None:
    manager, state, _ = _bought()
    part = Fill("tf-7-1-tp2", 120, Side.SELL, D("102.03"), D("0.5"), D("51.015"), D("0.2"))
    with pytest.raises(ValueError, match="more than dust left"):
        manager.on_fill(state, part, PRODUCT, FEES)


def test_a_manual_close_sells_what_is_sellable() -> None:
    _manager, state, _ = _bought()
    intents = close_deal(state, 1, PRODUCT, FEES)
    [sell] = [i for i in intents if isinstance(i, PlaceOrder)]
    assert (sell.order_type, sell.base_amount) == (OrderType.MARKET, D("0.9937"))


@settings(max_examples=200, deadline=None)
@given(
    base=st.decimals(min_value=Decimal("0.0002"), max_value=Decimal(50), places=8),
    price=st.decimals(min_value=Decimal(1), max_value=Decimal(1000), places=2),
)
def test_every_sell_is_on_the_increment_and_leaves_less_than_one(
    base: Decimal, price: Decimal
) -> None:
    quote = base * price
    assume(quote >= 5)  # sells above the product's minimum of 1 quote at either exit
    fill = Fill("tf-7-1-b1", 60, Side.BUY, price, base, quote, quote * Decimal("0.006"))
    _manager, _state, intents = _bought(fill)
    sells = [i for i in intents if isinstance(i, PlaceOrder) and i.side is Side.SELL]
    assert sells, "a holding of two increments or more always gets its exits"
    for sell in sells:
        assert validate_order(sell, PRODUCT) is None
        assert sell.base_amount is not None and sell.base_amount % PRODUCT.base_increment == 0
        assert Decimal(0) <= base - sell.base_amount < PRODUCT.base_increment


def test_paper_and_backtests_never_leave_dust() -> None:
    """Simulated buys are on the increment: every closed deal sold all it held."""
    bars = walk(11, 600)
    for strategy_settings in (LADDER, replace(LADDER, trailing_deviation_pct=D("0.5"))):
        signals = [signal(bar.time, BUY if i % 7 == 0 else HOLD) for i, bar in enumerate(bars)]
        result = simulate(strategy_settings, signals, bars, PRODUCT, FEES, bot_id=7)
        assert result.closed_deals
        assert all(deal.base_amount == 0 for deal in result.closed_deals)
