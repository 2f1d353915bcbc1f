"""The search: deterministic across job counts, invalid combinations pruned, failures kept,
and every reported figure equal to a plain backtest of the same config."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import optuna
import pytest
from optimize_testkit import BUDGET, PRODUCT, SETUP, random_walk, rsi_request
from optuna.trial import TrialState

from tradefleet.backtest.data import slice_candles
from tradefleet.backtest.runner import run_backtest
from tradefleet.domain import FeeSchedule
from tradefleet.optimize.evaluate import pick_engine
from tradefleet.optimize.objectives import Score
from tradefleet.optimize.runner import OptimizeResult, best_trials, optimize
from tradefleet.optimize.search import params_key
from tradefleet.optimize.space import build_space, parse_ranges
from tradefleet.strategies import StrategyRegistry

CANDLES = random_walk(3000)


def _run(request: Any) -> tuple[OptimizeResult, optuna.Study]:
    """The result and the (in-memory) study of one run."""
    captured: list[optuna.Study] = []
    original = optuna.create_study

    def spy(*args: Any, **kwargs: Any) -> optuna.Study:
        study = original(*args, **kwargs)
        captured.append(study)
        return study

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(optuna, "create_study", spy)
        result = optimize(request)
    return result, captured[0]


def _trials(request: Any) -> list[tuple[int, str, str, float | None, Any]]:
    """(number, params, state, value, train figures) of every trial, in asking order."""
    return [
        (t.number, params_key(t.params), t.state.name, t.value, t.user_attrs.get("train"))
        for t in _run(request)[1].get_trials(deepcopy=False)
    ]


def test_seeded_random_search_is_the_same_with_one_or_two_jobs() -> None:
    one = _trials(rsi_request(CANDLES, jobs=1))
    two = _trials(rsi_request(CANDLES, jobs=2))
    assert one == two
    assert sum(1 for t in one if t[2] == "COMPLETE") == 10
    assert len({t[1] for t in one}) == len(one)  # the seed gives distinct configs


def test_invalid_combinations_are_pruned_without_a_backtest() -> None:
    result, study = _run(rsi_request(CANDLES, trials=8))
    stats = result.folds[0].stats
    assert (stats.evaluated, stats.failed) == (8, 0)
    invalid = [t for t in study.get_trials(deepcopy=False) if "invalid" in t.user_attrs]
    assert len(invalid) == stats.invalid > 0  # about 1 proposal in 20 breaks a rule
    for trial in invalid:
        p = trial.params
        assert trial.state is TrialState.FAIL and "train" not in trial.user_attrs
        assert p["oversold"] >= p["overbought"] or p["buy_amount_pct"] > p["max_position_pct"]
    assert stats.first_invalid == invalid[0].user_attrs["invalid"]
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    assert len(done) == 8
    for trial in done:
        p = trial.params
        assert p["oversold"] < p["overbought"] and p["buy_amount_pct"] <= p["max_position_pct"]


def test_reported_figures_equal_a_plain_backtest_in_and_out_of_sample() -> None:
    request = rsi_request(CANDLES, trials=6, setup=replace(SETUP, objective="profit"))
    result = optimize(request)
    fold = result.folds[0].fold
    best = result.folds[0].best
    assert len(best) == 3
    assert [b.train.objective for b in best] == sorted((b.train.objective for b in best),
                                                        reverse=True)  # fmt: skip
    for ranked in best:
        for window, judged in ((fold.train, ranked.train), (fold.test, ranked.test)):
            plain = run_backtest(
                "rsi", ranked.config, slice_candles(CANDLES, 0, window.end), PRODUCT, BUDGET,
                FeeSchedule(), timeframe="5m", start=window.begin, engine="reference",
            ).metrics  # fmt: skip
            assert judged == Score(
                objective=plain.total_return_pct, return_pct=plain.total_return_pct,
                max_drawdown_pct=plain.max_drawdown_pct, deals=plain.deals, sharpe=plain.sharpe,
            )  # fmt: skip
    assert result.chosen == best[0]


def test_a_failing_backtest_is_a_failed_trial_not_a_crash() -> None:
    request = rsi_request(CANDLES, trials=3, setup=replace(SETUP, engine="no-such-engine"))
    result = optimize(request)
    stats = result.folds[0].stats
    assert (stats.evaluated, stats.failed) == (3, 3)
    assert stats.first_failure.startswith("ValueError: unknown backtest engine 'no-such-engine'")
    assert result.folds[0].best == [] and result.chosen is None


def test_a_repeated_config_is_scored_from_memory() -> None:
    space = build_space(
        StrategyRegistry.get("rsi"), {}, ["rsi_period"], parse_ranges(["rsi_period=10:11"])
    )
    result = optimize(rsi_request(CANDLES, space=space, trials=6, top=5))
    stats = result.folds[0].stats
    assert (stats.evaluated, stats.repeated, stats.invalid) == (6, 4, 0)
    best = result.folds[0].best
    assert sorted(b.params["rsi_period"] for b in best) == [10, 11]  # one row per config


def test_best_trials_ranks_by_value_and_skips_repeats() -> None:
    study = optuna.create_study(direction="maximize")
    period = {"rsi_period": optuna.distributions.IntDistribution(2, 100)}
    for value, rsi_period in ((1.0, 5), (3.0, 6), (3.0, 7), (3.0, 6), (2.0, 8), (None, 9)):
        study.enqueue_trial({"rsi_period": rsi_period})
        trial = study.ask(period)
        if value is None:
            study.tell(trial, state=TrialState.FAIL)
            continue
        trial.set_user_attr("train", {"objective": value})
        study.tell(trial, value)
    ranked = best_trials(study, 3)
    assert [(t.number, t.params["rsi_period"]) for t in ranked] == [(1, 6), (2, 7), (4, 8)]


def test_pick_engine_prefers_a_registered_fast_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    from tradefleet.optimize import evaluate

    monkeypatch.setattr(evaluate, "load_engines", lambda: ["reference"])
    assert pick_engine() == "reference"
    monkeypatch.setattr(evaluate, "load_engines", lambda: ["kernel", "reference"])
    assert pick_engine() == "kernel"
    assert pick_engine("reference") == "reference"
    with pytest.raises(ValueError, match="unknown backtest engine 'nope'; known: kernel"):
        pick_engine("nope")
