"""How backtest runs live: at most two at once in worker threads while the API keeps
answering, progress, stopping (delete, shutdown), restarts, and failed runs' messages."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from api_testkit import ADMIN_PASSWORD, RecordingEngine, make_settings
from backtests_testkit import ROWS, T0, backtest_payload, wait_until_finished, write_candles
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.api.app import create_app
from tradefleet.api.deps import ApiContext
from tradefleet.backtest import jobs as jobs_module
from tradefleet.backtest.jobs import BacktestJobs
from tradefleet.backtest.requests import BacktestRequest
from tradefleet.config import Settings
from tradefleet.db.models import Backtest


@pytest.fixture
def candle_dir(tmp_path: Path) -> Path:
    return tmp_path / "candles"


@pytest.fixture
def settings(candle_dir: Path) -> Settings:
    return make_settings(admin_password=SecretStr(ADMIN_PASSWORD), candle_dir=candle_dir)


def _jobs(app: FastAPI) -> BacktestJobs:
    context = app.state.context
    assert isinstance(context, ApiContext)
    return context.backtests


@pytest.fixture(autouse=True)
def _stop_runs(app: FastAPI) -> Iterator[None]:
    yield
    _jobs(app).shutdown()


class Gate:
    """Stands in for the backtest: reports 1/4 done, then waits for ``release`` (reporting
    again and again, as the engine does), then runs the real backtest."""

    def __init__(self, real: Callable[..., dict[str, Any]]) -> None:
        self.real = real
        self.release = threading.Event()
        self.started: list[int] = []  # runs by budget, in start order
        self.running = 0
        self.peak = 0
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def __call__(
        self, request: BacktestRequest, path: Path, progress: Callable[[int, int], None]
    ) -> dict[str, Any]:
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.started.append(int(request.budget))
            self.threads.add(threading.current_thread().name)
        try:
            progress(1, 4)
            while not self.release.wait(0.005):
                progress(1, 4)
            return self.real(request, path, progress)
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Gate:
    gate = Gate(jobs_module.backtest_document)
    monkeypatch.setattr(jobs_module, "PROGRESS_INTERVAL", 0.0)
    monkeypatch.setattr(jobs_module, "backtest_document", gate)
    return gate


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


def _states(api: TestClient) -> dict[int, tuple[str, float]]:
    return {r["id"]: (r["status"], r["progress"]) for r in api.get("/api/backtests").json()["data"]}


def test_two_runs_at_a_time_in_worker_threads_while_the_api_answers(
    api: TestClient, candle_dir: Path, gate: Gate
) -> None:
    write_candles(candle_dir)
    for budget in ("1000", "2000", "3000"):
        assert api.post("/api/backtests", json=backtest_payload(budget=budget)).status_code == 202
    _until(lambda: len(gate.started) == 2)
    _until(lambda: _states(api) == {1: ("running", 0.25), 2: ("running", 0.25), 3: ("queued", 0)})
    assert gate.threads <= {"backtest_0", "backtest_1"}
    gate.release.set()
    finished = [wait_until_finished(api, run_id) for run_id in (1, 2, 3)]
    assert [(r["status"], r["metrics"]["budget"]) for r in finished] == [
        ("done", "1000"),
        ("done", "2000"),
        ("done", "3000"),
    ]
    # the first two start together, in either order (two workers); the third waits
    assert (gate.peak, sorted(gate.started[:2]), gate.started[2:]) == (2, [1000, 2000], [3000])


def test_deleting_a_run_stops_it(
    api: TestClient, app: FastAPI, candle_dir: Path, gate: Gate
) -> None:
    write_candles(candle_dir)
    for budget in ("1000", "2000", "3000"):
        api.post("/api/backtests", json=backtest_payload(budget=budget))
    _until(lambda: len(gate.started) == 2)
    assert api.delete("/api/backtests/3").status_code == 204  # queued: never starts
    assert api.delete("/api/backtests/1").status_code == 204  # running: stops
    _until(lambda: _jobs(app).active() == [2])
    assert gate.running == 1
    gate.release.set()
    assert wait_until_finished(api, 2)["status"] == "done"
    assert [r["id"] for r in api.get("/api/backtests").json()["data"]] == [2]
    assert sorted(gate.started) == [1000, 2000]  # two workers: either may start first


def test_a_server_stop_ends_running_runs_and_a_restart_fails_unfinished_ones(
    api: TestClient,
    app: FastAPI,
    candle_dir: Path,
    gate: Gate,
    session_factory: sessionmaker[Session],
) -> None:
    write_candles(candle_dir)
    for budget in ("1000", "2000", "3000"):
        api.post("/api/backtests", json=backtest_payload(budget=budget))
    _until(lambda: len(gate.started) == 2)
    _jobs(app).shutdown()
    assert gate.running == 0
    stopped = "stopped before it finished (the server shut down)"
    assert [(r["status"], r["error"]) for r in api.get("/api/backtests").json()["data"]] == [
        ("queued", None),
        ("failed", stopped),
        ("failed", stopped),
    ]
    with session_factory() as session:
        session.add(Backtest(status="running", request={}, started_at=datetime.now(UTC)))
        session.commit()
    create_app(app.state.context.settings, session_factory, RecordingEngine())  # a restart
    with session_factory() as session:
        rows = session.execute(select(Backtest.id, Backtest.status, Backtest.error)).all()
        restarted = session.scalars(select(Backtest.finished_at).where(Backtest.id >= 3)).all()
    assert sorted(rows) == [
        (1, "failed", stopped),
        (2, "failed", stopped),
        (3, "failed", "interrupted by a restart"),
        (4, "failed", "interrupted by a restart"),
    ]
    assert all(moment is not None for moment in restarted)


GAP_ROWS = [row for row in ROWS if row[0] != T0 + 180]


@pytest.mark.parametrize(
    ("rows", "change", "message"),
    [
        (GAP_ROWS, {}, "BTC-USD_1m.csv:5: 1 missing 1m candle(s) between 2023-11-14 22:00 UTC "
         'and 2023-11-14 22:02 UTC (first of 1 gap(s)); set "allow_gaps": true to backtest '
         "anyway"),
        (ROWS, {"start": T0 + 3600, "end": T0 + 7200}, "BTC-USD_1m.csv: no candles in the "
         "requested period (the data covers 2023-11-14 21:58 UTC .. 2023-11-14 22:03 UTC)"),
    ],
    ids=["gap", "outside-the-data"],
)  # fmt: skip
def test_data_problems_fail_the_run_with_the_reason(
    api: TestClient,
    candle_dir: Path,
    rows: list[tuple[int, float, float, float, float]],
    change: dict[str, Any],
    message: str,
) -> None:
    path = write_candles(candle_dir, rows)
    run = api.post("/api/backtests", json=backtest_payload(**change)).json()
    failed = wait_until_finished(api, run["id"])
    assert (failed["status"], failed["error"]) == ("failed", f"{path.parent}/{message}")
    assert (failed["metrics"], failed["trades"], failed["equity"]) == (None, None, None)


def test_allow_gaps_backtests_across_a_gap(api: TestClient, candle_dir: Path) -> None:
    write_candles(candle_dir, GAP_ROWS)
    run = api.post("/api/backtests", json=backtest_payload(allow_gaps=True)).json()
    done = wait_until_finished(api, run["id"])
    assert done["status"] == "done", done["error"]
    # The buy decided at the hour waits for the next candle present (T0 + 240, open 100).
    assert [(t["time"], t["side"], t["price"]) for t in done["trades"]] == [
        (T0 + 240, "buy", "100")
    ]


def test_a_deleted_file_and_an_unexpected_error_fail_the_run(
    api: TestClient, candle_dir: Path, gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_candles(candle_dir)
    api.post("/api/backtests", json=backtest_payload())
    _until(lambda: len(gate.started) == 1)
    path.unlink()
    gate.release.set()
    gone = wait_until_finished(api, 1)
    assert (gone["status"], gone["error"]) == ("failed", f"{path}: no such file")

    def boom(*_args: object) -> dict[str, Any]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(jobs_module, "backtest_document", boom)
    write_candles(candle_dir)
    api.post("/api/backtests", json=backtest_payload())
    broken = wait_until_finished(api, 2)
    assert (broken["status"], broken["error"]) == ("failed", "internal error; see the server log")
