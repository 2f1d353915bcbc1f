"""The strategy contract and the registry that maps strategy ids to classes.

A strategy is pure: validated parameters in, vectorised signal arrays out, no I/O and no
clock, so the live engine, the paper broker and the backtester all drive the same code.
"""

from __future__ import annotations

import inspect
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from tradefleet.deals.settings import DealSettings, GridSettings
from tradefleet.domain import BoolArray, CandleArrays, FloatArray, Signal, SignalAction
from tradefleet.strategies.parameters import (
    FieldError,
    StrategyConfigError,
    StrategyDefinition,
    StrategyParameter,
    validate_values,
)

__all__ = [
    "SignalArrays",
    "StrategyConfigError",
    "StrategyDefinition",
    "StrategyParameter",
    "StrategyRegistry",
    "TradingStrategy",
    "UnknownStrategyError",
]


@dataclass(frozen=True, slots=True)
class SignalArrays:
    """Per-candle decisions over a whole candle array (all arrays have the candles' length).

    Each strategy builds ``buy`` and ``sell`` so that both are never true on one candle, and
    both are false wherever an indicator they depend on is NaN.
    """

    buy: BoolArray
    sell: BoolArray
    indicators: dict[str, FloatArray]


class TradingStrategy(ABC):
    """Base of every strategy: validates its config once, then computes signals on arrays."""

    definition: ClassVar[StrategyDefinition]

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.params: dict[str, Any] = self.validate_config(config)

    @classmethod
    def validate_config(cls, config: Mapping[str, Any] | None) -> dict[str, Any]:
        """The complete, typed parameter dict, or ``StrategyConfigError`` listing every problem.

        Cross-field rules run only once every field is valid on its own, so they can rely on
        the values' types.
        """
        values, errors = validate_values(cls.definition.parameters, config)
        if not errors:
            errors = cls.cross_field_errors(values)
        if errors:
            raise StrategyConfigError(errors)
        return values

    @classmethod
    def cross_field_errors(cls, values: dict[str, Any]) -> list[FieldError]:
        """Rules between parameters (fast < slow, ...); the error names the first field."""
        return []

    @abstractmethod
    def warmup(self) -> int:
        """Trailing candles needed for the last candle's signal to match a full-history run."""

    @abstractmethod
    def compute(self, candles: CandleArrays) -> SignalArrays:
        """Signals and indicators for every candle, vectorised over the whole array."""

    @abstractmethod
    def deal_settings(self, budget: Decimal) -> DealSettings | GridSettings:
        """How the deal manager trades this bot's budget, built from the parameters."""

    def buy_reason(self) -> str:
        """The rule behind a BUY, in words, for the signal log."""
        return f"{self.definition.name} buy rule"

    def sell_reason(self) -> str:
        """The rule behind a SELL, in words, for the signal log."""
        return f"{self.definition.name} sell rule"

    def signal_at(self, candles: CandleArrays, index: int = -1) -> Signal:
        """The decision on one closed candle (the last by default), with its indicator values."""
        size = len(candles)
        if not -size <= index < size:
            raise IndexError(f"candle index {index} out of range for {size} candles")
        arrays = self.compute(candles)
        values = {name: float(array[index]) for name, array in arrays.indicators.items()}
        indicators = {name: value for name, value in values.items() if not math.isnan(value)}
        if arrays.buy[index]:
            action, reason = SignalAction.BUY, self.buy_reason()
        elif arrays.sell[index]:
            action, reason = SignalAction.SELL, self.sell_reason()
        elif len(indicators) < len(values):
            action, reason = SignalAction.HOLD, "warming up: not enough candles for the indicators"
        else:
            action, reason = SignalAction.HOLD, ""
        return Signal(
            time=int(candles.time[index]),
            action=action,
            price=float(candles.close[index]),
            reason=reason,
            indicators=indicators,
        )


class UnknownStrategyError(KeyError):
    """No strategy is registered under the requested id."""

    def __init__(self, strategy_id: str, known: list[str]) -> None:
        self.strategy_id = strategy_id
        self.message = f"unknown strategy {strategy_id!r}; known strategies: {', '.join(known)}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


StrategyT = TypeVar("StrategyT", bound=type[TradingStrategy])


class StrategyRegistry:
    """Strategy id -> class; filled by ``@StrategyRegistry.register`` at import time."""

    _classes: ClassVar[dict[str, type[TradingStrategy]]] = {}

    @classmethod
    def register(cls, strategy: StrategyT) -> StrategyT:
        """Class decorator; rejects abstract classes and a second class under the same id."""
        if not (isinstance(strategy, type) and issubclass(strategy, TradingStrategy)):
            raise TypeError(f"{strategy!r} is not a TradingStrategy subclass")
        if inspect.isabstract(strategy):
            raise TypeError(f"{strategy.__name__} is abstract and cannot be registered")
        definition = getattr(strategy, "definition", None)
        if not isinstance(definition, StrategyDefinition):
            raise TypeError(f"{strategy.__name__} has no StrategyDefinition `definition`")
        existing = cls._classes.get(definition.id)
        if existing is not None:
            raise ValueError(
                f"strategy id {definition.id!r} is already registered by {existing.__name__}"
            )
        cls._classes[definition.id] = strategy
        return strategy

    @classmethod
    def get(cls, strategy_id: str) -> type[TradingStrategy]:
        try:
            return cls._classes[strategy_id]
        except KeyError:
            raise UnknownStrategyError(strategy_id, sorted(cls._classes)) from None

    @classmethod
    def all(cls) -> list[type[TradingStrategy]]:
        """Every registered class, sorted by id."""
        return [cls._classes[key] for key in sorted(cls._classes)]

    @classmethod
    def definitions(cls) -> list[StrategyDefinition]:
        """Every registered definition, sorted by id (what GET /api/strategies serves)."""
        return [strategy.definition for strategy in cls.all()]

    @classmethod
    def create(cls, strategy_id: str, config: Mapping[str, Any] | None) -> TradingStrategy:
        """A validated instance; raises ``UnknownStrategyError`` or ``StrategyConfigError``."""
        return cls.get(strategy_id)(config)
