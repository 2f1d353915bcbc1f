"""Default search ranges: inside the validation bounds, narrower than them, and checked when
a parameter is defined."""

from __future__ import annotations

import json
import re

import pytest
from pydantic import ValidationError

from tradefleet.strategies import StrategyParameter, StrategyRegistry

ALL = [(cls.definition.id, p) for cls in StrategyRegistry.all() for p in cls.definition.parameters]
NUMERIC = [(sid, p) for sid, p in ALL if p.type in {"int", "float"}]
# Amounts in quote currency and grid prices depend on the pair: no sensible default exists.
WITHOUT_SEARCH_RANGE = {
    ("grid", "lower_price"),
    ("grid", "upper_price"),
    ("grid", "quote_per_level"),
    ("simple_dca", "buy_amount"),
}


def _param(strategy_id: str, name: str) -> StrategyParameter:
    parameters = StrategyRegistry.get(strategy_id).definition.parameters
    return next(p for p in parameters if p.name == name)


def test_every_numeric_parameter_with_bounds_has_a_search_range() -> None:
    missing = {(sid, p.name) for sid, p in NUMERIC if p.search_range is None}
    assert missing == WITHOUT_SEARCH_RANGE
    assert all(p.max is None for sid, p in NUMERIC if (sid, p.name) in WITHOUT_SEARCH_RANGE)
    assert all(p.search_range is None for _, p in ALL if p.type in {"bool", "choice"})


@pytest.mark.parametrize(("strategy_id", "param"), NUMERIC, ids=lambda v: getattr(v, "name", v))
def test_search_range_lies_within_the_bounds_and_is_narrower(
    strategy_id: str, param: StrategyParameter
) -> None:
    if param.search_range is None:
        return
    low, high = param.search_range
    assert param.min is not None and param.max is not None
    assert param.min <= low < high <= param.max
    assert (low, high) != (param.min, param.max)  # else it would not need one
    assert param.check(param.search_min) == (param.search_min, "")
    assert param.check(param.search_max) == (param.search_max, "")
    if param.type == "int":
        assert type(param.search_min) is int and type(param.search_max) is int
    # The default is a value worth trying, or 0 = off (take profit, stop loss, trailing).
    assert isinstance(param.default, (int, float))
    assert low <= param.default <= high or param.default == 0


def test_exact_search_ranges_of_the_usual_suspects() -> None:
    expected = {
        ("rsi", "take_profit_pct"): (0.5, 10.0),
        ("rsi", "stop_loss_pct"): (1.0, 30.0),
        ("rsi", "trailing_deviation_pct"): (0.2, 3.0),
        ("rsi", "safety_order_deviation_pct"): (0.5, 5.0),
        ("rsi", "safety_order_volume_scale"): (1.0, 2.5),
        ("rsi", "safety_order_step_scale"): (1.0, 2.0),
        ("rsi", "safety_order_count"): (0.0, 10.0),
        ("rsi", "cooldown_minutes"): (0.0, 1440.0),
        ("rsi", "rsi_period"): (5.0, 30.0),
        ("rsi", "oversold"): (10.0, 40.0),
        ("rsi", "overbought"): (60.0, 90.0),
        ("rsi", "profit_target_pct"): (0.0, 5.0),
        ("rsi", "buy_amount_pct"): (2.0, 25.0),
        ("bollinger", "bb_std"): (1.0, 3.0),
        ("bollinger", "bb_period"): (10.0, 50.0),
        ("ema_cross", "slow_period"): (20.0, 200.0),
        ("macd_dca", "macd_signal"): (5.0, 15.0),
        ("simple_dca", "take_profit_pct"): (0.5, 10.0),
    }
    assert {key: _param(*key).search_range for key in expected} == expected


def test_the_shared_deal_parameters_have_the_same_range_in_every_strategy() -> None:
    ranges: dict[str, set[tuple[float, float] | None]] = {}
    for _, param in NUMERIC:
        ranges.setdefault(param.name, set()).add(param.search_range)
    assert ranges["take_profit_pct"] == {(0.5, 10.0)}
    assert ranges["max_position_pct"] == {(10.0, 100.0)}


def test_the_definition_serves_its_search_range() -> None:
    served = json.loads(json.dumps(_param("rsi", "take_profit_pct").to_dict()))
    assert (served["min"], served["max"]) == (0, 1000)
    assert (served["search_min"], served["search_max"]) == (0.5, 10)
    period = _param("rsi", "rsi_period").to_dict()
    assert (period["search_min"], period["search_max"]) == (5, 30)


def _define(**fields: object) -> StrategyParameter:
    base: dict[str, object] = {"name": "tp", "type": "float", "default": 1.0, "min": 0, "max": 100}
    return StrategyParameter.model_validate(base | fields)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"search_min": 0.5, "search_max": 200},
            "tp: search range must lie within the parameter's bounds: "
            "search_max 200 must be at most 100",
        ),
        (
            {"search_min": -1, "search_max": 10},
            "tp: search range must lie within the parameter's bounds: "
            "search_min -1 must be at least 0",
        ),
        (
            {"search_min": 10, "search_max": 10},
            "tp: search range search_min 10 must be below search_max 10",
        ),
        (
            {"search_min": 20, "search_max": 10.5},
            "tp: search range search_min 20 must be below search_max 10.5",
        ),
        (
            {"search_min": 0.5},
            "tp: search range needs both search_min and search_max, not only search_min",
        ),
        (
            {"search_max": 10},
            "tp: search range needs both search_min and search_max, not only search_max",
        ),
        (
            {"search_min": 0.5, "search_max": float("inf")},
            "tp: search range search_max must be a finite number",
        ),
        (
            {"type": "int", "default": 1, "search_min": 1, "search_max": 9.5},
            "tp: search range search_max of an int parameter must be a whole number",
        ),
        (
            {"type": "bool", "default": True, "min": None, "max": None,
             "search_min": 0, "search_max": 1},
            "tp: search range not allowed: a bool parameter has no numeric range",
        ),
        (
            {"type": "choice", "default": "a", "choices": ("a", "b"), "min": None, "max": None,
             "search_min": 0, "search_max": 1},
            "tp: search range not allowed: a choice parameter has no numeric range",
        ),
    ],
)  # fmt: skip
def test_a_bad_search_range_cannot_be_defined(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        _define(**fields)


def test_a_good_search_range_is_kept_exactly() -> None:
    param = _define(search_min=0.5, search_max=10)
    assert (param.search_min, param.search_max, param.search_range) == (0.5, 10, (0.5, 10.0))
    assert _define(min=None, max=None, search_min=0.5, search_max=10).search_range == (0.5, 10.0)
    whole = _define(type="int", default=3, min=1, max=50, search_min=2.0, search_max=9)
    assert whole.search_range == (2.0, 9.0)
    # Without one, nothing changes: the optimiser searches the bounds.
    assert _define().search_range is None
