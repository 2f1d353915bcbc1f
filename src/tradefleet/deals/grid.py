"""The grid manager: buy at each level below the price, sell one level up, repeat.

``levels`` prices run from ``lower_price`` to ``upper_price`` inclusive, in equal steps
(arithmetic) or equal ratios (geometric), rounded to the nearest price increment. Each
level but the top one is worked by at most one deal at a time (``grid_level`` = the
level's index; a new deal, with its own seq, per buy cycle):

* a level without a deal whose price is strictly below the candle's close gets a LIMIT
  buy of ``quote_per_level / price`` base (rounded down). On the first candle this arms
  every level below the price; later it re-arms levels freed by a refused buy or never
  used yet (above the starting price) once the price is above them;
* when the buy at level i fills, a LIMIT sell of that base rests at level i + 1;
* when that sell fills the deal closes (close reason GRID) and a new buy is placed at
  level i, which the fill price is above by construction.

Levels are armed from the highest down, and one that would take the bot's committed
quote (see ``book``) past the budget less its realised losses is skipped. The levels
are fixed when the grid starts and kept in ``BotState.grid``, so editing the settings
of a running grid does not move the orders it already has.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

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
)
from tradefleet.money import round_down, round_nearest, to_decimal

from .book import (
    Step,
    close,
    discard,
    draft,
    fits_spendable,
    limit_buy_cost,
    open_deal,
    place,
    record_buy,
    sellable,
    take_order,
)
from .settings import GridSettings, GridSpacing
from .state import BotState, DealState, GridState


def grid_levels(settings: GridSettings, product: ProductSpec) -> list[Decimal]:
    """The grid's level prices, lowest first, both bounds included."""
    lower, upper, count = settings.lower_price, settings.upper_price, settings.levels
    if count < 2 or not 0 < lower < upper:
        raise ValueError("a grid needs 0 < lower_price < upper_price and at least 2 levels")
    steps = count - 1
    if settings.spacing is GridSpacing.ARITHMETIC:
        width = (upper - lower) / steps
        raw = [lower + width * i for i in range(count)]
    else:
        ratio = upper / lower
        raw = [lower * ratio ** (Decimal(i) / steps) for i in range(count)]
    raw[0], raw[-1] = lower, upper
    levels = [round_nearest(price, product.price_increment) for price in raw]
    if any(a >= b for a, b in pairwise(levels)) or levels[0] <= 0:
        raise ValueError("grid levels closer together than the price increment")
    return levels


def grid_on_candle(
    settings: GridSettings,
    state: BotState,
    candle: Candle,
    product: ProductSpec,
    fees: FeeSchedule,
) -> list[OrderIntent]:
    """Start the grid on its first candle; arm free levels below the close. While entries
    are paused (a stopped bot) nothing is armed and buys still resting are withdrawn."""
    step = Step(state, product, fees)
    if state.halted:
        return step.intents
    if state.entries_paused:
        for deal in [d for d in state.deals if not d.bought_base]:
            discard(step, deal)
        return step.intents
    grid = state.grid
    if grid is None:
        levels = grid_levels(settings, product)
        grid = state.grid = GridState(levels=levels, cycles=[0] * len(levels))
    close_price = to_decimal(candle.close)
    worked = {deal.grid_level for deal in state.deals}
    for level in reversed(range(len(grid.levels) - 1)):
        if level not in worked and grid.levels[level] < close_price:
            _arm(settings, step, grid, level, candle.time)
    return step.intents


def level_buy(settings: GridSettings, product: ProductSpec, price: Decimal) -> PlaceOrder:
    """The limit buy of one level: ``quote_per_level`` worth of base, rounded down."""
    base = round_down(settings.quote_per_level / price, product.base_increment)
    return draft(Side.BUY, OrderType.LIMIT, OrderPurpose.GRID_BUY, base=base, price=price)


