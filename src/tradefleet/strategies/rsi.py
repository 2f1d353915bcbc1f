"""RSI: buy when the RSI crosses below the oversold level, sell while it is above the
overbought level (the deal exits once it is at least ``profit_target_pct`` up).

BUY needs ``rsi < oversold`` and SELL needs ``rsi > overbought``; validation enforces
``oversold < overbought``, so both can never fire together.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import talib

from tradefleet.deals.settings import DealSettings
from tradefleet.domain import CandleArrays
from tradefleet.strategies.base import SignalArrays, StrategyRegistry, TradingStrategy
from tradefleet.strategies.deal_params import (
    MAX_POSITION_PARAMETER,
    averaging_sizing,
    build_deal_settings,
    deal_cross_field_errors,
    deal_parameters,
    pct_not_above,
)
from tradefleet.strategies.parameters import (
    FieldError,
    StrategyDefinition,
    StrategyParameter,
    field_error,
)
from tradefleet.strategies.series import close_of, crosses_below, wilder_settle

_PARAMETERS = (
    StrategyParameter(
        name="rsi_period", type="int", default=14, min=2, max=100, unit="candles",
        search_min=5, search_max=30,
        description="Period of the RSI (Wilder's smoothing).",
    ),
    StrategyParameter(
        name="oversold", type="float", default=30.0, min=1, max=99, search_min=10, search_max=40,
        description="Buy when the RSI crosses below this level.",
    ),
    StrategyParameter(
        name="overbought", type="float", default=70.0, min=1, max=99, search_min=60, search_max=90,
        description="Sell while the RSI is above this level.",
    ),
    StrategyParameter(
        name="buy_amount_pct", type="float", default=10.0, min=0.1, max=100, unit="%",
        search_min=2, search_max=25,
        group="entry",
        description="Each buy (first and later adds below the average entry), "
        "in % of the budget.",
    ),
    MAX_POSITION_PARAMETER,
    StrategyParameter(
        name="profit_target_pct", type="float", default=1.0, min=0, max=1000, unit="%",
        search_min=0, search_max=5,
        group="exit", description="An overbought RSI sells only at this profit or more.",
    ),
)  # fmt: skip


@StrategyRegistry.register
class RsiStrategy(TradingStrategy):
    definition = StrategyDefinition(
        id="rsi",
        name="RSI",
        description="Buys when the RSI dips into oversold territory and sells the deal "
        "when it turns overbought with enough profit.",
        parameters=_PARAMETERS + deal_parameters(),
    )

    @classmethod
    def cross_field_errors(cls, values: dict[str, Any]) -> list[FieldError]:
        errors: list[FieldError] = []
        if values["oversold"] >= values["overbought"]:
            errors.append(field_error("oversold", "must be less than overbought"))
        errors += pct_not_above(values, "buy_amount_pct", "max_position_pct")
        return errors + deal_cross_field_errors(values)

    def warmup(self) -> int:
        period = int(self.params["rsi_period"])
        return period + 2 + wilder_settle(period)

    def compute(self, candles: CandleArrays) -> SignalArrays:
        rsi = talib.RSI(close_of(candles), timeperiod=self.params["rsi_period"])
        return SignalArrays(
            buy=crosses_below(rsi, self.params["oversold"]),
            sell=np.greater(rsi, self.params["overbought"]),
            indicators={"rsi": rsi},
        )

    def buy_reason(self) -> str:
        return f"RSI crossed below oversold {self.params['oversold']:g}"

    def sell_reason(self) -> str:
        return f"RSI above overbought {self.params['overbought']:g}"

    def deal_settings(self, budget: Decimal) -> DealSettings:
        sizing = averaging_sizing(
            self.params,
            budget,
            first="buy_amount_pct",
            add="buy_amount_pct",
            min_profit="profit_target_pct",
        )
        return build_deal_settings(self.params, budget, sizing)
