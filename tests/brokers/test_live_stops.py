"""Live stops (``engine.live_stops``): watched on the last traded price, sold at market
after the deal's other orders are cancelled and confirmed; worked by hand.

A deal without safety orders: the 100 USD market buy at 50,000 fills 0.0019762845 BTC
for 98.814225 USD + 1.1857707 fee (99.9999957 spent); its take profit rests at 51,000
for 0.00197628 and its stop (5 % below the average of 50,000) is watched at 47,500.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from sqlalchemy import select, update
from tests.brokers.live_bot_kit import (
    SETTINGS,
    T0,
    context,
    exchange_orders,
    load_runtime,
    new_bot,
    step,
    stored_orders,
)
from tests.brokers.live_kit import Live

from tradefleet.db.models import Order, Position
from tradefleet.db.session import transaction
from tradefleet.domain import SignalAction
from tradefleet.engine.live_stops import watch
from tradefleet.engine.runtime import BotRuntime

D = Decimal
NO_SAFETY = replace(SETTINGS, safety_order_count=0)


async def _bought(live: Live) -> BotRuntime:
    bot_id = new_bot(live)
    await step(live, load_runtime(live, bot_id, NO_SAFETY), T0, SignalAction.BUY)
    assert stored_orders(live) == {
        "tf-1-1-b1": ("filled", None), "tf-1-1-tp2": ("open", None),
        "tf-1-1-st3": ("watched", None),
    }  # fmt: skip
    return load_runtime(live, bot_id, NO_SAFETY)


def _price(live: Live, price: str) -> None:
    """The market's last trade, with nothing resting reached."""
    live.exchange.account.fake.prices["BTC-USD"] = price


def _deal(live: Live) -> Position:
    with transaction(live.sessions) as session:
        deal = session.scalars(select(Position)).one()
        session.expunge(deal)
        return deal


async def test_a_price_above_the_stop_does_nothing(live: Live) -> None:
    runtime = await _bought(live)
    ctx = await context(live, NO_SAFETY)
    requests = len(live.exchange.account.fake.requests)
    assert await watch(runtime, D("47500.01"), ctx, T0 + 60) is None
    assert len(live.exchange.account.fake.requests) == requests  # not even a read


async def test_a_stop_reached_cancels_the_take_profit_then_sells_at_market(live: Live) -> None:
    runtime = await _bought(live)
    _price(live, "47400")
    report = await watch(runtime, D("47500"), await context(live, NO_SAFETY), T0 + 60)
    assert report is not None and report.problems == []
    assert report.told == ["tf-1-1-tp2", "tf-1-1-st3"]  # the cancel, then the sell
    assert exchange_orders(live) == {
        "tf-1-1-b1": ("FILLED", "100.00", False),
        "tf-1-1-tp2": ("CANCELLED", "0.00197628", True),
        "tf-1-1-st3": ("FILLED", "0.00197628", False),  # a market sell by base
    }
    assert {cid: status for cid, (status, _) in stored_orders(live).items()} == {
        "tf-1-1-b1": "filled", "tf-1-1-tp2": "cancelled", "tf-1-1-st3": "filled"}  # fmt: skip
    deal = _deal(live)
    # 0.00197628 x 47,400 = 93.675672, taker fee 1.2 % = 1.124108064: 92.551563936
    # back for 99.9999957 spent
    assert (deal.status, deal.close_reason, deal.realized_pnl, deal.sold_quote) == (
        "closed", "stop_loss", D("-7.448431764"), D("93.675672"))  # fmt: skip
    assert runtime.state.deals == []
    # the account: 1 BTC + 0.0019762845 - 0.00197628 (the dust stays), and 10,000 USD
    # - 99.9999957 + 92.551563936; nothing on hold
    assert live.exchange.account.balances == {
        "BTC": (D("1.0000000045"), 0), "USD": (D("9992.551568236"), 0)}  # fmt: skip


async def test_a_take_profit_that_filled_first_is_not_sold_again(live: Live) -> None:
    runtime = await _bought(live)
    live.exchange.trade("BTC-USD", "51000")  # the take profit fills...
    _price(live, "47000")  # ...and the price falls before the engine looks
    report = await watch(runtime, D("47000"), await context(live, NO_SAFETY), T0 + 60)
    assert report is not None and report.told == ["tf-1-1-tp2"]
    assert "tf-1-1-st3" not in exchange_orders(live)  # never sent
    assert stored_orders(live)["tf-1-1-st3"] == ("cancelled", None)
    deal = _deal(live)
    assert (deal.close_reason, deal.realized_pnl) == ("take_profit", D("0.18554262"))


async def test_a_stop_whose_sell_never_left_is_watched_again_after_a_restart(
    live: Live,
) -> None:
    runtime = await _bought(live)
    with transaction(live.sessions) as session:  # the server died after storing "sent"
        session.execute(
            update(Order).where(Order.client_order_id == "tf-1-1-st3").values(status="sent")
        )
    runtime = load_runtime(live, runtime.bot_id, NO_SAFETY)
    assert [o.client_order_id for o in runtime.state.working_orders()] == [
        "tf-1-1-tp2", "tf-1-1-st3"]  # fmt: skip
    report = await step(live, runtime, T0 + 300, SignalAction.HOLD)
    assert report.told == [] and report.sent == []
    assert stored_orders(live)["tf-1-1-st3"][0] == "watched"
    _price(live, "47400")
    report = await watch(runtime, D("47400"), await context(live, NO_SAFETY), T0 + 360)
    assert report is not None and report.told == ["tf-1-1-tp2", "tf-1-1-st3"]
    assert _deal(live).close_reason == "stop_loss"
    assert live.creates_sent() == 3  # the buy, the take profit, the stop's one sell