def refused_buy(settings: GridSettings, product: ProductSpec) -> tuple[Decimal, str] | None:
    """The first level (from the top) whose buy the product refuses, and why; None when
    every level can buy. Such a level is skipped silently while the grid runs, so a bot
    is checked with this before it is stored. ValueError from ``grid_levels``."""
    levels = grid_levels(settings, product)
    for price in reversed(levels[:-1]):
        reason = validate_order(level_buy(settings, product, price), product)
        if reason is not None:
            return price, reason
    return None


def _arm(settings: GridSettings, step: Step, grid: GridState, level: int, time: int) -> None:
    """A new deal with a limit buy at ``level``, if valid and within the budget (and the
    bot is not halted)."""
    if step.state.halted:
        return
    price = grid.levels[level]
    buy = level_buy(settings, step.product, price)
    if buy.base_amount is None or validate_order(buy, step.product) is not None:
        return
    cost = limit_buy_cost(price, buy.base_amount, step.fees)
    if not fits_spendable(step, settings.budget, False, cost):
        return
    grid.cycles[level] += 1
    deal = open_deal(step.state, time, grid_level=level)
    place(step, deal, buy, prefix=f"{level}c{grid.cycles[level]}n")


def _place_sell(step: Step, grid: GridState, deal: DealState) -> None:
    level = _level(deal)
    sell = draft(
        Side.SELL,
        OrderType.LIMIT,
        OrderPurpose.GRID_SELL,
        base=sellable(deal, step.product),
        price=grid.levels[level + 1],
    )
    place(step, deal, sell, prefix=f"{level + 1}c{grid.cycles[level]}n")


def _level(deal: DealState) -> int:
    if deal.grid_level is None:
        raise ValueError(f"deal {deal.seq} is not a grid deal")
    return deal.grid_level


def _grid(state: BotState) -> GridState:
    if state.grid is None:
        raise ValueError(f"bot {state.bot_id} has no grid yet")
    return state.grid


def grid_on_fill(
    settings: GridSettings,
    state: BotState,
    fill: Fill,
    product: ProductSpec,
    fees: FeeSchedule,
) -> list[OrderIntent]:
    """A grid buy fill puts its sell one level up; a sell fill closes the deal and re-buys."""
    deal, order = take_order(state, fill)
    step = Step(state, product, fees)
    grid = _grid(state)
    level = _level(deal)
    if order.purpose is OrderPurpose.GRID_BUY:
        record_buy(deal, fill)
        grid.filled.add(level)
        _place_sell(step, grid, deal)
    elif order.purpose is OrderPurpose.GRID_SELL:
        close(step, deal, fill, CloseReason.GRID)
        grid.filled.discard(level)
        if fill.price > grid.levels[level] and not state.entries_paused:
            _arm(settings, step, grid, level, fill.time)
    elif order.purpose is OrderPurpose.MANUAL_CLOSE:
        close(step, deal, fill, CloseReason.MANUAL)
        grid.filled.discard(level)
    else:
        raise ValueError(f"a grid deal cannot fill a {order.purpose} order")
    return step.intents


def grid_on_reject(
    state: BotState, client_order_id: str, product: ProductSpec, fees: FeeSchedule
) -> list[OrderIntent]:
    """Forget a refused order: a refused buy frees its level (re-armed on a later candle);
    a refused manual close puts the deal's grid sell back."""
    deal, order = state.find_order(client_order_id)
    del deal.open_orders[client_order_id]
    step = Step(state, product, fees)
    if order.purpose is OrderPurpose.GRID_BUY and not deal.bought_base:
        discard(step, deal)
    elif order.purpose is OrderPurpose.MANUAL_CLOSE:
        _place_sell(step, _grid(state), deal)
    return step.intents


def grid_rearm(state: BotState, product: ProductSpec, fees: FeeSchedule) -> list[OrderIntent]:
    """A halted grid is started again: each deal holding base gets its sell one level
    up back; free levels are armed again by the next candle (``grid_on_candle``)."""
    state.halted = False
    step = Step(state, product, fees)
    for deal in state.deals:
        if deal.base_amount > 0 and not deal.open_orders:
            _place_sell(step, _grid(state), deal)
    return step.intents
