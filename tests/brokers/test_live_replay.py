"""Live order outcomes told to the deal manager (``brokers.live.replay``), by hand.

The deal: a 100 USD market buy on BTC-USD at 50,000, filled as Coinbase fills it with
its fee out of the quote (see test_live_orders): 0.0019762845 BTC for 98.814225 USD and
a fee of 1.1857707. The bot rests one safety order 2 % lower (20 USD) and a take profit
2 % above its average; its stop (5 % below) is watched, not sent.
"""

from __future__ import annotations

from decimal import Decimal

from tests.brokers.live_kit import BTC_USD as LIVE_BTC_USD
from tests.brokers.live_kit import Live, market_buy

from tradefleet.brokers.live.replay import OrderRecord, replay
from tradefleet.deals.protocol import SignalDealManager
from tradefleet.deals.settings import DealSettings
from tradefleet.deals.state import BotState
from tradefleet.domain import (
    Candle,
    FeeSchedule,
    OrderPurpose,
    OrderStatus,
    OrderType,
    PlaceOrder,
    ProductSpec,
    Side,
    Signal,
    SignalAction,
)

D = Decimal
BTC_USD = ProductSpec(
    product_id="BTC-USD", base_currency="BTC", quote_currency="USD",
    base_increment=D("0.00000001"), quote_increment=D("0.01"), price_increment=D("0.01"),
    base_min_size=D("0.00000001"), quote_min_size=D("1"),
)  # fmt: skip
FEES = FeeSchedule(taker=D("0.012"), maker=D("0.006"))
SETTINGS = DealSettings(
    budget=D(1000), base_order_quote=D(100), safety_order_count=1, safety_order_quote=D(20),
    safety_deviation_pct=D(2), take_profit_pct=D(2), stop_loss_pct=D(5),
)  # fmt: skip
MANAGER = SignalDealManager(SETTINGS)


def _record(cid: str, side: Side, status: OrderStatus, *amounts: str, at: int = 120) -> OrderRecord:
    """``amounts``: filled base, filled quote and fee (nothing executed when omitted)."""
    base, quote, fee = amounts or ("0", "0", "0")
    return OrderRecord(cid, side, status, D(base), D(quote), D(fee), at)


BASE_FILLED = _record("tf-1-1-b1", Side.BUY, OrderStatus.FILLED, "0.0019762845", "98.814225",
                      "1.1857707", at=60)  # fmt: skip


def _bought() -> BotState:
    state = BotState(1)
    bar = Candle(time=0, open=50000, high=50000, low=50000, close=50000, volume=1)
    MANAGER.on_candle(state, bar, Signal(0, SignalAction.BUY, 50000), BTC_USD, FEES)
    assert [o.client_order_id for o in state.working_orders()] == ["tf-1-1-b1"]
    return state


def _limit(cid: str, side: Side, purpose: OrderPurpose, base: str, price: str) -> PlaceOrder:
    return PlaceOrder(cid, 1, side, OrderType.LIMIT, purpose, base_amount=D(base), price=D(price))


def test_a_filled_base_order_places_the_ladder_and_exits_for_what_it_received() -> None:
    state = _bought()
    told = replay(MANAGER, state, [BASE_FILLED], BTC_USD, FEES)
    # safety: 50,000 x 0.98 = 49,000, 20 / 49,000 = 0.000408163… -> 0.00040816; take
    # profit: the average 98.814225 / 0.0019762845 = 50,000 exactly, +2 % = 51,000, for
    # the holding rounded down to the increment (0.0000000045 BTC of dust); the stop at
    # 47,500 for the same amount
    assert told.intents == [
        _limit("tf-1-1-s2", Side.BUY, OrderPurpose.SAFETY, "0.00040816", "49000.00"),
        _limit("tf-1-1-tp3", Side.SELL, OrderPurpose.TAKE_PROFIT, "0.00197628", "51000.00"),
        PlaceOrder("tf-1-1-st4", 1, Side.SELL, OrderType.STOP, OrderPurpose.STOP,
                   base_amount=D("0.00197628"), trigger_price=D("47500.00")),
    ]  # fmt: skip
    assert (told.told, told.problems) == (["tf-1-1-b1"], [])
    [deal] = state.deals
    assert (deal.base_amount, deal.bought_quote, deal.buy_fees, deal.base_price) == (
        D("0.0019762845"), D("98.814225"), D("1.1857707"), D(50000),
    )  # fmt: skip


