"""Bookkeeping both deal managers share: client order ids, placing and cancelling orders,
recording fills, and how much of the budget a bot has committed.

Client order ids are ``tf-{bot_id}-{deal_seq}-{kind}{n}``: kind ``b`` base, ``s`` safety,
``a`` signal add, ``tp`` take profit, ``st`` stop, ``x`` signal exit, ``m`` manual close,
with n the deal's ``order_seq`` after the placement (1, 2, …), so a re-placed take
profit or stop always gets a fresh id; grid orders are ``gb{level}c{cycle}n{n}`` /
``gs{level}c{cycle}n{n}`` (the order's price level and the buy level's cycle). The same
events give the same ids, which is what makes a resend safe.

"Committed" quote = what an open deal's buys cost (gross + fees) plus what its working
buy orders reserve: a market buy its ``quote_amount`` (the fill model never spends
more), a limit buy ``price x base`` plus the maker fee at the current fee schedule.

A bot may commit its budget less its realised losses (``spendable``): with R the sum
of its closed deals' realised PnL, ``budget + min(R, 0)``, or ``budget + R`` when it
compounds its profits. A buy is placed only while committed + its cost stays within
that, so the net quote a bot has paid out (buys + fees - sell proceeds) = committed -
R never exceeds its budget: a bot never loses more than its budget.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal

from tradefleet.brokers.fill_model import validate_order
from tradefleet.domain import (
    CancelOrder,
    CloseReason,
    FeeSchedule,
    Fill,
    OrderIntent,
    OrderPurpose,
    OrderType,
    PlaceOrder,
    ProductSpec,
    Side,
)
from tradefleet.money import ZERO, canonical, fee_for, quantize_amount, round_down

from .state import CLOSED, BotState, DealState

KINDS: dict[OrderPurpose, str] = {
    OrderPurpose.BASE: "b",
    OrderPurpose.SAFETY: "s",
    OrderPurpose.ADD: "a",
    OrderPurpose.TAKE_PROFIT: "tp",
    OrderPurpose.STOP: "st",
    OrderPurpose.EXIT: "x",
    OrderPurpose.MANUAL_CLOSE: "m",
    OrderPurpose.GRID_BUY: "gb",
    OrderPurpose.GRID_SELL: "gs",
}
MAX_CLIENT_ORDER_ID = 64  # Order.client_order_id is String(64)


@dataclass(slots=True)
class Step:
    """One manager call's context: the state it changes, the market's terms, its output."""

    state: BotState
    product: ProductSpec
    fees: FeeSchedule
    intents: list[OrderIntent] = field(default_factory=list)


def client_order_id(bot_id: int, deal_seq: int, purpose: OrderPurpose, number: str) -> str:
    """The deterministic id of a deal's order (see the module docstring)."""
    cid = f"tf-{bot_id}-{deal_seq}-{KINDS[purpose]}{number}"
    if len(cid) > MAX_CLIENT_ORDER_ID:
        raise ValueError(f"client order id longer than {MAX_CLIENT_ORDER_ID}: {cid}")
    return cid


def open_deal(state: BotState, opened_at: int, grid_level: int | None = None) -> DealState:
    """A new, empty deal with the bot's next sequence number."""
    deal = DealState(seq=state.next_deal_seq, opened_at=opened_at, grid_level=grid_level)
    state.next_deal_seq += 1
    state.deals.append(deal)
    return deal


def place(step: Step, deal: DealState, draft: PlaceOrder, prefix: str = "") -> PlaceOrder | None:
    """Give ``draft`` its id and place it, unless the exchange would refuse it (``None``).

    ``prefix`` goes before the deal's order counter in the id (grid orders). A halted
    bot places nothing but the manual close sells of an emergency stop (``halt``).
    """
    if step.state.halted and draft.purpose is not OrderPurpose.MANUAL_CLOSE:
        return None
    seq = deal.order_seq + 1
    cid = client_order_id(step.state.bot_id, deal.seq, draft.purpose, f"{prefix}{seq}")
    order = PlaceOrder(
        client_order_id=cid,
        deal_seq=deal.seq,
        side=draft.side,
        order_type=draft.order_type,
        purpose=draft.purpose,
        base_amount=draft.base_amount,
        quote_amount=draft.quote_amount,
        price=draft.price,
        trigger_price=draft.trigger_price,
    )
    if validate_order(order, step.product) is not None:
        return None
    deal.order_seq = seq
    deal.open_orders[cid] = order
    step.intents.append(order)
    return order


def draft(
    side: Side,
    order_type: OrderType,
    purpose: OrderPurpose,
    *,
    base: Decimal | None = None,
    quote: Decimal | None = None,
    price: Decimal | None = None,
    trigger: Decimal | None = None,
) -> PlaceOrder:
    """An order without its id yet (``place`` assigns it)."""
    return PlaceOrder("", 0, side, order_type, purpose, base, quote, price, trigger)


def cancel(step: Step, deal: DealState, purposes: Collection[OrderPurpose] | None = None) -> None:
    """Cancel the deal's working orders of ``purposes`` (all of them when ``None``)."""
    for cid, order in list(deal.open_orders.items()):
        if purposes is None or order.purpose in purposes:
            del deal.open_orders[cid]
            step.intents.append(CancelOrder(cid))


