"""Optuna studies: the sampler, and in-memory or shared (RDB) storage.

With ``--storage URL --study NAME`` every machine running the same command works on one
study in that database (Optuna's RDB storage; the study is created by whoever comes
first). The study remembers what it searches (strategy, objective, space, base config,
product, timeframe, fees, budget, train window and a fingerprint of its candles): a
machine that arrives with a different setup is refused rather than mixing incomparable
scores.

Samplers: ``tpe`` (default; multivariate, which models parameters that interact, such
as oversold and overbought, and costs less per trial than the univariate form) starts
with ``startup_trials(N)`` random trials; ``random`` costs almost nothing per trial.
A study that is resumed offsets the seed by the trials it already holds, so a seeded
run does not propose the configs it already tried again.
"""

from __future__ import annotations

import json
from typing import Any

import optuna
from optuna.samplers import BaseSampler, RandomSampler, TPESampler
from optuna.storages import RDBStorage
from optuna.study import StudyDirection
from sqlalchemy.exc import SQLAlchemyError

from tradefleet.db.session import normalise_url
from tradefleet.redact import redact_text, redact_url

SAMPLERS = ("tpe", "random")
SETUP_ATTR = "tradefleet_setup"


class StudyError(ValueError):
    """The storage cannot be opened, or the stored study searches something else."""


def startup_trials(trials: int) -> int:
    """Random trials before TPE models the results: a tenth of the run, 10 to 100."""
    return max(10, min(trials // 10, 100))


def make_sampler(kind: str, seed: int | None, trials: int) -> BaseSampler:
    if kind == "random":
        return RandomSampler(seed=seed)
    if kind == "tpe":
        return TPESampler(seed=seed, n_startup_trials=startup_trials(trials), multivariate=True)
    raise StudyError(f"--sampler: {kind!r} is not one of: {', '.join(SAMPLERS)}")


def open_study(
    *,
    storage: str | None,
    name: str | None,
    sampler: str,
    seed: int | None,
    trials: int,
    setup: dict[str, Any],
) -> optuna.Study:
    """A maximising study: new in memory, or created/loaded in ``storage`` under ``name``."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if storage is None:
        study = optuna.create_study(
            direction="maximize", sampler=make_sampler(sampler, seed, trials), study_name=name
        )
        study.set_user_attr(SETUP_ATTR, _json(setup))
        return study
    if not name:
        raise StudyError("--storage needs --study NAME: the study every machine joins")
    rdb = open_storage(storage)
    offset = _trial_count(rdb, name)
    study = optuna.create_study(
        storage=rdb,
        study_name=name,
        load_if_exists=True,
        direction="maximize",
        sampler=make_sampler(sampler, None if seed is None else seed + offset, trials),
    )
    _check_setup(study, _json(setup))
    return study


def open_storage(url: str) -> RDBStorage:
    """Optuna's RDB storage on ``url`` (``postgresql://`` uses psycopg 3, like the app)."""
    try:
        return RDBStorage(normalise_url(url))
    except (SQLAlchemyError, ImportError, ValueError) as error:
        raise StudyError(
            f"--storage {redact_url(url)}: cannot open ({redact_text(_first_line(error))})"
        ) from None


def _trial_count(storage: RDBStorage, name: str) -> int:
    try:
        return storage.get_n_trials(storage.get_study_id_from_name(name))
    except KeyError:
        return 0


def _check_setup(study: optuna.Study, setup: dict[str, Any]) -> None:
    if study.direction is not StudyDirection.MAXIMIZE:
        raise StudyError(f"study {study.study_name!r} minimises; tradefleet studies maximise")
    stored = study.user_attrs.get(SETUP_ATTR)
    if stored is None:
        if study.trials:
            raise StudyError(f"study {study.study_name!r} was not made by tradefleet optimize")
        study.set_user_attr(SETUP_ATTR, setup)
        return
    differs = sorted(
        key for key in setup.keys() | stored.keys() if setup.get(key) != stored.get(key)
    )
    if differs:
        raise StudyError(
            f"study {study.study_name!r} searches with a different {', '.join(differs)}: "
            "use the same options and data on every machine, or another --study name"
        )


def _json(value: dict[str, Any]) -> dict[str, Any]:
    """As the storage gives it back (tuples become lists)."""
    loaded: dict[str, Any] = json.loads(json.dumps(value))
    return loaded


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