def test_a_buy_cancelled_part_filled_counts_what_it_bought() -> None:
    state = _bought()
    replay(MANAGER, state, [BASE_FILLED], BTC_USD, FEES)
    # the safety buy got 0.0002 at 49,000 (9.8 USD, maker fee 0.0588), then was cancelled
    part = _record("tf-1-1-s2", Side.BUY, OrderStatus.CANCELLED, "0.0002", "9.8", "0.0588")
    told = replay(MANAGER, state, [part], BTC_USD, FEES)
    assert (told.told, told.problems) == (["tf-1-1-s2"], [])
    [deal] = state.deals
    # holds 0.0021762845; average (98.814225 + 9.8) / 0.0021762845 = 49909.89…
    assert (deal.base_amount, deal.safety_orders_filled) == (D("0.0021762845"), 1)
    tp = next(i for i in told.intents if isinstance(i, PlaceOrder))
    assert (tp.purpose, tp.base_amount) == (OrderPurpose.TAKE_PROFIT, D("0.00217628"))


def test_an_order_ended_with_nothing_done_is_a_rejection() -> None:
    state = _bought()
    replay(MANAGER, state, [BASE_FILLED], BTC_USD, FEES)
    refused = _record("tf-1-1-s2", Side.BUY, OrderStatus.REJECTED)
    told = replay(MANAGER, state, [refused], BTC_USD, FEES)
    assert (told.intents, told.told, told.problems) == ([], ["tf-1-1-s2"], [])
    assert [o.client_order_id for o in state.working_orders()] == ["tf-1-1-tp3", "tf-1-1-st4"]


def test_orders_still_working_are_not_told() -> None:
    state = _bought()
    waiting = [
        _record("tf-1-1-b1", Side.BUY, status)
        for status in (OrderStatus.INTENT, OrderStatus.SENT, OrderStatus.OPEN)
    ] + [_record("tf-1-1-b1", Side.BUY, OrderStatus.PARTLY_FILLED, "0.001", "50", "0.6")]
    told = replay(MANAGER, state, waiting, BTC_USD, FEES)
    assert (told.intents, told.told, told.problems) == ([], [], [])
    assert state.deals[0].base_amount == 0


def test_a_sell_ended_part_filled_is_reported_not_guessed() -> None:
    state = _bought()
    replay(MANAGER, state, [BASE_FILLED], BTC_USD, FEES)
    part = _record("tf-1-1-tp3", Side.SELL, OrderStatus.EXPIRED, "0.001", "51", "0.306", at=200)
    later = _record("tf-1-1-s2", Side.BUY, OrderStatus.FILLED, "0.00040816", "19.99984",
                    "0.11999904", at=300)  # fmt: skip
    told = replay(MANAGER, state, [later, part], BTC_USD, FEES)
    assert told.problems == [
        "sell tf-1-1-tp3 ended expired with 0.001 executed: a deal that sold part of its holding"
    ]
    assert (told.intents, told.told) == ([], [])  # the later fill waits too
    assert state.deals[0].base_amount == D("0.0019762845")


def test_a_fill_that_beat_a_cancel_is_reported() -> None:
    state = _bought()
    replay(MANAGER, state, [BASE_FILLED], BTC_USD, FEES)
    # the take profit fills (0.00197628 x 51,000 = 100.79028, maker fee 0.60474168): the
    # deal closes and cancels its safety buy, which turns out to have filled meanwhile
    sold = _record("tf-1-1-tp3", Side.SELL, OrderStatus.FILLED, "0.00197628", "100.79028",
                   "0.60474168", at=200)  # fmt: skip
    beat = _record("tf-1-1-s2", Side.BUY, OrderStatus.FILLED, "0.00040816", "19.99984",
                   "0.11999904", at=210)  # fmt: skip
    told = replay(MANAGER, state, [beat, sold], BTC_USD, FEES)
    assert told.told == ["tf-1-1-tp3"]
    assert told.problems == ["order tf-1-1-s2 executed 0.00040816 after the bot had cancelled it"]
    [closed] = state.take_closed()
    # 100.79028 - 0.60474168 - (98.814225 + 1.1857707) = 0.18554262; dust 0.0000000045
    assert (closed.realized_pnl, closed.base_amount) == (D("0.18554262"), D("0.0000000045"))


async def test_a_stored_live_order_reads_as_its_record(live: Live) -> None:
    """The record of a market buy placed on the fake exchange through ``LiveOrders``."""
    order_id = live.intend(market_buy("100.00"))
    await live.broker().place(order_id, LIVE_BTC_USD)
    order, fills, _events = live.stored(order_id)
    [fill] = fills
    record = OrderRecord.of(order, int(fill.time.timestamp()))
    assert record == OrderRecord(
        "tf-1-1-b1", Side.BUY, OrderStatus.FILLED, D("0.0019762845"), D("98.814225"),
        D("1.1857707"), int(fill.time.timestamp()),
    )  # fmt: skip
    assert record.as_fill().price == D(50000)
    unfilled = OrderRecord.of(order, None)
    assert unfilled.ended_at == order.updated_at.timestamp()
