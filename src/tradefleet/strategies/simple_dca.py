"""Simple DCA: buy a fixed quote amount at the start of every interval, whatever the price,
and let take profit / stop loss close the deal.

A candle starts a new interval when ``time // interval_seconds`` differs from the previous
candle's (so a gap in the data still buys once); the first candle never buys, because
whether it starts an interval is unknown. There are no SELL signals.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from tradefleet.deals.settings import DealSettings
from tradefleet.domain import CandleArrays
from tradefleet.strategies.base import SignalArrays, StrategyRegistry, TradingStrategy
from tradefleet.strategies.deal_params import (
    EntrySizing,
    build_deal_settings,
    deal_cross_field_errors,
    deal_parameters,
    dec,
    pct_of,
    require_positive_budget,
)
from tradefleet.strategies.parameters import (
    FieldError,
    StrategyConfigError,
    StrategyDefinition,
    StrategyParameter,
    field_error,
)
from tradefleet.strategies.series import no_signals

_SHARED_EXCLUDED = (
    "safety_order_count",
    "safety_order_pct",
    "safety_order_deviation_pct",
    "safety_order_volume_scale",
    "safety_order_step_scale",
    "cooldown_minutes",
    "max_active_deals",
)

_PARAMETERS = (
    StrategyParameter(
        name="buy_amount", type="float", default=10.0, min=0.00000001, unit="quote",
        group="entry", description="Quote currency spent on every interval's buy.",
    ),
    StrategyParameter(
        name="interval_minutes", type="int", default=60, min=1, max=43200, unit="minutes",
        search_min=15, search_max=1440,
        description="Buy at the first candle of every interval of this length (UTC).",
    ),
    StrategyParameter(
        name="max_position_pct", type="float", default=100.0, min=0.1, max=100, unit="%",
        search_min=10, search_max=100,
        group="entry", description="Stop buying once the deal holds this much of the budget.",
    ),
)  # fmt: skip


@StrategyRegistry.register
class SimpleDcaStrategy(TradingStrategy):
    definition = StrategyDefinition(
        id="simple_dca",
        name="Simple DCA",
        description="Buys a fixed amount every interval and sells the accumulated position "
        "at the take profit.",
        parameters=_PARAMETERS
        + deal_parameters(exclude=_SHARED_EXCLUDED, defaults={"take_profit_pct": 2.0}),
    )

    @classmethod
    def cross_field_errors(cls, values: dict[str, float]) -> list[FieldError]:
        return deal_cross_field_errors(values)

    def warmup(self) -> int:
        """The previous candle decides whether the last one starts an interval."""
        return 2

    def compute(self, candles: CandleArrays) -> SignalArrays:
        size = len(candles)
        interval = np.floor_divide(candles.time, self.params["interval_minutes"] * 60)
        buy = no_signals(size)
        if size > 1:
            np.not_equal(interval[1:], interval[:-1], out=buy[1:])
        return SignalArrays(buy=buy, sell=no_signals(size), indicators={})

    def buy_reason(self) -> str:
        return f"a new {self.params['interval_minutes']}-minute interval started"

    def deal_settings(self, budget: Decimal) -> DealSettings:
        """Raises ``StrategyConfigError`` on ``buy_amount`` if one buy cannot fit the budget."""
        require_positive_budget(budget)
        p = self.params
        amount = dec(p["buy_amount"])
        max_position = pct_of(budget, p["max_position_pct"])
        if amount > budget:
            raise StrategyConfigError([field_error("buy_amount", f"exceeds the budget {budget}")])
        if amount > max_position:
            raise StrategyConfigError(
                [
                    field_error(
                        "buy_amount", f"exceeds max_position_pct of the budget {max_position}"
                    )
                ]
            )
        sizing = EntrySizing(
            base_order_quote=amount,
            add_order_quote=amount,
            adds_require_below_average=False,
            max_position_quote=max_position,
            signal_exit=False,
        )
        return build_deal_settings(p, budget, sizing)
