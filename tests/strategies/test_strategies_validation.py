"""Per-field validation of strategy configs: names, strict types, ranges and defaults."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from tradefleet.strategies import StrategyConfigError, StrategyParameter, StrategyRegistry
from tradefleet.strategies.grid import GridStrategy
from tradefleet.strategies.macd_dca import MacdDcaStrategy
from tradefleet.strategies.parameters import StrategyDefinition


def errors_of(strategy_id: str, config: Any) -> list[dict[str, str]]:
    with pytest.raises(StrategyConfigError) as caught:
        StrategyRegistry.get(strategy_id).validate_config(config)
    return caught.value.errors


def fields_of(strategy_id: str, config: Any) -> list[str]:
    return [e["field"] for e in errors_of(strategy_id, config)]


def test_missing_parameters_take_their_defaults() -> None:
    params = MacdDcaStrategy.validate_config({"macd_fast": 5})
    assert params["macd_fast"] == 5
    assert params["macd_slow"] == 26
    assert params["macd_signal"] == 9
    assert params["initial_buy_pct"] == 10.0
    assert params["safety_order_count"] == 0
    assert params["max_active_deals"] == 1
    assert set(params) == {p.name for p in MacdDcaStrategy.definition.parameters}


def test_none_and_empty_config_give_all_defaults() -> None:
    defaults = MacdDcaStrategy.definition.defaults()
    assert MacdDcaStrategy.validate_config(None) == defaults
    assert MacdDcaStrategy({}).params == defaults


def test_unknown_parameter_is_rejected_by_name() -> None:
    errors = errors_of("rsi", {"rsi_period": 14, "rsi_perod": 14})
    assert [e["field"] for e in errors] == ["rsi_perod"]
    assert errors[0]["message"].startswith("unknown parameter; expected one of: rsi_period,")


def test_config_that_is_not_an_object_is_rejected() -> None:
    assert errors_of("rsi", [("rsi_period", 14)]) == [
        {"field": "config", "message": "must be an object of parameter names to values"}
    ]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"rsi_period": "14"}, "must be an integer"),
        ({"rsi_period": 14.0}, "must be an integer"),
        ({"rsi_period": True}, "must be an integer, not a boolean"),
        ({"oversold": "30"}, "must be a number"),
        ({"oversold": False}, "must be a number, not a boolean"),
        ({"oversold": float("nan")}, "must be a finite number"),
        ({"oversold": float("inf")}, "must be a finite number"),
        ({"oversold": None}, "must be a number"),
    ],
)
def test_wrong_types_are_rejected(config: dict[str, Any], message: str) -> None:
    (field,) = config
    assert errors_of("rsi", config) == [{"field": field, "message": message}]


def test_float_parameter_accepts_an_int_and_stores_a_float() -> None:
    params = StrategyRegistry.get("rsi").validate_config({"oversold": 25})
    assert params["oversold"] == 25.0
    assert isinstance(params["oversold"], float)


def test_int_parameter_accepts_numpy_integers_as_plain_int() -> None:
    params = StrategyRegistry.get("rsi").validate_config({"rsi_period": np.int64(10)})
    assert params["rsi_period"] == 10
    assert type(params["rsi_period"]) is int


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"rsi_period": 1}, "must be at least 2"),
        ({"rsi_period": 101}, "must be at most 100"),
        ({"buy_amount_pct": 0.05}, "must be at least 0.1"),
        ({"take_profit_pct": -1.0}, "must be at least 0"),
        ({"max_active_deals": 21}, "must be at most 20"),
    ],
)
def test_out_of_range_values_are_rejected(config: dict[str, Any], message: str) -> None:
    (field,) = config
    assert errors_of("rsi", config) == [{"field": field, "message": message}]


def test_bounds_are_inclusive() -> None:
    params = StrategyRegistry.get("rsi").validate_config({"rsi_period": 100, "oversold": 1})
    assert (params["rsi_period"], params["oversold"]) == (100, 1.0)
    params = StrategyRegistry.get("rsi").validate_config({"rsi_period": 2})
    assert params["rsi_period"] == 2


def test_choice_must_be_one_of_the_choices() -> None:
    assert errors_of("grid", {"spacing": "logarithmic"}) == [
        {"field": "spacing", "message": "must be one of: arithmetic, geometric"}
    ]
    assert fields_of("grid", {"spacing": 1}) == ["spacing"]
    assert GridStrategy.validate_config({"spacing": "geometric"})["spacing"] == "geometric"


def test_bool_parameter_is_strict() -> None:
    param = StrategyParameter(name="flag", type="bool", default=False)
    assert param.check(True) == (True, "")
    assert param.check(1) == (None, "must be true or false")
    assert param.check("true") == (None, "must be true or false")


def test_every_bad_field_is_reported_at_once() -> None:
    errors = errors_of("rsi", {"rsi_period": 0, "oversold": "x", "nope": 1})
    assert sorted(e["field"] for e in errors) == ["nope", "oversold", "rsi_period"]


def test_error_message_lists_field_and_reason() -> None:
    with pytest.raises(StrategyConfigError, match=r"rsi_period: must be at least 2"):
        StrategyRegistry.create("rsi", {"rsi_period": 1})


def test_simple_dca_buy_amount_accepts_satoshi_sizes() -> None:
    cls = StrategyRegistry.get("simple_dca")
    assert cls.validate_config({"buy_amount": 0.00000001})["buy_amount"] == 1e-8
    assert errors_of("simple_dca", {"buy_amount": 0}) == [
        {"field": "buy_amount", "message": "must be at least 1e-08"}
    ]


def test_simple_dca_has_no_safety_or_cooldown_parameters() -> None:
    names = {p.name for p in StrategyRegistry.get("simple_dca").definition.parameters}
    assert names == {
        "buy_amount",
        "interval_minutes",
        "max_position_pct",
        "take_profit_pct",
        "trailing_deviation_pct",
        "stop_loss_pct",
        "compound_profits",
    }
    assert StrategyRegistry.get("simple_dca").definition.defaults()["take_profit_pct"] == 2.0
    assert fields_of("simple_dca", {"cooldown_minutes": 5}) == ["cooldown_minutes"]


def test_parameter_with_invalid_default_cannot_be_defined() -> None:
    with pytest.raises(ValueError, match="must be at most 5"):
        StrategyParameter(name="x", type="int", default=10, min=0, max=5)
    with pytest.raises(ValueError, match="needs choices"):
        StrategyParameter(name="x", type="choice", default="a")


def test_definition_rejects_duplicate_parameter_names() -> None:
    param = StrategyParameter(name="x", type="int", default=1)
    with pytest.raises(ValueError, match="duplicate parameter names"):
        StrategyDefinition(id="d", name="D", description="", parameters=(param, param))


def test_definitions_are_json_serialisable_with_all_fields() -> None:
    for cls in StrategyRegistry.all():
        data = json.loads(json.dumps(cls.definition.to_dict()))
        assert data["id"] == cls.definition.id
        assert len(data["parameters"]) == len(cls.definition.parameters)
    spacing = next(p for p in GridStrategy.definition.parameters if p.name == "spacing")
    assert spacing.to_dict() == {
        "name": "spacing",
        "type": "choice",
        "default": "arithmetic",
        "min": None,
        "max": None,
        "choices": ["arithmetic", "geometric"],
        "unit": "",
        "description": spacing.description,
        "group": "grid",
        "search_min": None,
        "search_max": None,
    }


def test_defaults_keep_their_json_types() -> None:
    params = {p.name: p for p in MacdDcaStrategy.definition.parameters}
    assert type(params["macd_fast"].default) is int
    assert type(params["initial_buy_pct"].default) is float
    assert params["safety_order_count"].to_dict()["default"] == 0
    assert params["take_profit_pct"].to_dict()["unit"] == "%"
    assert params["take_profit_pct"].group == "risk"
