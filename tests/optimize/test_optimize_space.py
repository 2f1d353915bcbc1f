"""The search space: one distribution per parameter type, ranges, and invalid combinations."""

from __future__ import annotations

from decimal import Decimal

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from tradefleet.optimize.space import (
    SpaceError,
    build_space,
    default_names,
    distribution,
    max_warmup,
    parse_ranges,
)
from tradefleet.strategies import StrategyConfigError, StrategyParameter, StrategyRegistry

RSI = StrategyRegistry.get("rsi")
GRID = StrategyRegistry.get("grid")
BUDGET = Decimal(1000)


def _param(name: str, strategy: str) -> StrategyParameter:
    parameters = StrategyRegistry.get(strategy).definition.parameters
    return next(p for p in parameters if p.name == name)


def test_each_parameter_type_maps_to_its_distribution() -> None:
    assert distribution(_param("rsi_period", strategy="rsi")) == IntDistribution(5, 30)
    assert distribution(_param("oversold", strategy="rsi")) == FloatDistribution(10.0, 40.0)
    spacing = distribution(_param("spacing", strategy="grid"))
    assert spacing == CategoricalDistribution(("arithmetic", "geometric"))
    flag = StrategyParameter(name="flag", type="bool", default=False)
    assert distribution(flag) == CategoricalDistribution((False, True))


def test_ranges_narrow_within_the_definition() -> None:
    oversold = _param("oversold", strategy="rsi")
    assert distribution(oversold, (20.0, 40.0)) == FloatDistribution(20.0, 40.0)
    period = _param("rsi_period", strategy="rsi")
    assert distribution(period, (5.0, 9.0)) == IntDistribution(5, 9)
    with pytest.raises(SpaceError, match=r"--range oversold: 0 must be at least 1"):
        distribution(oversold, (0.0, 40.0))
    with pytest.raises(SpaceError, match="LOW must be below HIGH"):
        distribution(oversold, (40.0, 20.0))
    with pytest.raises(SpaceError, match="needs whole bounds"):
        distribution(period, (5.0, 9.5))
    with pytest.raises(SpaceError, match="a choice parameter has no numeric range"):
        distribution(_param("spacing", strategy="grid"), (1.0, 2.0))


def test_an_unbounded_parameter_needs_a_range() -> None:
    lower = _param("lower_price", strategy="grid")
    with pytest.raises(SpaceError, match=r"no upper bound .* --range lower_price=LOW:HIGH"):
        distribution(lower)
    assert distribution(lower, (0.01, 0.05)) == FloatDistribution(0.01, 0.05)


def test_parse_ranges() -> None:
    assert parse_ranges(["oversold=20:40", " rsi_period = 5:9"]) == {
        "oversold": (20.0, 40.0),
        "rsi_period": (5.0, 9.0),
    }
    for bad in ("oversold", "oversold=20", "oversold=a:b", "oversold=1:inf"):
        with pytest.raises(SpaceError, match="NAME=LOW:HIGH"):
            parse_ranges([bad])
    with pytest.raises(SpaceError, match="given twice"):
        parse_ranges(["oversold=1:2", "oversold=3:4"])


def test_default_search_is_the_signal_entry_exit_parameters() -> None:
    expected = [
        "rsi_period", "oversold", "overbought", "buy_amount_pct", "max_position_pct",
        "profit_target_pct",
    ]  # fmt: skip
    assert default_names(RSI) == expected
    space = build_space(RSI, {"safety_order_count": 2})
    assert space.names == expected
    assert space.base_config["safety_order_count"] == 2  # not searched: kept from --config
    assert space.config({"oversold": 25.0})["oversold"] == 25.0


def test_build_space_rejects_what_cannot_be_searched() -> None:
    with pytest.raises(SpaceError, match="rsi has no parameter 'nope'"):
        build_space(RSI, {}, ["nope"])
    with pytest.raises(SpaceError, match="named twice"):
        build_space(RSI, {}, ["oversold", "oversold"])
    with pytest.raises(SpaceError, match="grid has no signal/entry/exit parameters"):
        build_space(GRID, {})
    with pytest.raises(StrategyConfigError, match="rsi_period"):
        build_space(RSI, {"rsi_period": 1})
    ranged = build_space(RSI, {}, ["oversold"], {"overbought": (60.0, 80.0)})
    assert ranged.names == ["oversold", "overbought"]  # a ranged parameter is searched too


def test_check_names_the_broken_rule_and_accepts_valid_combinations() -> None:
    space = build_space(RSI, {})
    assert space.check({"oversold": 30.0, "overbought": 70.0}, BUDGET, 10_000) == ""
    assert space.check({"oversold": 70.0, "overbought": 70.0}, BUDGET, 10_000) == (
        "oversold: must be less than overbought"
    )
    assert space.check({"buy_amount_pct": 60.0, "max_position_pct": 50.0}, BUDGET, 10_000) == (
        "buy_amount_pct: must not exceed max_position_pct (50)"
    )
    # rsi_period 100 needs 2623 candles of warm-up: 2622 before the first traded one.
    assert space.check({"rsi_period": 100}, BUDGET, 2622) == ""
    assert space.check({"rsi_period": 100}, BUDGET, 2621) == (
        "needs 2623 candles of warm-up, the data has 2622"
    )


def test_max_warmup_covers_the_longest_period_in_the_space() -> None:
    # The default search range of rsi_period ends at 30, not at its bound 100.
    assert max_warmup(build_space(RSI, {})) == RSI({"rsi_period": 30}).warmup() == 780
    assert max_warmup(build_space(RSI, {}, None, {"rsi_period": (5.0, 20.0)})) == 516
    assert max_warmup(build_space(RSI, {}, None, {"rsi_period": (5.0, 100.0)})) == 2623
    # ema_cross: fast 50 with slow 200 is valid; slow 200 alone is the longest.
    ema = StrategyRegistry.get("ema_cross")
    assert max_warmup(build_space(ema, {})) == ema({"slow_period": 200}).warmup()
    assert max_warmup(build_space(ema, {})) < ema({"slow_period": 500}).warmup()
