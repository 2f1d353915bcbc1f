"""A live bot's step when the exchange and the step disagree in time (found in review):
a fill stored but not yet told when the step failed, a take profit that part filled
or filled just before its cancel, a cancel the exchange did not answer, fills that lag
an order's end, a market buy whose fill is not out yet, a server stopped between two
sends, a stop's sell refused. In none may a deal sell what it does not hold.

The deal is test_live_step's (one without safety orders: b1, tp2 at 51,000 for
0.00197628, st3 watched at 47,500; with them: s2, tp3, st4).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from tests.api.api_testkit import FixedMarket
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
from tests.brokers.live_kit import BTC_USD, Live
from tests.fakes.coinbase_orders import FakeOrders

from tradefleet.brokers.live.gateway import ExchangeGateway
from tradefleet.brokers.live.orders import LiveOrders
from tradefleet.brokers.live.reconcile import reconcile
from tradefleet.db.models import Bot, Fill
from tradefleet.db.session import transaction
from tradefleet.domain import (
    OrderPurpose,
    OrderStatus,
    OrderType,
    PlaceOrder,
    ProductSpec,
    Side,
    SignalAction,
)
from tradefleet.engine import live_step
from tradefleet.engine.live_stops import watch
from tradefleet.engine.registry import Catalog, RuntimeRegistry
from tradefleet.engine.runtime import BotRuntime

D = Decimal
NO_SAFETY = replace(SETTINGS, safety_order_count=0)
BOUGHT = D("0.0019762845")


def _sold(live: Live) -> Decimal:
    return sum((D(f["size"]) for f in live.exchange.fills if f["side"] == "SELL"), D(0))


async def _bought(live: Live) -> BotRuntime:
    bot_id = new_bot(live)
    await step(live, load_runtime(live, bot_id, NO_SAFETY), T0, SignalAction.BUY)
    return load_runtime(live, bot_id, NO_SAFETY)


async def _reconciled(live: Live, runtime: BotRuntime) -> None:
    ctx = await context(live, NO_SAFETY)
    products: dict[str, ProductSpec] = {"BTC-USD": runtime.product}
    await reconcile(live.sessions, ctx.orders, products, [runtime.bot_id])


def _halted(live: Live, bot_id: int) -> tuple[bool, str | None]:
    with transaction(live.sessions) as session:
        bot = session.get_one(Bot, bot_id)
        return bot.halted_at is not None and not bot.is_active, bot.last_error


async def test_a_fill_stored_but_not_told_is_told_after_the_step_failed(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = await _bought(live)
    live.exchange.trade("BTC-USD", "51000")  # the take profit fills between closes
    await _reconciled(live, runtime)  # the cycle stores its end before any step
    assert stored_orders(live)["tf-1-1-tp2"][0] == "filled"

    def fails(_self: Any, _pending: Any) -> None:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(live_step._LiveStep, "_store", fails)
    with pytest.raises(RuntimeError):
        await step(live, runtime, T0 + 300, SignalAction.HOLD)
    monkeypatch.undo()
    runtime = load_runtime(live, runtime.bot_id, NO_SAFETY)  # reloaded as stored
    assert [o.client_order_id for o in runtime.state.working_orders()] == [
        "tf-1-1-tp2", "tf-1-1-st3"]  # fmt: skip
    report = await step(live, runtime, T0 + 600, SignalAction.HOLD)
    assert report.told == ["tf-1-1-tp2"] and runtime.state.deals == []
    live.exchange.account.fake.prices["BTC-USD"] = "47000"  # no stop is left to sell again
    assert await watch(runtime, D("47000"), await context(live, NO_SAFETY), T0 + 660) is None
    assert _sold(live) == D("0.00197628")


async def test_a_take_profit_part_filled_before_an_exit_halts_instead_of_selling(
    live: Live,
) -> None:
    runtime = await _bought(live)
    live.exchange.trade("BTC-USD", "51000", base="0.001")
    report = await step(live, runtime, T0 + 300, SignalAction.SELL, price=52000)
    assert report.problems == ["order tf-1-1-tp2 executed 0.001 after the bot had cancelled it"]
    assert stored_orders(live)["tf-1-1-x4"] == (
        "rejected", "superseded: a cancel of its deal revealed a fill")  # fmt: skip
    assert _sold(live) == D("0.001")  # the exit never left
    halted, error = _halted(live, runtime.bot_id)
    assert halted and error == report.problems[0]
    again = await step(live, runtime, T0 + 600, SignalAction.BUY)  # halted: nothing new
    assert (again.sent, again.problems) == ([], [])


async def test_an_unanswered_cancel_sends_no_exit_and_a_late_fill_is_reported(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = await _bought(live)

    async def refused(*_args: Any) -> None:
        raise RuntimeError("503 Service Unavailable")

    monkeypatch.setattr(ExchangeGateway, "cancel", refused)
    report = await step(live, runtime, T0 + 300, SignalAction.SELL, price=52000)
    monkeypatch.undo()
    assert report.sent == [] and "tf-1-1-x4" not in exchange_orders(live)
    live.exchange.trade("BTC-USD", "51000")  # the take profit, never cancelled, fills
    await _reconciled(live, runtime)
    report = await step(live, runtime, T0 + 600, SignalAction.HOLD)
    assert report.problems == [
        "order tf-1-1-tp2 executed 0.00197628 after the bot had cancelled it"]  # fmt: skip
    assert _sold(live) == D("0.00197628") and _halted(live, runtime.bot_id)[0]


async def test_an_order_ended_with_fills_not_out_yet_is_read_again(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = await _bought(live)
    real_cancel, real_fills = ExchangeGateway.cancel, ExchangeGateway.fills
    lagging = {"on": False}

    async def cancel(self: ExchangeGateway, *args: Any) -> None:
        live.exchange.trade("BTC-USD", "51000", base="0.001")  # part fills just before
        lagging["on"] = True
        await real_cancel(self, *args)

    async def fills(self: ExchangeGateway, *args: Any) -> Any:
        return [] if lagging["on"] else await real_fills(self, *args)

    monkeypatch.setattr(ExchangeGateway, "cancel", cancel)
    monkeypatch.setattr(ExchangeGateway, "fills", fills)
    report = await step(live, runtime, T0 + 300, SignalAction.SELL, price=52000)
    assert stored_orders(live)["tf-1-1-tp2"][0] == "partly_filled"  # not "cancelled"
    assert report.sent == [] and _sold(live) == D("0.001")
    monkeypatch.undo()
    report = await step(live, runtime, T0 + 600, SignalAction.HOLD)
    assert report.problems == ["order tf-1-1-tp2 executed 0.001 after the bot had cancelled it"]
    with transaction(live.sessions) as session:
        sells = [f.base_amount for f in session.scalars(select(Fill)) if f.side == "sell"]
    assert sells == [D("0.001")]  # the late fill, stored once


async def test_a_market_buy_whose_fill_is_not_out_yet_still_gets_its_exits(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_order = ExchangeGateway.order
    reads = {"n": 0}

    async def order(self: ExchangeGateway, *args: Any) -> Any:
        found = await real_order(self, *args)
        reads["n"] += 1
        if reads["n"] <= 2:  # the first two reads still say open, nothing filled
            return replace(found, status=OrderStatus.OPEN, filled_base=D(0),
                           filled_quote=D(0), fee=D(0))  # fmt: skip
        return found

    monkeypatch.setattr(live_step, "MARKET_WAITS", (0.0, 0.0, 0.0))
    monkeypatch.setattr(ExchangeGateway, "order", order)
    bot_id = new_bot(live)
    report = await step(live, load_runtime(live, bot_id), T0, SignalAction.BUY)
    assert report.told == ["tf-1-1-b1"]
    assert set(exchange_orders(live)) == {"tf-1-1-b1", "tf-1-1-s2", "tf-1-1-tp3"}


async def test_a_resting_order_left_unsent_by_a_stop_is_sent_after_the_restart(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_place = LiveOrders.place
    calls = {"n": 0}

    async def place(self: LiveOrders, *args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:  # b1 and s2 sent; the server dies before tp3 leaves
            raise RuntimeError("killed")
        return await real_place(self, *args)

    monkeypatch.setattr(LiveOrders, "place", place)
    bot_id = new_bot(live)
    with pytest.raises(RuntimeError):
        await step(live, load_runtime(live, bot_id), T0, SignalAction.BUY)
    monkeypatch.undo()
    assert stored_orders(live)["tf-1-1-tp3"] == ("intent", None)
    runtime = load_runtime(live, bot_id)
    await _reconciled(live, runtime)  # the restart's reconciliation sends it
    assert exchange_orders(live)["tf-1-1-tp3"] == ("OPEN", "0.00197628", True)
    report = await step(live, runtime, T0 + 300, SignalAction.HOLD)
    working = [o.client_order_id for o in runtime.state.working_orders()]
    assert report.problems == [] and working == ["tf-1-1-s2", "tf-1-1-tp3", "tf-1-1-st4"]


async def test_a_deal_whose_stop_sell_was_refused_gets_its_exits_back(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = await _bought(live)
    real = FakeOrders._refusal

    def refusal(self: FakeOrders, order: Any) -> Any:
        if order.client_order_id == "tf-1-1-st3":
            return "INVALID_ARGUMENT", "product in limit only mode"
        return real(self, order)

    monkeypatch.setattr(FakeOrders, "_refusal", refusal)
    live.exchange.account.fake.prices["BTC-USD"] = "47400"
    report = await watch(runtime, D("47400"), await context(live, NO_SAFETY), T0 + 60)
    assert report is not None and report.told == ["tf-1-1-tp2", "tf-1-1-st3"]
    assert runtime.state.deals[0].open_orders == {}  # nothing works for the deal now
    report = await step(live, runtime, T0 + 300, SignalAction.HOLD, price=47000)
    assert report.sent == ["tf-1-1-tp4"]  # its take profit back, its stop watched again
    assert [o.client_order_id for o in runtime.state.working_orders()] == [
        "tf-1-1-tp4", "tf-1-1-st5"]  # fmt: skip
    assert runtime.state.deals[0].base_amount == BOUGHT


async def test_a_stopped_bot_s_unconfirmed_cancel_keeps_it_loaded_until_confirmed(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot_id = new_bot(live)
    await step(live, load_runtime(live, bot_id), T0, SignalAction.BUY)
    live.exchange.trade("BTC-USD", "51000")  # the take profit fills; s2 must be withdrawn

    async def refused(*_args: Any) -> None:
        raise RuntimeError("503 Service Unavailable")

    monkeypatch.setattr(ExchangeGateway, "cancel", refused)
    await step(live, load_runtime(live, bot_id), T0 + 300, SignalAction.HOLD)
    monkeypatch.undo()
    assert exchange_orders(live)["tf-1-1-s2"][0] == "OPEN"  # the deal closed, s2 rests
    with transaction(live.sessions) as session:
        session.get_one(Bot, bot_id).is_active = False  # and the user stops the bot
    registry = RuntimeRegistry(FixedMarket())
    registry.live = True
    await registry.sync(live.sessions, live.sessions, Catalog({"BTC-USD": BTC_USD}))
    runtime = registry.get(bot_id)
    assert runtime is not None and runtime.state.deals == []  # loaded for its cancel
    await step(live, runtime, T0 + 600, SignalAction.HOLD)
    assert exchange_orders(live)["tf-1-1-s2"][0] == "CANCELLED"
    await registry.sync(live.sessions, live.sessions, Catalog({"BTC-USD": BTC_USD}))
    assert registry.get(bot_id) is None  # confirmed: nothing keeps it loaded


async def test_a_sell_the_user_asked_for_left_unsent_is_sent_after_the_restart(
    live: Live,
) -> None:
    """An emergency stop's or a manual close's market sell, stored and not sent when the
    server stopped, is still wanted: the restart sends it (an entry would be rejected)."""
    bot_id, deal_id = live.bot_with_a_deal()
    sell = PlaceOrder("tf-1-1-m9", 1, Side.SELL, OrderType.MARKET, OrderPurpose.MANUAL_CLOSE,
                      base_amount=D("0.001"))  # fmt: skip
    buy = PlaceOrder("tf-1-1-a8", 1, Side.BUY, OrderType.MARKET, OrderPurpose.ADD,
                     quote_amount=D("50.00"))  # fmt: skip
    sell_id, buy_id = live.intend(sell, bot_id, deal_id), live.intend(buy, bot_id, deal_id)
    orders = live.broker()
    assert (await orders.settle(sell_id, BTC_USD)).status is OrderStatus.FILLED
    assert (await orders.settle(buy_id, BTC_USD)).status is OrderStatus.REJECTED
    assert set(exchange_orders(live)) == {"tf-1-1-m9"}
