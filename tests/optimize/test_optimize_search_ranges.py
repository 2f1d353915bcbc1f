"""The optimiser searches each parameter's default search range, not its validation bounds;
``--range`` replaces it with any span inside the bounds."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers import RandomSampler, TPESampler

from tradefleet.optimize.space import SpaceError, build_space, distribution, parse_ranges
from tradefleet.strategies import StrategyParameter, StrategyRegistry

RSI = StrategyRegistry.get("rsi")
RSI_DEFAULT_SPACE = {
    "rsi_period": IntDistribution(5, 30),
    "oversold": FloatDistribution(10.0, 40.0),
    "overbought": FloatDistribution(60.0, 90.0),
    "buy_amount_pct": FloatDistribution(2.0, 25.0),
    "max_position_pct": FloatDistribution(10.0, 100.0),
    "profit_target_pct": FloatDistribution(0.0, 5.0),
}
DEAL_NAMES = [
    "safety_order_count", "safety_order_deviation_pct", "safety_order_volume_scale",
    "take_profit_pct", "stop_loss_pct", "trailing_deviation_pct", "cooldown_minutes",
]  # fmt: skip


def test_the_default_space_is_built_from_the_search_ranges() -> None:
    space = build_space(RSI, {})
    assert space.distributions == RSI_DEFAULT_SPACE
    assert space.describe()["profit_target_pct"] == ["float", 0.0, 5.0]  # was 0..1000
    assert space.summary() == (
        "rsi_period 5..30, oversold 10..40, overbought 60..90, buy_amount_pct 2..25, "
        "max_position_pct 10..100, profit_target_pct 0..5"
    )


def test_deal_and_risk_parameters_use_their_search_ranges_too() -> None:
    space = build_space(RSI, {"take_profit_pct": 2.0}, DEAL_NAMES)
    assert space.distributions == {
        "safety_order_count": IntDistribution(0, 10),
        "safety_order_deviation_pct": FloatDistribution(0.5, 5.0),
        "safety_order_volume_scale": FloatDistribution(1.0, 2.5),
        "take_profit_pct": FloatDistribution(0.5, 10.0),
        "stop_loss_pct": FloatDistribution(1.0, 30.0),
        "trailing_deviation_pct": FloatDistribution(0.2, 3.0),
        "cooldown_minutes": IntDistribution(0, 1440),
    }
    assert build_space(StrategyRegistry.get("grid"), {}, ["levels", "spacing"]).distributions == {
        "levels": IntDistribution(5, 50),
        "spacing": CategoricalDistribution(("arithmetic", "geometric")),
    }


def test_every_built_in_distribution_is_its_search_range() -> None:
    for cls in StrategyRegistry.all():
        for param in cls.definition.parameters:
            if param.search_range is None:
                continue
            dist = distribution(param)
            kind = IntDistribution if param.type == "int" else FloatDistribution
            assert isinstance(dist, kind), param.name
            assert (dist.low, dist.high) == param.search_range, param.name


def test_without_a_search_range_the_bounds_are_searched() -> None:
    plain = StrategyParameter(name="n", type="int", default=3, min=1, max=9)
    assert distribution(plain) == IntDistribution(1, 9)
    ranged = plain.model_copy(update={"search_min": 2, "search_max": 4})
    assert distribution(ranged) == IntDistribution(2, 4)


def test_range_overrides_the_search_range_anywhere_within_the_bounds() -> None:
    ranges = parse_ranges(["profit_target_pct=0:50", "oversold=1:45", "rsi_period=8:12"])
    space = build_space(RSI, {}, None, ranges)
    assert space.distributions == {
        **RSI_DEFAULT_SPACE,
        "profit_target_pct": FloatDistribution(0.0, 50.0),  # wider than the default 0..5
        "oversold": FloatDistribution(1.0, 45.0),  # down to the bound 1
        "rsi_period": IntDistribution(8, 12),  # narrower
    }
    wide = build_space(RSI, {}, ["take_profit_pct"], parse_ranges(["take_profit_pct=0:1000"]))
    assert wide.distributions == {"take_profit_pct": FloatDistribution(0.0, 1000.0)}
    with pytest.raises(SpaceError, match=r"^--range take_profit_pct: 1001 must be at most 1000$"):
        build_space(RSI, {}, None, parse_ranges(["take_profit_pct=1:1001"]))
    with pytest.raises(SpaceError, match=r"^--range oversold: 0.5 must be at least 1$"):
        build_space(RSI, {}, None, parse_ranges(["oversold=0.5:40"]))


@pytest.mark.parametrize("sampler", [RandomSampler(seed=1), TPESampler(seed=1)])
def test_sampled_values_stay_within_the_default_search_range(
    sampler: optuna.samplers.BaseSampler,
) -> None:
    space = build_space(RSI, {}, [*RSI_DEFAULT_SPACE, "take_profit_pct", "stop_loss_pct"])
    study = optuna.create_study(direction="maximize", sampler=sampler)
    for _ in range(60):
        trial = study.ask(space.distributions)
        study.tell(trial, float(trial.params["oversold"]))
    trials = study.get_trials(deepcopy=False)
    assert all(t.distributions == space.distributions for t in trials)
    for name, dist in space.distributions.items():
        assert isinstance(dist, (IntDistribution, FloatDistribution))
        values = [t.params[name] for t in trials]
        assert dist.low <= min(values) and max(values) <= dist.high, name
    assert max(t.params["take_profit_pct"] for t in trials) <= 10.0
    assert min(t.params["take_profit_pct"] for t in trials) >= 0.5
    assert max(t.params["rsi_period"] for t in trials) <= 30
