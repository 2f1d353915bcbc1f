"""The signal deal manager: opens, grows and closes deals from a strategy's signals.

Pure: it reads and updates a ``BotState`` and returns order intents. The engine, the
paper broker and the backtester (through ``deals.simulate``) call it in this order on
every closed candle: the candle's fills first (``on_fill``, each as the broker reports
it), then ``on_candle``. A ``Fill`` is the complete execution of an order (a broker
that sees partial executions reports the order once it is done).

``on_candle`` handles each settled open deal (it holds base and has no market order in
flight): on a SELL signal with ``signal_exit``, a deal whose net profit at the close
(after its buy fees and the sell's taker fee) is at least ``exit_min_profit_pct`` % of its
cost is sold at market (its resting orders cancelled);
otherwise its trailing take profit follows the candle's high (see ``exits``). Then, on
a BUY signal with ``entry_on_signal``, at most one buy: a market add of
``add_order_quote`` to the newest deal (when adds are on, it is settled, close < its
average if ``adds_require_below_average``, and the deal cap and budget allow), else a
new deal with a market base order of ``base_order_quote`` (when fewer than
``max_active_deals`` are open, the decision time ``candle.time + candle_seconds`` (the
candle's close) is at least ``cooldown_seconds`` after ``last_deal_closed_at`` and the
budget allows). Quote sizes are rounded down to the quote increment; the budget check
counts committed quote against the budget less realised losses (see ``book``).
"""

from __future__ import annotations

from decimal import Decimal

from tradefleet.brokers.fill_model import validate_order
from tradefleet.domain import (
    Candle,
    CloseReason,
    FeeSchedule,
    Fill,
    OrderIntent,
    OrderPurpose,
    OrderType,
    PlaceOrder,
    ProductSpec,
    Side,
    Signal,
    SignalAction,
)
from tradefleet.money import ZERO, round_down, to_decimal

from .book import (
    Step,
    close,
    committed,
    discard,
    draft,
    fits_spendable,
    has_working,
    open_deal,
    place,
    record_buy,
    sell_all,
    sellable,
    take_order,
)
from .exits import protect, trail
from .safety import place_safety_orders, position_cap
from .settings import DealSettings
from .state import BotState, DealState

_BUY_COUNTERS = {
    OrderPurpose.BASE: None,
    OrderPurpose.SAFETY: "safety_orders_filled",
    OrderPurpose.ADD: "adds_filled",
}


def on_candle(
    settings: DealSettings,
    state: BotState,
    candle: Candle,
    signal: Signal,
    product: ProductSpec,
    *,
    fees: FeeSchedule,
) -> list[OrderIntent]:
    """React to a closed candle and the strategy's signal on it (a halted bot: never)."""
    step = Step(state, product, fees)
    if state.halted:
        return step.intents
    for deal in list(state.deals):
        if not _settled(deal):
            continue
        if signal.action is SignalAction.SELL and _exit_allowed(settings, step, deal, candle):
            sell_all(step, deal, OrderPurpose.EXIT)
        else:
            trail(settings, step, deal, candle)
    buying = signal.action is SignalAction.BUY and settings.entry_on_signal
    if buying and not _add(settings, step, candle):
        _open(settings, step, candle)
    return step.intents


def _settled(deal: DealState) -> bool:
    """Holds base and has no market order in flight, so its numbers are final."""
    held = deal.base_amount > 0 and deal.average_entry_price is not None
    return held and not has_working(deal, OrderType.MARKET)


def _exit_allowed(settings: DealSettings, step: Step, deal: DealState, candle: Candle) -> bool:
    """The deal's profit if sold at this close, net of its buy fees and the taker fee of
    the sell, is at least ``exit_min_profit_pct`` of what it cost (-100 = any price)."""
    if not settings.signal_exit or deal.average_entry_price is None:
        return False
    cost = deal.bought_quote + deal.buy_fees
    proceeds = to_decimal(candle.close) * sellable(deal, step.product) * (1 - step.fees.taker)
    return proceeds - cost >= cost * settings.exit_min_profit_pct / 100


def _fits(settings: DealSettings, step: Step, deal_committed: Decimal, quote: Decimal) -> bool:
    """``quote`` more stays within the deal cap and the bot's budget."""
    if deal_committed + quote > position_cap(settings):
        return False
    return fits_spendable(step, settings.budget, settings.compound_profits, quote)


