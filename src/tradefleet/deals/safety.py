"""The safety (DCA) order ladder a signal deal places when its base order fills.

Safety order k (k = 1..count) rests at base_price x (1 - D_k %), with D_1 = deviation and
D_k = D_(k-1) + deviation x step_scale^(k-1); it spends safety_order_quote x
volume_scale^(k-1) quote, converted to base at its own limit price and rounded down to
the base increment. Prices are rounded to the nearest price increment. An order that
would push the deal past ``max_position_quote`` (default: the budget) or the bot past its
budget less its realised losses (``book.spendable``), or that falls below the product's
minimum sizes, is skipped; later (possibly smaller) ones are still tried.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from tradefleet.domain import OrderPurpose, OrderType, ProductSpec, Side
from tradefleet.money import ZERO, round_down, round_nearest

from .book import Step, committed, draft, fits_spendable, limit_buy_cost, place
from .settings import DealSettings
from .state import DealState

_HUNDRED = Decimal(100)


@lru_cache(maxsize=64)
def _steps(settings: DealSettings) -> tuple[tuple[Decimal, Decimal], ...]:
    """(price factor 1 - D_k / 100, quote) of every safety order: what depends only on
    the settings, worked out once per settings."""
    steps: list[tuple[Decimal, Decimal]] = []
    deviation = ZERO
    for k in range(settings.safety_order_count):
        deviation += settings.safety_deviation_pct * settings.safety_step_scale**k
        quote = settings.safety_order_quote * settings.safety_volume_scale**k
        steps.append((1 - deviation / _HUNDRED, quote))
    return tuple(steps)


def safety_order_at(
    settings: DealSettings, base_price: Decimal, product: ProductSpec, index: int
) -> tuple[Decimal, Decimal]:
    """(limit price, base amount) of safety order ``index`` (0-based)."""
    factor, quote = _steps(settings)[index]
    price = round_nearest(base_price * factor, product.price_increment)
    base = round_down(quote / price, product.base_increment) if price > 0 else ZERO
    return price, base


def safety_ladder(
    settings: DealSettings, base_price: Decimal, product: ProductSpec
) -> list[tuple[Decimal, Decimal]]:
    """(limit price, base amount) of every safety order, before any budget check."""
    return [
        safety_order_at(settings, base_price, product, k)
        for k in range(settings.safety_order_count)
    ]


def position_cap(settings: DealSettings) -> Decimal:
    """Most quote one deal may commit."""
    cap = settings.max_position_quote
    return settings.budget if cap is None else min(cap, settings.budget)


def place_safety_orders(
    settings: DealSettings, step: Step, deal: DealState, first: int = 0
) -> None:
    """Place the ladder below the deal's base price, within the deal cap and the budget;
    from safety order ``first`` (0-based) on: a resumed deal's unfilled ones."""
    if deal.base_price is None:
        raise ValueError(f"deal {deal.seq} has no base price yet")
    cap = position_cap(settings)
    for price, base in safety_ladder(settings, deal.base_price, step.product)[first:]:
        if price <= 0 or base <= 0:
            continue
        cost = limit_buy_cost(price, base, step.fees)
        if committed(deal, step.fees) + cost > cap:
            continue
        if not fits_spendable(step, settings.budget, settings.compound_profits, cost):
            continue
        buy = draft(Side.BUY, OrderType.LIMIT, OrderPurpose.SAFETY, base=base, price=price)
        place(step, deal, buy)
