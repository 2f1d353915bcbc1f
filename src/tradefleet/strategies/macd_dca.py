"""MACD DCA: enter on a bullish MACD crossover, add on later ones while below the average
entry, and exit on a bearish crossover once the deal is at least ``min_profit_pct`` up.

BUY needs ``macd > signal`` on the candle and SELL needs ``macd < signal``, so both can
never fire together.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

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
from tradefleet.strategies.series import close_of, crosses_above, crosses_below, ema_settle

_PARAMETERS = (
    StrategyParameter(
        name="macd_fast", type="int", default=12, min=2, max=100, unit="candles",
        search_min=5, search_max=20,
        description="Period of the fast EMA.",
    ),
    StrategyParameter(
        name="macd_slow", type="int", default=26, min=3, max=200, unit="candles",
        search_min=15, search_max=50,
        description="Period of the slow EMA; must be longer than the fast one.",
    ),
    StrategyParameter(
        name="macd_signal", type="int", default=9, min=1, max=100, unit="candles",
        search_min=5, search_max=15,
        description="Period of the signal line (EMA of the MACD line).",
    ),
    StrategyParameter(
        name="initial_buy_pct", type="float", default=10.0, min=0.1, max=100, unit="%",
        search_min=2, search_max=25,
        group="entry", description="First buy of a deal, in % of the budget.",
    ),
    StrategyParameter(
        name="dca_buy_pct", type="float", default=10.0, min=0, max=100, unit="%",
        search_min=0, search_max=25,
        group="entry",
        description="Buy on each later bullish crossover while below the average entry, "
        "in % of the budget; 0 = no such adds.",
    ),
    MAX_POSITION_PARAMETER,
    StrategyParameter(
        name="min_profit_pct", type="float", default=1.0, min=0, max=1000, unit="%",
        search_min=0, search_max=5,
        group="exit", description="A bearish crossover sells only at this profit or more.",
    ),
)  # fmt: skip


@StrategyRegistry.register
class MacdDcaStrategy(TradingStrategy):
    definition = StrategyDefinition(
        id="macd_dca",
        name="MACD DCA",
        description="Buys on bullish MACD crossovers (averaging down on repeats) and sells "
        "the deal on a bearish crossover once it is in profit.",
        parameters=_PARAMETERS + deal_parameters(),
    )

    @classmethod
    def cross_field_errors(cls, values: dict[str, Any]) -> list[FieldError]:
        errors: list[FieldError] = []
        if values["macd_fast"] >= values["macd_slow"]:
            errors.append(field_error("macd_fast", "must be less than macd_slow"))
        errors += pct_not_above(values, "initial_buy_pct", "max_position_pct")
        return errors + deal_cross_field_errors(values)

    def warmup(self) -> int:
        slow, signal = int(self.params["macd_slow"]), int(self.params["macd_signal"])
        return slow + signal + ema_settle(slow) + ema_settle(signal)

    def compute(self, candles: CandleArrays) -> SignalArrays:
        macd, signal, hist = talib.MACD(
            close_of(candles),
            fastperiod=self.params["macd_fast"],
            slowperiod=self.params["macd_slow"],
            signalperiod=self.params["macd_signal"],
        )
        return SignalArrays(
            buy=crosses_above(macd, signal),
            sell=crosses_below(macd, signal),
            indicators={"macd": macd, "macd_signal": signal, "macd_hist": hist},
        )

    def buy_reason(self) -> str:
        return "MACD crossed above its signal line"

    def sell_reason(self) -> str:
        return "MACD crossed below its signal line"

    def deal_settings(self, budget: Decimal) -> DealSettings:
        sizing = averaging_sizing(
            self.params,
            budget,
            first="initial_buy_pct",
            add="dca_buy_pct",
            min_profit="min_profit_pct",
        )
        return build_deal_settings(self.params, budget, sizing)
