"""Bollinger %B: buy when %B crosses below the lower threshold, sell while it is above the
upper one (the deal exits once it is at least ``min_profit_pct`` up).

%B = (close - lower band) / (upper band - lower band), from an SMA and ``bb_std`` standard
deviations. Where the bands have no width (flat closes) %B is undefined: NaN, no signal.
BUY needs ``%B < lower_threshold`` and SELL ``%B > upper_threshold``; validation enforces
``lower_threshold < upper_threshold``, so both can never fire together.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import talib

from tradefleet.deals.settings import DealSettings
from tradefleet.domain import CandleArrays, FloatArray
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
from tradefleet.strategies.series import close_of, crosses_below

_PARAMETERS = (
    StrategyParameter(
        name="bb_period", type="int", default=20, min=2, max=200, unit="candles",
        search_min=10, search_max=50,
        description="Candles in the moving average and standard deviation.",
    ),
    StrategyParameter(
        name="bb_std", type="float", default=2.0, min=0.1, max=10, unit="σ",
        search_min=1, search_max=3,
        description="Band distance from the average, in standard deviations.",
    ),
    StrategyParameter(
        name="lower_threshold", type="float", default=0.2, min=-1, max=2,
        search_min=-0.2, search_max=0.4,
        description="Buy when %B crosses below this (0 = lower band).",
    ),
    StrategyParameter(
        name="upper_threshold", type="float", default=0.8, min=-1, max=2,
        search_min=0.6, search_max=1.2,
        description="Sell while %B is above this (1 = upper band).",
    ),
    StrategyParameter(
        name="buy_pct", type="float", default=10.0, min=0.1, max=100, unit="%",
        search_min=2, search_max=25,
        group="entry",
        description="Each buy (first and later adds below the average entry), "
        "in % of the budget.",
    ),
    MAX_POSITION_PARAMETER,
    StrategyParameter(
        name="min_profit_pct", type="float", default=0.5, min=0, max=1000, unit="%",
        search_min=0, search_max=5,
        group="exit", description="A high %B sells only at this profit or more.",
    ),
)  # fmt: skip


def percent_b(close: FloatArray, upper: FloatArray, lower: FloatArray) -> FloatArray:
    """Where the close sits within the bands; NaN where the bands are undefined or flat."""
    width = upper - lower
    out = np.full(close.shape[0], np.nan)
    np.divide(close - lower, width, out=out, where=width > 0)
    return out


@StrategyRegistry.register
class BollingerStrategy(TradingStrategy):
    definition = StrategyDefinition(
        id="bollinger",
        name="Bollinger %B",
        description="Buys when the close drops toward the lower Bollinger band and sells the "
        "deal when it reaches the upper band with enough profit.",
        parameters=_PARAMETERS + deal_parameters(),
    )

    @classmethod
    def cross_field_errors(cls, values: dict[str, Any]) -> list[FieldError]:
        errors: list[FieldError] = []
        if values["lower_threshold"] >= values["upper_threshold"]:
            errors.append(field_error("lower_threshold", "must be less than upper_threshold"))
        errors += pct_not_above(values, "buy_pct", "max_position_pct")
        return errors + deal_cross_field_errors(values)

    def warmup(self) -> int:
        """Simple moving windows: exact once the period plus the previous candle is there."""
        return int(self.params["bb_period"]) + 1

    def compute(self, candles: CandleArrays) -> SignalArrays:
        close = close_of(candles)
        std = self.params["bb_std"]
        # TA-Lib's default moving average for BBANDS is the SMA (matype 0).
        upper, middle, lower = talib.BBANDS(
            close, timeperiod=self.params["bb_period"], nbdevup=std, nbdevdn=std
        )
        pct_b = percent_b(close, upper, lower)
        return SignalArrays(
            buy=crosses_below(pct_b, self.params["lower_threshold"]),
            sell=np.greater(pct_b, self.params["upper_threshold"]),
            indicators={
                "percent_b": pct_b,
                "bb_upper": upper,
                "bb_middle": middle,
                "bb_lower": lower,
            },
        )

    def buy_reason(self) -> str:
        return f"%B crossed below {self.params['lower_threshold']:g}"

    def sell_reason(self) -> str:
        return f"%B above {self.params['upper_threshold']:g}"

    def deal_settings(self, budget: Decimal) -> DealSettings:
        sizing = averaging_sizing(
            self.params, budget, first="buy_pct", add="buy_pct", min_profit="min_profit_pct"
        )
        return build_deal_settings(self.params, budget, sizing)
