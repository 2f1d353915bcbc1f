"""Shared studies in Optuna's RDB storage: an SQLite file always, PostgreSQL when
TRADEFLEET_TEST_DATABASE_URL names a server (the ``database_url`` fixture skips it
otherwise and the summary says so)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import optuna
import pytest
from optimize_testkit import SETUP, random_walk, rsi_request
from optuna.trial import TrialState

from tradefleet.optimize.runner import optimize
from tradefleet.optimize.search import params_key
from tradefleet.optimize.study import StudyError, open_storage

CANDLES = random_walk(3000)


def _stored(url: str, name: str) -> list[tuple[int, str, str]]:
    study = optuna.load_study(study_name=name, storage=open_storage(url))
    return [(t.number, params_key(t.params), t.state.name) for t in study.get_trials()]


def test_a_stored_study_resumes_where_it_stopped(database_url: str) -> None:
    first = optimize(rsi_request(CANDLES, trials=4, storage=database_url, study="rsi-eth"))
    assert first.folds[0].completed == 4
    before = _stored(database_url, "rsi-eth")
    # The same seed without storage proposes the same configs: storage changes nothing.
    alone = optimize(rsi_request(CANDLES, trials=4))
    assert [b.params for b in alone.folds[0].best] == [b.params for b in first.folds[0].best]

    second = optimize(rsi_request(CANDLES, trials=3, storage=database_url, study="rsi-eth"))
    assert second.folds[0].completed == 7  # both runs' configs, judged together
    after = _stored(database_url, "rsi-eth")
    assert after[: len(before)] == before
    complete = [key for _, key, state in after if state == TrialState.COMPLETE.name]
    assert len(complete) == len(set(complete)) == 7  # the seed was offset: no repeats
    best_numbers = {b.trial_number for b in second.folds[0].best}
    assert best_numbers <= {number for number, _, _ in after}


def test_a_study_with_another_setup_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/studies.db"
    optimize(rsi_request(CANDLES, trials=2, storage=url, study="s"))
    other = rsi_request(
        CANDLES, trials=2, storage=url, study="s", setup=replace(SETUP, objective="profit")
    )
    with pytest.raises(StudyError, match="searches with a different objective"):
        optimize(other)
    with pytest.raises(StudyError, match="a different data, train: use the same options"):
        optimize(rsi_request(random_walk(3100), trials=2, storage=url, study="s"))


def test_storage_errors_are_one_line_without_the_password() -> None:
    with pytest.raises(StudyError) as refused:
        open_storage("postgresql://trader:hunter2@127.0.0.1:1/nowhere")
    message = str(refused.value)
    assert message.startswith("--storage postgresql://***@127.0.0.1:1/nowhere: cannot open")
    assert "hunter2" not in message and "\n" not in message
    with pytest.raises(StudyError, match="--storage nosuch://x: cannot open"):
        open_storage("nosuch://x")
