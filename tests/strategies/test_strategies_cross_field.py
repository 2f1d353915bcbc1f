"""Rules between parameters: each names the first field of the rule, and both sides of
every boundary are tested (equal is rejected for strict orderings, accepted for caps)."""

from __future__ import annotations

from typing import Any

import pytest

from tradefleet.strategies import StrategyConfigError, StrategyRegistry


def errors_of(strategy_id: str, config: dict[str, Any]) -> list[dict[str, str]]:
    with pytest.raises(StrategyConfigError) as caught:
        StrategyRegistry.create(strategy_id, config)
    return caught.value.errors


@pytest.mark.parametrize(
    ("strategy_id", "config", "error"),
    [
        ("macd_dca", {"macd_fast": 26}, ("macd_fast", "must be less than macd_slow")),
        ("macd_dca", {"macd_fast": 30}, ("macd_fast", "must be less than macd_slow")),
        ("ema_cross", {"fast_period": 21}, ("fast_period", "must be less than slow_period")),
        ("rsi", {"oversold": 70.0}, ("oversold", "must be less than overbought")),
        ("rsi", {"oversold": 50, "overbought": 40}, ("oversold", "must be less than overbought")),
        (
            "bollinger",
            {"lower_threshold": 0.8},
            ("lower_threshold", "must be less than upper_threshold"),
        ),
        ("grid", {"lower_price": 0.1}, ("lower_price", "must be less than upper_price")),
        (
            "macd_dca",
            {"initial_buy_pct": 60, "max_position_pct": 50},
            ("initial_buy_pct", "must not exceed max_position_pct (50)"),
        ),
        (
            "rsi",
            {"buy_amount_pct": 20.5, "max_position_pct": 20},
            ("buy_amount_pct", "must not exceed max_position_pct (20)"),
        ),
        (
            "bollinger",
            {"buy_pct": 30, "max_position_pct": 25.5},
            ("buy_pct", "must not exceed max_position_pct (25.5)"),
        ),
    ],
)
def test_cross_field_rule_rejects(
    strategy_id: str, config: dict[str, Any], error: tuple[str, str]
) -> None:
    assert errors_of(strategy_id, config) == [{"field": error[0], "message": error[1]}]


@pytest.mark.parametrize(
    ("strategy_id", "config"),
    [
        ("macd_dca", {"macd_fast": 25}),
        ("ema_cross", {"fast_period": 20}),
        ("rsi", {"oversold": 69.9}),
        ("bollinger", {"lower_threshold": 0.79}),
        ("grid", {"lower_price": 0.0999}),
        ("macd_dca", {"initial_buy_pct": 50, "max_position_pct": 50}),
        ("rsi", {"buy_amount_pct": 20, "max_position_pct": 20}),
        ("bollinger", {"buy_pct": 25, "max_position_pct": 25}),
    ],
)
def test_cross_field_rule_accepts_the_other_side(strategy_id: str, config: dict[str, Any]) -> None:
    strategy = StrategyRegistry.create(strategy_id, config)
    assert all(strategy.params[name] == value for name, value in config.items())


@pytest.mark.parametrize("strategy_id", ["macd_dca", "rsi", "bollinger", "ema_cross", "simple_dca"])
def test_trailing_needs_a_take_profit(strategy_id: str) -> None:
    config: dict[str, Any] = {"trailing_deviation_pct": 0.5, "take_profit_pct": 0}
    assert errors_of(strategy_id, config) == [
        {"field": "trailing_deviation_pct", "message": "needs take_profit_pct above 0"}
    ]
    strategy = StrategyRegistry.create(strategy_id, {**config, "take_profit_pct": 1.5})
    assert strategy.params["trailing_deviation_pct"] == 0.5


def test_several_cross_field_errors_are_reported_together() -> None:
    errors = errors_of(
        "macd_dca",
        {"macd_fast": 30, "initial_buy_pct": 80, "max_position_pct": 50,
         "trailing_deviation_pct": 1.0},
    )  # fmt: skip
    assert [e["field"] for e in errors] == [
        "macd_fast",
        "initial_buy_pct",
        "trailing_deviation_pct",
    ]


def test_cross_field_rules_wait_for_valid_fields() -> None:
    """A type error must not surface as a misleading ordering error (or a crash)."""
    errors = errors_of("rsi", {"oversold": "80", "overbought": 70})
    assert errors == [{"field": "oversold", "message": "must be a number"}]