def has_working(deal: DealState, order_type: OrderType, side: Side | None = None) -> bool:
    return any(
        o.order_type is order_type and (side is None or o.side is side)
        for o in deal.open_orders.values()
    )


def take_order(state: BotState, fill: Fill) -> tuple[DealState, PlaceOrder]:
    """The deal and order ``fill`` executes; the order stops working (fills are complete)."""
    deal, order = state.find_order(fill.client_order_id)
    if fill.side is not order.side:
        raise ValueError(f"fill side {fill.side} does not match order {order.client_order_id}")
    del deal.open_orders[order.client_order_id]
    return deal, order


def limit_buy_cost(price: Decimal, base: Decimal, fees: FeeSchedule) -> Decimal:
    """What a limit buy costs when it fills: gross + maker fee."""
    gross = quantize_amount(price * base)
    return gross + fee_for(gross, fees.maker)


def reserved(order: PlaceOrder, fees: FeeSchedule) -> Decimal:
    """Quote a working order holds back from the budget (sells hold none)."""
    if order.side is Side.SELL:
        return ZERO
    if order.order_type is OrderType.MARKET:
        return order.quote_amount or ZERO
    if order.price is None or order.base_amount is None:
        raise ValueError(f"limit buy {order.client_order_id} lacks price or base")
    return limit_buy_cost(order.price, order.base_amount, fees)


def committed(deal: DealState, fees: FeeSchedule) -> Decimal:
    """Quote the deal has spent (gross + fees) plus what its working buys reserve."""
    pending = sum((reserved(o, fees) for o in deal.open_orders.values()), ZERO)
    return deal.bought_quote + deal.buy_fees + pending


def total_committed(state: BotState, fees: FeeSchedule) -> Decimal:
    return sum((committed(deal, fees) for deal in state.deals), ZERO)


def allowance(budget: Decimal, realized: Decimal, compound_profits: bool = False) -> Decimal:
    """What a bot with ``realized`` PnL on record may commit: its budget less its realised
    losses (plus its realised profits when it compounds them), never below zero."""
    return max(ZERO, budget + (realized if compound_profits or realized < 0 else ZERO))


def spendable(budget: Decimal, state: BotState, compound_profits: bool = False) -> Decimal:
    """``allowance`` of the bot's realised PnL so far."""
    return allowance(budget, state.realized_pnl, compound_profits)


BUDGET_EXHAUSTED = "budget exhausted"


def budget_exhausted_note(budget: Decimal, state: BotState) -> str:
    loss = canonical(-state.realized_pnl)
    return f"{BUDGET_EXHAUSTED}: realised loss {loss} of budget {canonical(budget)}"


def fits_spendable(step: Step, budget: Decimal, compound_profits: bool, quote: Decimal) -> bool:
    """``quote`` more stays within what the bot may commit. When only its realised
    losses stand in the way, the refusal is noted for the user (``BotState.notes``)."""
    total = total_committed(step.state, step.fees) + quote
    if total <= spendable(budget, step.state, compound_profits):
        return True
    if total <= budget:
        note = budget_exhausted_note(budget, step.state)
        if note not in step.state.notes:
            step.state.notes.append(note)
    return False


def record_buy(deal: DealState, fill: Fill) -> None:
    """Add a buy fill; the average entry is gross (fees excluded), to 18 places."""
    deal.base_amount += fill.base_amount
    deal.bought_base += fill.base_amount
    deal.bought_quote += fill.quote_amount
    deal.buy_fees += fill.fee
    deal.average_entry_price = quantize_amount(deal.bought_quote / deal.bought_base)
    if deal.base_price is None:
        deal.base_price = fill.price
        deal.opened_at = fill.time


def close(step: Step, deal: DealState, fill: Fill, reason: CloseReason) -> None:
    """Record the selling fill, realise the PnL, cancel what still works, retire the deal.

    What the sell leaves is dust (below one base increment), kept in ``base_amount``; its
    cost stays in the deal's (so in its realised PnL). A sell that leaves more is refused:
    the deal's books would no longer match what it holds."""
    if fill.base_amount > deal.base_amount:
        raise ValueError(f"deal {deal.seq} sold {fill.base_amount} but held {deal.base_amount}")
    if deal.base_amount - fill.base_amount >= step.product.base_increment:
        raise ValueError(
            f"deal {deal.seq} sold {fill.base_amount} of {deal.base_amount}: more than dust left"
        )
    deal.base_amount -= fill.base_amount
    deal.sold_base += fill.base_amount
    deal.sold_quote += fill.quote_amount
    deal.sell_fees += fill.fee
    deal.realized_pnl = deal.sold_quote - deal.sell_fees - (deal.bought_quote + deal.buy_fees)
    step.state.realized_pnl += deal.realized_pnl
    deal.status = CLOSED
    deal.closed_at = fill.time
    deal.close_reason = reason
    cancel(step, deal)
    state = step.state
    state.deals.remove(deal)
    state.closed.append(deal)
    last = state.last_deal_closed_at
    state.last_deal_closed_at = fill.time if last is None else max(last, fill.time)


