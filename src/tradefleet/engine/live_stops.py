"""Live stops: watched on live prices between candle closes, sold at market.

Coinbase has no trailing stop, and a resting take profit holds the deal's base, so a
deal's stop (stop loss, trailing take profit) is not an exchange order: it is stored
watched (``LiveOrders``) and the engine compares it with the product's last traded
price every few seconds. When the price is at or below the trigger:

1. every other order of the deal on the exchange (its take profit, its safety buys) is
   cancelled, and each cancel is confirmed by reading the order back;
2. if one of them executed meanwhile (the take profit filled first, a safety buy
   filled), nothing is sold now: the fill is told at once and the deal machine decides
   again (a closed deal needs no stop; a grown one gets a stop for what it now holds);
3. otherwise the stop is sent as a market sell of the deal's holding under its own
   client order id, and what came of it is told at once (``live_settle``).

The trigger is the price the exchange last traded at, seen when asked, not the
candle's low: a stop can sell later than the backtest's candle rule says (a wick
between two polls is missed) and its price is the market's then, not the trigger.
The trailing take profit's peak moves at candle closes, with the candle's high, as in
the backtest; only its trigger is watched between them.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from sqlalchemy import select

from tradefleet.db.models import Order
from tradefleet.db.session import transaction
from tradefleet.deals.state import DealState
from tradefleet.domain import OrderStatus, OrderType
from tradefleet.engine.live_step import LiveContext, LiveStepReport, cancelled_clean, live_settle
from tradefleet.engine.runtime import BotRuntime
from tradefleet.engine.threads import in_thread

ON_EXCHANGE = (OrderStatus.SENT.value, OrderStatus.OPEN.value, OrderStatus.PARTLY_FILLED.value)


def watched_stops(runtime: BotRuntime) -> list[tuple[DealState, str, Decimal]]:
    """(deal, client order id, trigger) of every stop the bot's deals hold."""
    return [
        (deal, order.client_order_id, order.trigger_price)
        for deal in runtime.state.deals
        for order in deal.open_orders.values()
        if order.order_type is OrderType.STOP and order.trigger_price is not None
    ]


async def watch(
    runtime: BotRuntime, price: Decimal, ctx: LiveContext, now: int
) -> LiveStepReport | None:
    """Trigger the bot's stops that ``price`` reached; the report of what followed, or
    None when none triggered."""
    reached = [(deal, cid) for deal, cid, trigger in watched_stops(runtime) if price <= trigger]
    if not reached or runtime.halted:
        return None
    statuses = await in_thread(lambda: _statuses(ctx, runtime))
    triggered = False
    for deal, client_order_id in reached:
        if statuses.get(client_order_id) != OrderStatus.WATCHED.value:
            continue  # already sent: its outcome is being settled
        if await _clear_the_deal(runtime, deal, client_order_id, statuses, ctx):
            stop_row = runtime.book.row_ids[client_order_id]
            await ctx.orders.place(stop_row, runtime.product)
        triggered = True
    if not triggered:
        return None
    return await live_settle(runtime, ctx, now)


async def _clear_the_deal(
    runtime: BotRuntime,
    deal: DealState,
    stop_id: str,
    statuses: dict[str, str],
    ctx: LiveContext,
) -> bool:
    """Cancel the deal's other exchange orders; False when one of them had executed."""
    clean = True
    for client_order_id in deal.open_orders:
        if client_order_id == stop_id or statuses.get(client_order_id) not in ON_EXCHANGE:
            continue
        row_id = runtime.book.row_ids[client_order_id]
        await ctx.orders.cancel(row_id, runtime.product)
        if not await in_thread(partial(cancelled_clean, ctx.sessions, row_id)):
            clean = False  # executed, or the cancel not confirmed: nothing is sold now
    return clean


def _statuses(ctx: LiveContext, runtime: BotRuntime) -> dict[str, str]:
    held = [order.client_order_id for order in runtime.state.working_orders()]
    with transaction(ctx.sessions) as session:
        rows = session.execute(
            select(Order.client_order_id, Order.status).where(Order.client_order_id.in_(held))
        ).all()
    return {row[0]: row[1] for row in rows}
