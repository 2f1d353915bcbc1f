"""A grid bot's config checked against its product before it is stored.

A grid whose level buys the product refuses is accepted by the strategy's own rules but
never trades: the engine skips a level it cannot buy, silently, on every candle. So is a
grid still on its default range (0.01 to 0.1: the BTC-quoted size of a range, thousands
of times below BTC-USD's price). Both are refused here with a 422 that says what to set.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tradefleet.deals.grid import refused_buy
from tradefleet.deals.settings import GridSettings
from tradefleet.domain import ProductSpec
from tradefleet.money import canonical
from tradefleet.strategies import StrategyConfigError, StrategyRegistry

GRID = "grid"
RANGE = ("lower_price", "upper_price")

Problems = list[tuple[str, str]]


def range_problems(strategy_type: str, given: Mapping[str, Any], product_id: str) -> Problems:
    """A grid bot names its price range: no default range suits every product.

    ``given`` is the config as the request gives it (before defaults are filled in; on an
    update, merged into the stored one, which holds both bounds)."""
    if strategy_type != GRID:
        return []
    return [
        (
            f"strategy_config.{name}",
            f"a grid bot needs its price range: set lower_price and upper_price around "
            f"{product_id}'s price",
        )
        for name in RANGE
        if given.get(name) is None
    ]


def product_problems(
    strategy_type: str, config: Mapping[str, Any], budget: Decimal, product: ProductSpec
) -> Problems:
    """What ``product`` refuses of a valid grid config: levels closer than its price
    increment, or level buys below its minimum sizes."""
    if strategy_type != GRID:
        return []
    try:
        settings = StrategyRegistry.create(GRID, config).deal_settings(budget)
    except StrategyConfigError:
        return []  # reported by the strategy's own rules
    assert isinstance(settings, GridSettings)
    name, quote = product.product_id, product.quote_currency
    try:
        refused = refused_buy(settings, product)
    except ValueError:
        return [
            (
                "strategy_config.levels",
                f"{settings.levels} levels from {canonical(settings.lower_price)} to "
                f"{canonical(settings.upper_price)} are closer together than {name}'s price "
                f"increment {product.price_increment}: use fewer levels or a wider range",
            )
        ]
    if refused is None:
        return []
    per_level = canonical(settings.quote_per_level)
    if per_level < product.quote_min_size:
        message = (
            f"{per_level} {quote} per level is below {name}'s minimum order of "
            f"{product.quote_min_size} {quote}"
        )
    else:
        price, reason = refused
        message = f"{name} would refuse the buy at {price} ({reason}): raise quote_per_level"
    return [("strategy_config.quote_per_level", message)]
