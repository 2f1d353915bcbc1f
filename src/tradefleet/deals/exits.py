"""A signal deal's protective exits: take profit, stop loss and the trailing take profit.

Without trailing, the take profit is a resting LIMIT sell of the whole holding at
avg x (1 + take_profit_pct %), re-placed whenever the holding changes. With trailing
(take profit and trailing deviation both > 0) nothing rests above the price: once a
candle's high reaches the activation price avg x (1 + take_profit_pct %) the deal
trails the highest high since (the peak), and its stop is the higher of the stop loss
and peak x (1 - trailing_deviation_pct %). Every stop is a STOP sell of the whole
holding; a moved stop is cancelled and placed again under a fresh id. Prices are
rounded to the nearest price increment, halves up.

A level a fill sets acts only on prices that come after that fill in the candle order
(market, stop, limit sell, limit buy): the take profit and stops a fill places work
from the next candle on, and the trailing check of a closed candle uses its high
unless a limit buy of the deal filled on that candle (the high came before it). On
the candle whose market buy filled at the open, the high came after the fill and does
count.
"""

from __future__ import annotations

from decimal import Decimal

from tradefleet.domain import Candle, OrderPurpose, OrderType, ProductSpec, Side
from tradefleet.money import round_nearest, to_decimal

from .book import Step, cancel, draft, place, sellable
from .settings import DealSettings
from .state import DealState

_HUNDRED = Decimal(100)
_EXITS = (OrderPurpose.TAKE_PROFIT, OrderPurpose.STOP)


def trailing_on(settings: DealSettings) -> bool:
    return settings.take_profit_pct > 0 and settings.trailing_deviation_pct > 0


def pct_price(value: Decimal, pct: Decimal, product: ProductSpec) -> Decimal:
    """``value`` moved by ``pct`` percent, on the price grid."""
    return round_nearest(value * (1 + pct / _HUNDRED), product.price_increment)


def stop_target(settings: DealSettings, deal: DealState, product: ProductSpec) -> Decimal | None:
    """The trigger the deal's stop should have now, or ``None`` for no stop."""
    candidates: list[Decimal] = []
    avg = deal.average_entry_price
    if settings.stop_loss_pct > 0 and avg is not None:
        candidates.append(pct_price(avg, -settings.stop_loss_pct, product))
    if deal.trailing_active and deal.trailing_peak is not None:
        candidates.append(pct_price(deal.trailing_peak, -settings.trailing_deviation_pct, product))
    return max(candidates, default=None)


def protect(settings: DealSettings, step: Step, deal: DealState) -> None:
    """(Re)place the deal's take profit and stop for what it holds now."""
    cancel(step, deal, _EXITS)
    avg = deal.average_entry_price
    if avg is None or sellable(deal, step.product) <= 0:
        return
    tp = settings.take_profit_pct
    deal.take_profit_price = pct_price(avg, tp, step.product) if tp > 0 else None
    if deal.take_profit_price is not None and not trailing_on(settings):
        sell = draft(
            Side.SELL,
            OrderType.LIMIT,
            OrderPurpose.TAKE_PROFIT,
            base=sellable(deal, step.product),
            price=deal.take_profit_price,
        )
        place(step, deal, sell)
    _place_stop(settings, step, deal)


def _place_stop(settings: DealSettings, step: Step, deal: DealState) -> None:
    deal.stop_price = stop_target(settings, deal, step.product)
    if deal.stop_price is None:
        return
    stop = draft(
        Side.SELL,
        OrderType.STOP,
        OrderPurpose.STOP,
        base=sellable(deal, step.product),
        trigger=deal.stop_price,
    )
    place(step, deal, stop)


def trail(settings: DealSettings, step: Step, deal: DealState, candle: Candle) -> None:
    """Follow the candle's high with a trailing take profit; move the stop if it changed."""
    activation = deal.take_profit_price
    if not trailing_on(settings) or activation is None:
        return
    if deal.limit_buy_filled_at == candle.time:
        return  # the high came before the limit buy that re-armed the trailing
    high = to_decimal(candle.high)
    if not deal.trailing_active:
        if high < activation:
            return
        deal.trailing_active = True
        deal.trailing_peak = high
    elif deal.trailing_peak is None or high > deal.trailing_peak:
        deal.trailing_peak = high
    if stop_target(settings, deal, step.product) != deal.stop_price:
        cancel(step, deal, (OrderPurpose.STOP,))
        _place_stop(settings, step, deal)
