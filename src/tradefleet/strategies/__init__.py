"""Trading strategies: importing this package registers all of them in ``StrategyRegistry``."""

from tradefleet.strategies import bollinger, ema_cross, grid, macd_dca, rsi, simple_dca
from tradefleet.strategies.base import (
    SignalArrays,
    StrategyConfigError,
    StrategyDefinition,
    StrategyParameter,
    StrategyRegistry,
    TradingStrategy,
    UnknownStrategyError,
)

__all__ = [
    "SignalArrays",
    "StrategyConfigError",
    "StrategyDefinition",
    "StrategyParameter",
    "StrategyRegistry",
    "TradingStrategy",
    "UnknownStrategyError",
    "bollinger",
    "ema_cross",
    "grid",
    "macd_dca",
    "rsi",
    "simple_dca",
]
