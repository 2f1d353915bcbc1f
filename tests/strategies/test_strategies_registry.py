"""The strategy registry: the six ids, lookups, creation and registration guards."""

from __future__ import annotations

from decimal import Decimal

import pytest

import tradefleet.strategies
from tradefleet.deals.settings import DealSettings
from tradefleet.domain import CandleArrays
from tradefleet.strategies import (
    SignalArrays,
    StrategyConfigError,
    StrategyRegistry,
    TradingStrategy,
    UnknownStrategyError,
)
from tradefleet.strategies.ema_cross import EmaCrossStrategy
from tradefleet.strategies.macd_dca import MacdDcaStrategy

SIX_IDS = ["bollinger", "ema_cross", "grid", "macd_dca", "rsi", "simple_dca"]


def test_importing_the_package_registers_the_six_strategies_sorted_by_id() -> None:
    assert tradefleet.strategies.StrategyRegistry is StrategyRegistry
    assert [cls.definition.id for cls in StrategyRegistry.all()] == SIX_IDS
    assert [d.id for d in StrategyRegistry.definitions()] == SIX_IDS


def test_get_returns_the_registered_class() -> None:
    assert StrategyRegistry.get("macd_dca") is MacdDcaStrategy
    assert StrategyRegistry.get("ema_cross") is EmaCrossStrategy


def test_unknown_id_raises_a_key_error_naming_the_known_ids() -> None:
    with pytest.raises(UnknownStrategyError) as caught:
        StrategyRegistry.get("macd")
    assert isinstance(caught.value, KeyError)
    assert caught.value.strategy_id == "macd"
    assert str(caught.value) == (
        "unknown strategy 'macd'; known strategies: "
        "bollinger, ema_cross, grid, macd_dca, rsi, simple_dca"
    )
    with pytest.raises(UnknownStrategyError):
        StrategyRegistry.create("macd", {})


def test_create_validates_the_config() -> None:
    strategy = StrategyRegistry.create("rsi", {"rsi_period": 7})
    assert strategy.params["rsi_period"] == 7
    assert strategy.params["oversold"] == 30.0
    with pytest.raises(StrategyConfigError):
        StrategyRegistry.create("rsi", {"rsi_period": 1})


class _Duplicate(MacdDcaStrategy):
    """Same definition (id macd_dca) as an already registered class."""


def test_duplicate_id_is_rejected_and_the_original_kept() -> None:
    with pytest.raises(ValueError, match="'macd_dca' is already registered by MacdDcaStrategy"):
        StrategyRegistry.register(_Duplicate)
    assert StrategyRegistry.get("macd_dca") is MacdDcaStrategy


class _Abstract(TradingStrategy):
    definition = MacdDcaStrategy.definition.model_copy(update={"id": "abstract_one"})

    def warmup(self) -> int:
        return 1

    def compute(self, candles: CandleArrays) -> SignalArrays:
        raise AssertionError("never called")


def test_abstract_and_foreign_classes_are_rejected() -> None:
    with pytest.raises(TypeError, match="is abstract"):
        StrategyRegistry.register(_Abstract)
    with pytest.raises(TypeError, match="not a TradingStrategy subclass"):
        StrategyRegistry.register(int)  # type: ignore[type-var]
    with pytest.raises(UnknownStrategyError):
        StrategyRegistry.get("abstract_one")


class _NoDefinition(TradingStrategy):
    def warmup(self) -> int:
        return 1

    def compute(self, candles: CandleArrays) -> SignalArrays:
        raise AssertionError("never called")

    def deal_settings(self, budget: Decimal) -> DealSettings:
        raise AssertionError("never called")


def test_class_without_definition_is_rejected() -> None:
    with pytest.raises(TypeError, match="has no StrategyDefinition"):
        StrategyRegistry.register(_NoDefinition)


def test_every_strategy_builds_with_defaults() -> None:
    for cls in StrategyRegistry.all():
        strategy = cls(None)
        assert strategy.params == cls.definition.defaults()
        assert strategy.warmup() >= 1
