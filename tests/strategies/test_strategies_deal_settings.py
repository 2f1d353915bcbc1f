"""``deal_settings``: parameters mapped onto exact Decimal deal and grid settings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tradefleet.deals.settings import DealSettings, GridSettings, GridSpacing
from tradefleet.strategies import StrategyConfigError, StrategyRegistry

COMMON: dict[str, Any] = {
    "safety_order_count": 3,
    "safety_order_pct": 5,
    "safety_order_deviation_pct": 1.2,
    "safety_order_volume_scale": 1.5,
    "safety_order_step_scale": 0.9,
    "take_profit_pct": 2.5,
    "trailing_deviation_pct": 0.3,
    "stop_loss_pct": 7.0,
    "cooldown_minutes": 15,
    "max_active_deals": 2,
}


def settings_of(strategy_id: str, config: dict[str, Any], budget: str) -> DealSettings:
    result = StrategyRegistry.create(strategy_id, config).deal_settings(Decimal(budget))
    assert isinstance(result, DealSettings)
    return result


def assert_common_mapped(settings: DealSettings) -> None:
    """COMMON on a budget of 0.5: safety order 5 % of it, percentages kept as percent."""
    assert settings.safety_order_count == 3
    assert settings.safety_order_quote == Decimal("0.025")
    assert settings.safety_deviation_pct == Decimal("1.2")
    assert settings.safety_volume_scale == Decimal("1.5")
    assert settings.safety_step_scale == Decimal("0.9")
    assert settings.take_profit_pct == Decimal("2.5")
    assert settings.trailing_deviation_pct == Decimal("0.3")
    assert settings.stop_loss_pct == Decimal("7")
    assert settings.cooldown_seconds == 900
    assert settings.max_active_deals == 2
    assert settings.entry_on_signal is True


def test_macd_dca_maps_percent_of_budget_to_exact_quote() -> None:
    config = {"initial_buy_pct": 10, "dca_buy_pct": 7.5, "max_position_pct": 60.0}
    settings = settings_of("macd_dca", {**config, "min_profit_pct": 1.1, **COMMON}, "0.5")
    assert settings.budget == Decimal("0.5")
    assert settings.base_order_quote == Decimal("0.05")
    assert settings.add_order_quote == Decimal("0.0375")
    assert settings.adds_require_below_average is True
    assert settings.max_position_quote == Decimal("0.3")
    assert settings.signal_exit is True
    assert settings.exit_min_profit_pct == Decimal("1.1")
    assert_common_mapped(settings)


def test_defaults_leave_safety_orders_and_risk_exits_off() -> None:
    settings = settings_of("macd_dca", {}, "1000")
    assert settings.base_order_quote == Decimal(100)
    assert settings.max_position_quote == Decimal(1000)
    assert settings.safety_order_count == 0
    assert settings.take_profit_pct == 0
    assert settings.trailing_deviation_pct == 0
    assert settings.stop_loss_pct == 0
    assert settings.cooldown_seconds == 0
    assert settings.max_active_deals == 1


def test_float_parameters_keep_their_decimal_digits() -> None:
    """0.1 % of 3 is 0.003 exactly, not the binary float 0.1 times 3."""
    settings = settings_of("rsi", {"buy_amount_pct": 0.1, "profit_target_pct": 0.3}, "3")
    assert settings.base_order_quote == Decimal("0.003")
    assert str(settings.exit_min_profit_pct) == "0.3"


def test_rsi_buys_the_same_amount_first_and_on_adds() -> None:
    config = {"buy_amount_pct": 12.5, "max_position_pct": 50, "profit_target_pct": 2.0}
    settings = settings_of("rsi", {**config, **COMMON}, "0.5")
    assert settings.base_order_quote == settings.add_order_quote == Decimal("0.0625")
    assert settings.adds_require_below_average is True
    assert settings.max_position_quote == Decimal("0.25")
    assert (settings.signal_exit, settings.exit_min_profit_pct) == (True, Decimal(2))
    assert_common_mapped(settings)


def test_bollinger_maps_buy_pct_and_min_profit() -> None:
    config = {"buy_pct": 20, "max_position_pct": 80, "min_profit_pct": 0.75}
    settings = settings_of("bollinger", {**config, **COMMON}, "0.5")
    assert settings.base_order_quote == settings.add_order_quote == Decimal("0.1")
    assert settings.max_position_quote == Decimal("0.4")
    assert (settings.signal_exit, settings.exit_min_profit_pct) == (True, Decimal("0.75"))
    assert_common_mapped(settings)


def test_ema_cross_has_no_signal_adds_and_its_zero_min_profit_sells_at_any_result() -> None:
    settings = settings_of("ema_cross", {"buy_pct": 50, **COMMON}, "0.5")
    assert settings.base_order_quote == Decimal("0.25")
    assert settings.add_order_quote == 0
    assert settings.max_position_quote is None
    assert settings.signal_exit is True
    assert settings.exit_min_profit_pct == Decimal(-100)
    assert_common_mapped(settings)
    gated = settings_of("ema_cross", {"min_profit_pct": 0.4}, "0.5")
    assert gated.exit_min_profit_pct == Decimal("0.4")


def test_simple_dca_buys_a_fixed_amount_and_exits_on_take_profit_only() -> None:
    config = {"buy_amount": 0.0001, "take_profit_pct": 1.5, "stop_loss_pct": 10.0}
    settings = settings_of("simple_dca", {**config, "max_position_pct": 50}, "0.01")
    assert settings.base_order_quote == settings.add_order_quote == Decimal("0.0001")
    assert settings.adds_require_below_average is False
    assert settings.max_position_quote == Decimal("0.005")
    assert settings.signal_exit is False
    assert settings.take_profit_pct == Decimal("1.5")
    assert settings.stop_loss_pct == Decimal(10)
    assert (settings.safety_order_count, settings.cooldown_seconds) == (0, 0)
    assert settings.max_active_deals == 1
    assert settings.entry_on_signal is True


def test_simple_dca_buy_amount_must_fit_the_budget_and_the_position_cap() -> None:
    strategy = StrategyRegistry.create("simple_dca", {"buy_amount": 10, "max_position_pct": 50})
    assert settings_of("simple_dca", dict(strategy.params), "20").base_order_quote == Decimal(10)
    with pytest.raises(StrategyConfigError) as caught:
        strategy.deal_settings(Decimal("19.99"))
    assert caught.value.errors == [
        {"field": "buy_amount", "message": "exceeds max_position_pct of the budget 9.995"}
    ]
    with pytest.raises(StrategyConfigError) as caught:
        strategy.deal_settings(Decimal(5))
    assert caught.value.errors == [{"field": "buy_amount", "message": "exceeds the budget 5"}]


def test_grid_settings_are_exact_decimals() -> None:
    config = {
        "lower_price": 0.031,
        "upper_price": 0.047,
        "levels": 9,
        "spacing": "geometric",
        "quote_per_level": 0.0125,
    }
    settings = StrategyRegistry.create("grid", config).deal_settings(Decimal("0.1"))
    assert settings == GridSettings(
        budget=Decimal("0.1"),
        lower_price=Decimal("0.031"),
        upper_price=Decimal("0.047"),
        levels=9,
        spacing=GridSpacing.GEOMETRIC,
        quote_per_level=Decimal("0.0125"),
    )


def test_grid_buy_levels_must_fit_the_budget() -> None:
    strategy = StrategyRegistry.create("grid", {"levels": 5, "quote_per_level": 0.025})
    fitting = strategy.deal_settings(Decimal("0.1"))
    assert isinstance(fitting, GridSettings)
    assert fitting.quote_per_level == Decimal("0.025")
    with pytest.raises(StrategyConfigError) as caught:
        strategy.deal_settings(Decimal("0.0999"))
    assert caught.value.errors == [
        {
            "field": "quote_per_level",
            "message": "4 buy levels need 0.1, more than the budget 0.0999",
        }
    ]


@pytest.mark.parametrize("strategy_id", ["macd_dca", "rsi", "simple_dca", "grid", "ema_cross"])
@pytest.mark.parametrize("budget", ["0", "-1"])
def test_budget_must_be_positive(strategy_id: str, budget: str) -> None:
    strategy = StrategyRegistry.create(strategy_id, {})
    with pytest.raises(StrategyConfigError) as caught:
        strategy.deal_settings(Decimal(budget))
    assert caught.value.errors == [{"field": "budget", "message": "must be greater than 0"}]