def discard(step: Step, deal: DealState) -> None:
    """Drop a deal that never bought anything, cancelling what it still has working."""
    if deal.bought_base:
        raise ValueError(f"deal {deal.seq} holds fills and cannot be discarded")
    cancel(step, deal)
    step.state.deals.remove(deal)
    step.state.discarded.append(deal)


def sellable(deal: DealState, product: ProductSpec) -> Decimal:
    """What a deal's sell may ask for: its holding rounded down to the base increment.
    A live buy by quote amount receives base off the increment (what the exchange
    fills); the remainder below one increment is dust: the deal keeps it in
    ``base_amount`` when it closes, so the books still show it (``stats``). On paper and
    in backtests every buy is on the increment and nothing is ever dust."""
    return round_down(deal.base_amount, product.base_increment)


def sell_all(step: Step, deal: DealState, purpose: OrderPurpose) -> bool:
    """Cancel the deal's working orders and sell all it can at market (``sellable``).

    Nothing changes (``False``) when the exchange would refuse the sell, so a deal never
    loses its resting exits for a sell that cannot happen.
    """
    sell = draft(Side.SELL, OrderType.MARKET, purpose, base=sellable(deal, step.product))
    if validate_order(sell, step.product) is not None:
        return False
    cancel(step, deal)
    place(step, deal, sell)
    return True


def fit_to_fees(
    state: BotState, budget: Decimal, compound_profits: bool, product: ProductSpec,
    fees: FeeSchedule,
) -> list[OrderIntent]:  # fmt: skip
    """Keep the budget rule when the fee schedule changes: a resting limit buy holds its
    price x base + the maker fee *at the current fees*, so a higher maker fee can take
    what the bot has committed past what it may commit. Then its resting limit buys are
    cancelled, the newest first, until it fits again (an empty grid deal is dropped).
    Runs only when ``fees`` differ from those of the previous call; at constant fees
    (every backtest) it never cancels anything, since every placement was checked."""
    step = Step(state, product, fees)
    if state.fees_seen == fees:
        return step.intents
    state.fees_seen = fees
    room = spendable(budget, state, compound_profits)
    resting = [
        (deal, cid)
        for deal in state.deals
        for cid, order in deal.open_orders.items()
        if order.side is Side.BUY and order.order_type is OrderType.LIMIT
    ]
    for deal, cid in reversed(resting):
        if total_committed(state, fees) <= room:
            break
        del deal.open_orders[cid]
        step.intents.append(CancelOrder(cid))
        state.notes.append(
            f"order {cid} cancelled: at the current fees the resting buys exceed what the "
            f"bot may commit ({canonical(room)} of budget {canonical(budget)})"
        )
        if not deal.bought_base and not deal.open_orders:
            discard(step, deal)
    return step.intents


def close_deal(
    state: BotState, deal_seq: int, product: ProductSpec, fees: FeeSchedule
) -> list[OrderIntent]:
    """The user closes a deal: cancel its working orders and sell what it holds at market.

    A deal that holds nothing yet is discarded (its resting buys cancelled); asking again
    while the sell is in flight changes nothing. Refused (``ValueError``) for an unknown
    or closed deal, while a market buy of the deal is in flight (it could still fill),
    and when the holding is below the exchange's minimum order size.
    """
    deal = state.deal(deal_seq)
    if deal is None:
        raise ValueError(f"bot {state.bot_id} has no open deal {deal_seq}")
    step = Step(state, product, fees)
    if has_working(deal, OrderType.MARKET, Side.SELL):
        return step.intents
    if has_working(deal, OrderType.MARKET, Side.BUY):
        raise ValueError(f"deal {deal_seq} has a market buy in flight; close it after it fills")
    if deal.base_amount <= 0:
        discard(step, deal)
    elif not sell_all(step, deal, OrderPurpose.MANUAL_CLOSE):
        raise ValueError(f"deal {deal_seq} holds {deal.base_amount}, below the minimum order")
    return step.intents


def halt(
    state: BotState, product: ProductSpec, fees: FeeSchedule, *, sell: bool
) -> tuple[list[OrderIntent], list[str]]:
    """An emergency stop of one bot: (intents, what could not be done).

    Every working order of every open deal is cancelled, market orders still in flight
    included; a deal that bought nothing yet is dropped. With ``sell`` each deal that
    holds base sells it all at market (a manual close; a deal whose market sell is
    already in flight keeps it), unless the holding is below the minimum order size,
    which is reported. From then on the bot places nothing else (``place``) until
    ``rearm``."""
    step = Step(state, product, fees)
    state.halted = True
    problems: list[str] = []
    for deal in list(state.deals):
        if sell and has_working(deal, OrderType.MARKET, Side.SELL):
            continue
        cancel(step, deal)
        if not deal.bought_base:
            discard(step, deal)
        elif sell and not sell_all(step, deal, OrderPurpose.MANUAL_CLOSE):
            problems.append(
                f"deal {deal.seq} holds {canonical(deal.base_amount)}, below the minimum "
                "order: not sold"
            )
    return step.intents, problems
