"""EMA cross: buy when the fast EMA crosses above the slow one, sell on the cross back.

BUY needs ``fast > slow`` on the candle and SELL needs ``fast < slow``, so both can never
fire together. A deal gets one buy (no signal adds); safety orders still apply.
``min_profit_pct`` = 0 means the cross back sells at any result, even at a loss, which is
how a trend follower cuts a failed trend: it maps to ``exit_min_profit_pct`` = -100, the
floor of a long position's result, so the deal manager's profit gate never blocks.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import talib

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
)
from tradefleet.strategies.parameters import (
    FieldError,
    StrategyDefinition,
    StrategyParameter,
    field_error,
)
from tradefleet.strategies.series import close_of, crosses_above, crosses_below, ema_settle

ANY_RESULT_PCT = Decimal(-100)

_PARAMETERS = (
    StrategyParameter(
        name="fast_period", type="int", default=9, min=2, max=200, unit="candles",
        search_min=5, search_max=50,
        description="Period of the fast EMA.",
    ),
    StrategyParameter(
        name="slow_period", type="int", default=21, min=3, max=500, unit="candles",
        search_min=20, search_max=200,
        description="Period of the slow EMA; must be longer than the fast one.",
    ),
    StrategyParameter(
        name="buy_pct", type="float", default=50.0, min=0.1, max=100, unit="%",
        search_min=10, search_max=100,
        group="entry", description="The deal's buy, in % of the budget.",
    ),
    StrategyParameter(
        name="min_profit_pct", type="float", default=0.0, min=0, max=1000, unit="%",
        search_min=0, search_max=5,
        group="exit",
        description="The cross back sells only at this profit or more; "
        "0 = sell on any cross back, even at a loss.",
    ),
)  # fmt: skip


@StrategyRegistry.register
class EmaCrossStrategy(TradingStrategy):
    definition = StrategyDefinition(
        id="ema_cross",
        name="EMA Cross",
        description="Follows trends: buys when the fast EMA crosses above the slow EMA and "
        "sells when it crosses back below.",
        parameters=_PARAMETERS + deal_parameters(),
    )

    @classmethod
    def cross_field_errors(cls, values: dict[str, Any]) -> list[FieldError]:
        errors: list[FieldError] = []
        if values["fast_period"] >= values["slow_period"]:
            errors.append(field_error("fast_period", "must be less than slow_period"))
        return errors + deal_cross_field_errors(values)

    def warmup(self) -> int:
        slow = int(self.params["slow_period"])
        return slow + 1 + ema_settle(slow)

    def compute(self, candles: CandleArrays) -> SignalArrays:
        close = close_of(candles)
        fast = talib.EMA(close, timeperiod=self.params["fast_period"])
        slow = talib.EMA(close, timeperiod=self.params["slow_period"])
        return SignalArrays(
            buy=crosses_above(fast, slow),
            sell=crosses_below(fast, slow),
            indicators={"ema_fast": fast, "ema_slow": slow},
        )

    def buy_reason(self) -> str:
        return f"EMA {self.params['fast_period']} crossed above EMA {self.params['slow_period']}"

    def sell_reason(self) -> str:
        return f"EMA {self.params['fast_period']} crossed below EMA {self.params['slow_period']}"

    def deal_settings(self, budget: Decimal) -> DealSettings:
        p = self.params
        min_profit = dec(p["min_profit_pct"])
        sizing = EntrySizing(
            base_order_quote=pct_of(budget, p["buy_pct"]),
            add_order_quote=Decimal(0),
            signal_exit=True,
            exit_min_profit_pct=min_profit if min_profit > 0 else ANY_RESULT_PCT,
        )
        return build_deal_settings(p, budget, sizing)
