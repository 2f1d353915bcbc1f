"""A live bot's step (``engine.live_step``): the deal machine trading on the fake
exchange through the real ccxt client, worked by hand.

The deal is test_live_replay's: a 100 USD market buy on BTC-USD at 50,000 fills as
0.0019762845 BTC for 98.814225 USD and a 1.2 % fee of 1.1857707; then a safety buy
rests 2 % lower (0.00040816 at 49,000), the take profit 2 % above the average (0.00197628
at 51,000) and the stop 5 % below it (47,500) is watched, not sent.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from tests.brokers.live_bot_kit import (
    T0,
    exchange_orders,
    load_runtime,
    new_bot,
    step,
    stored_orders,
)
from tests.brokers.live_kit import Live

from tradefleet.db.models import Bot, Fill, Position, Signal
from tradefleet.db.session import transaction
from tradefleet.domain import SignalAction

D = Decimal


async def test_a_buy_signal_fills_at_once_and_its_ladder_rests_in_the_same_step(
    live: Live,
) -> None:
    runtime = load_runtime(live, new_bot(live))
    report = await step(live, runtime, T0, SignalAction.BUY)
    assert report.problems == [] and report.told == ["tf-1-1-b1"]
    assert exchange_orders(live) == {
        "tf-1-1-b1": ("FILLED", "100.00", False),
        "tf-1-1-s2": ("OPEN", "0.00040816", True),
        "tf-1-1-tp3": ("OPEN", "0.00197628", True),
    }
    assert stored_orders(live) == {
        "tf-1-1-b1": ("filled", None), "tf-1-1-s2": ("open", None),
        "tf-1-1-tp3": ("open", None), "tf-1-1-st4": ("watched", None),
    }  # fmt: skip
    with transaction(live.sessions) as session:
        deal = session.scalars(select(Position)).one()
        assert (deal.status, deal.base_amount, deal.bought_quote, deal.buy_fees) == (
            "open", D("0.0019762845"), D("98.814225"), D("1.1857707"))  # fmt: skip
        assert (deal.take_profit_price, deal.stop_price) == (D("51000.00"), D("47500.00"))
        fill = session.scalars(select(Fill)).one()
        assert (fill.base_amount, fill.quote_amount, fill.fee) == (
            D("0.0019762845"), D("98.814225"), D("1.1857707"))  # fmt: skip
        bot = session.get_one(Bot, runtime.bot_id)
        assert (bot.last_candle_time, bot.last_error, bot.is_active) == (T0, None, True)
        assert [s.action for s in session.scalars(select(Signal))] == ["buy"]
    # a restart loads the same deal machine: the stop comes back watched
    again = load_runtime(live, runtime.bot_id)
    assert [o.client_order_id for o in again.state.working_orders()] == [
        "tf-1-1-s2", "tf-1-1-tp3", "tf-1-1-st4"]  # fmt: skip


async def test_the_take_profit_filling_between_closes_closes_the_deal_at_the_next(
    live: Live,
) -> None:
    bot_id = new_bot(live)
    await step(live, load_runtime(live, bot_id), T0, SignalAction.BUY)
    live.exchange.trade("BTC-USD", "51000")
    report = await step(live, load_runtime(live, bot_id), T0 + 300, SignalAction.HOLD)
    assert report.problems == [] and report.told == ["tf-1-1-tp3"]
    assert exchange_orders(live)["tf-1-1-s2"][0] == "CANCELLED"  # the safety buy withdrawn
    statuses = {cid: status for cid, (status, _) in stored_orders(live).items()}
    assert statuses == {"tf-1-1-b1": "filled", "tf-1-1-s2": "cancelled",
                        "tf-1-1-tp3": "filled", "tf-1-1-st4": "cancelled"}  # fmt: skip
    with transaction(live.sessions) as session:
        deal = session.scalars(select(Position)).one()
        # 0.00197628 x 51,000 = 100.79028, maker fee 0.6 % = 0.60474168: 100.18553832
        # back for 99.9999957 spent; 0.0000000045 BTC stays as dust
        assert (deal.status, deal.close_reason, deal.realized_pnl, deal.base_amount) == (
            "closed", "take_profit", D("0.18554262"), D("0.0000000045"))  # fmt: skip
    # nothing of the bot works on the exchange any more, and a next step sends nothing
    before = live.creates_sent()
    report = await step(live, load_runtime(live, bot_id), T0 + 600, SignalAction.HOLD)
    assert (report.sent, report.cancelled, live.creates_sent()) == ([], [], before)


async def test_an_order_the_exchange_refuses_is_told_in_the_same_step(live: Live) -> None:
    live.exchange.account.set_balance("USD", "50")  # less than the 100 USD base order
    bot_id = new_bot(live)
    report = await step(live, load_runtime(live, bot_id), T0, SignalAction.BUY)
    assert report.told == ["tf-1-1-b1"]
    status, error = stored_orders(live)["tf-1-1-b1"]
    assert status == "rejected" and error is not None and "INSUFFICIENT_FUND" in error
    with transaction(live.sessions) as session:
        assert session.scalars(select(Position)).all() == []  # the empty deal dropped
        bot = session.get_one(Bot, bot_id)
        assert bot.last_error is not None and "tf-1-1-b1" in bot.last_error
        assert bot.is_active  # a refusal is shown; it does not stop the bot