def _add(settings: DealSettings, step: Step, candle: Candle) -> bool:
    """A signal add to the newest deal, if every rule allows it."""
    if not step.state.deals or settings.add_order_quote <= 0:
        return False
    deal = step.state.deals[-1]
    avg = deal.average_entry_price
    if not _settled(deal) or avg is None:
        return False
    if settings.adds_require_below_average and not to_decimal(candle.close) < avg:
        return False
    quote = round_down(settings.add_order_quote, step.product.quote_increment)
    if not _fits(settings, step, committed(deal, step.fees), quote):
        return False
    buy = draft(Side.BUY, OrderType.MARKET, OrderPurpose.ADD, quote=quote)
    return place(step, deal, buy) is not None


def _open(settings: DealSettings, step: Step, candle: Candle) -> None:
    """A new deal with a market base order, if every rule allows it."""
    state = step.state
    if len(state.deals) >= settings.max_active_deals:
        return
    last = state.last_deal_closed_at
    decided_at = candle.time + settings.candle_seconds  # the close of the deciding candle
    if last is not None and decided_at - last < settings.cooldown_seconds:
        return
    quote = round_down(settings.base_order_quote, step.product.quote_increment)
    if not _fits(settings, step, ZERO, quote):
        return
    buy = draft(Side.BUY, OrderType.MARKET, OrderPurpose.BASE, quote=quote)
    if validate_order(buy, step.product) is not None:
        return
    place(step, open_deal(state, candle.time), buy)


def on_fill(
    settings: DealSettings,
    state: BotState,
    fill: Fill,
    product: ProductSpec,
    fees: FeeSchedule,
) -> list[OrderIntent]:
    """Account a fill: grow the deal (and re-place its exits) or close it."""
    deal, order = take_order(state, fill)
    step = Step(state, product, fees)
    if order.side is Side.SELL:
        close(step, deal, fill, _close_reason(order, deal))
        return step.intents
    if order.purpose not in _BUY_COUNTERS:
        raise ValueError(f"a signal deal cannot fill a {order.purpose} order")
    record_buy(deal, fill)
    if order.order_type is OrderType.LIMIT:
        deal.limit_buy_filled_at = fill.time
    counter = _BUY_COUNTERS[order.purpose]
    if counter is None:
        place_safety_orders(settings, step, deal)
    else:
        setattr(deal, counter, getattr(deal, counter) + 1)
    deal.trailing_active = False
    deal.trailing_peak = None
    protect(settings, step, deal)
    return step.intents


def _close_reason(order: PlaceOrder, deal: DealState) -> CloseReason:
    if order.purpose is OrderPurpose.TAKE_PROFIT:
        return CloseReason.TAKE_PROFIT
    if order.purpose is OrderPurpose.STOP:
        return CloseReason.TRAILING if deal.trailing_active else CloseReason.STOP_LOSS
    if order.purpose is OrderPurpose.EXIT:
        return CloseReason.SIGNAL
    if order.purpose is OrderPurpose.MANUAL_CLOSE:
        return CloseReason.MANUAL
    raise ValueError(f"a signal deal cannot close on a {order.purpose} order")


def on_reject(
    settings: DealSettings,
    state: BotState,
    client_order_id: str,
    product: ProductSpec,
    fees: FeeSchedule,
) -> list[OrderIntent]:
    """The broker refused an order: forget it. A refused base order drops its empty deal;
    a refused exit sell puts the deal's take profit and stop back."""
    deal, order = state.find_order(client_order_id)
    del deal.open_orders[client_order_id]
    step = Step(state, product, fees)
    if order.purpose is OrderPurpose.BASE and not deal.bought_base:
        discard(step, deal)
    elif order.purpose in (OrderPurpose.EXIT, OrderPurpose.MANUAL_CLOSE):
        protect(settings, step, deal)
    return step.intents


def rearm(
    settings: DealSettings, state: BotState, product: ProductSpec, fees: FeeSchedule
) -> list[OrderIntent]:
    """A halted bot is started again: each settled deal gets back its unfilled safety
    orders (safety orders filled so far + 1 on, within the deal cap and the budget as
    at any placement) and then its take profit and stop, as after a fill. A deal whose
    emergency sell is still in flight keeps only that sell."""
    state.halted = False
    step = Step(state, product, fees)
    for deal in state.deals:
        if not _settled(deal) or deal.open_orders:
            continue
        if deal.base_price is not None:
            place_safety_orders(settings, step, deal, first=deal.safety_orders_filled)
        protect(settings, step, deal)
    return step.intents
