"""Grid: resting buys at price levels below the market, each sold one level up, repeated.

The grid trades on its levels alone, so it emits no signals. Its price range depends on
the product: the defaults (0.01 to 0.1, an X/BTC-sized range) only make a valid config,
and a user sets ``lower_price`` and ``upper_price`` for the pair they trade.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradefleet.deals.settings import GridSettings, GridSpacing
from tradefleet.domain import CandleArrays
from tradefleet.money import canonical
from tradefleet.strategies.base import SignalArrays, StrategyRegistry, TradingStrategy
from tradefleet.strategies.deal_params import dec, require_positive_budget
from tradefleet.strategies.parameters import (
    FieldError,
    StrategyConfigError,
    StrategyDefinition,
    StrategyParameter,
    field_error,
)
from tradefleet.strategies.series import no_signals

_PARAMETERS = (
    StrategyParameter(
        name="lower_price", type="float", default=0.01, min=1e-12, unit="quote",
        group="grid", description="Lowest grid level; set it for your pair.",
    ),
    StrategyParameter(
        name="upper_price", type="float", default=0.1, min=1e-12, unit="quote",
        group="grid", description="Highest grid level; set it for your pair.",
    ),
    StrategyParameter(
        name="levels", type="int", default=10, min=2, max=200, unit="levels",
        search_min=5, search_max=50,
        group="grid", description="Price levels including both bounds.",
    ),
    StrategyParameter(
        name="spacing", type="choice", default="arithmetic",
        choices=tuple(s.value for s in GridSpacing), group="grid",
        description="Equal price steps (arithmetic) or equal percentage steps (geometric).",
    ),
    StrategyParameter(
        name="quote_per_level", type="float", default=0.001, min=0.00000001, unit="quote",
        group="grid", description="Quote currency each level buys with.",
    ),
)  # fmt: skip


@StrategyRegistry.register
class GridStrategy(TradingStrategy):
    definition = StrategyDefinition(
        id="grid",
        name="Grid",
        description="Buys at each price level below the market and sells one level up, "
        "profiting from a price that moves sideways within a range.",
        parameters=_PARAMETERS,
    )

    @classmethod
    def cross_field_errors(cls, values: dict[str, Any]) -> list[FieldError]:
        if values["lower_price"] >= values["upper_price"]:
            return [field_error("lower_price", "must be less than upper_price")]
        return []

    def warmup(self) -> int:
        return 1

    def compute(self, candles: CandleArrays) -> SignalArrays:
        size = len(candles)
        return SignalArrays(buy=no_signals(size), sell=no_signals(size), indicators={})

    def deal_settings(self, budget: Decimal) -> GridSettings:
        """Raises ``StrategyConfigError`` on ``quote_per_level`` if the buy levels overspend."""
        require_positive_budget(budget)
        p = self.params
        quote_per_level = dec(p["quote_per_level"])
        needed = canonical((p["levels"] - 1) * quote_per_level)
        if needed > budget:
            message = f"{p['levels'] - 1} buy levels need {needed}, more than the budget {budget}"
            raise StrategyConfigError([field_error("quote_per_level", message)])
        return GridSettings(
            budget=budget,
            lower_price=dec(p["lower_price"]),
            upper_price=dec(p["upper_price"]),
            levels=p["levels"],
            spacing=GridSpacing(p["spacing"]),
            quote_per_level=quote_per_level,
        )
