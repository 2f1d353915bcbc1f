"""POST/GET/DELETE /api/backtests on SQLite and PostgreSQL: exact results of a tiny hand-made
candle file, equality with ``tradefleet backtest``, lists, fees, 401, 404 and 422."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_testkit import ADMIN_PASSWORD, make_settings, snapshot
from backtests_testkit import (
    CONFIG,
    EQUITY,
    T0,
    TRADES,
    backtest_payload,
    wait_until_finished,
    write_candles,
)
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tradefleet.api.deps import ApiContext
from tradefleet.cli import app as cli_app
from tradefleet.config import Settings

KNOWN = "bollinger, ema_cross, grid, macd_dca, rsi, simple_dca"
METRICS = {
    "start": T0 + 60, "end": T0 + 360, "candles": 5, "budget": "1000",
    "final_equity": "1000.98608349376", "pnl": "0.98608349376",
    "realized_pnl": "0.98608349376", "unrealized_pnl": "0",
    "total_return_pct": pytest.approx(0.098608349376), "buy_and_hold_return_pct": 1.0,
    "deals": 1, "deals_closed": 1, "deals_open": 0, "win_rate_pct": 100.0,
    "avg_deal_duration_seconds": 60.0, "max_deal_duration_seconds": 60,
    "max_safety_orders_used": 0,
    "max_drawdown_pct": pytest.approx(0.0596421468),  # (1000 - 999.403578532) / 1000
    "exposure_pct": 20.0, "fills": 2, "fees_paid": "1.00198806624",
    "funds_needed_peak": "99.999999468",  # the buy's 99.403578 + fee 0.596421468
}  # fmt: skip


@pytest.fixture
def candle_dir(tmp_path: Path) -> Path:
    return tmp_path / "candles"


@pytest.fixture
def settings(candle_dir: Path) -> Settings:
    return make_settings(admin_password=SecretStr(ADMIN_PASSWORD), candle_dir=candle_dir)


@pytest.fixture(autouse=True)
def _stop_runs(app: FastAPI) -> Iterator[None]:
    """No run outlives its test (the PostgreSQL database is emptied for the next one)."""
    yield
    context = app.state.context
    assert isinstance(context, ApiContext)
    context.backtests.shutdown()


def _request_echo(**overrides: Any) -> dict[str, Any]:
    echo = {
        "strategy_type": "simple_dca", "strategy_config": CONFIG, "product_id": "BTC-USD",
        "timeframe": "1m", "budget": "1000", "start": "2023-11-14T21:58:00Z",
        "end": "2023-11-14T22:04:00Z", "allow_gaps": False, "fee_taker": "0.006",
        "fee_maker": "0.004", "slippage": "0",
    }  # fmt: skip
    echo.update(overrides)
    return echo


def test_a_run_is_queued_then_done_with_exact_results(api: TestClient, candle_dir: Path) -> None:
    write_candles(candle_dir)
    answer = api.post("/api/backtests", json=backtest_payload())
    assert answer.status_code == 202, answer.text
    queued = answer.json()
    created_at = queued.pop("created_at")
    assert queued == {
        **_request_echo(), "id": 1, "status": "queued", "progress": 0.0, "error": None,
        "started_at": None, "finished_at": None, "metrics": None,
    }  # fmt: skip
    done = wait_until_finished(api, 1)
    assert (done["status"], done["progress"], done["error"]) == ("done", 1.0, None)
    assert done["created_at"] == created_at
    assert created_at <= done["started_at"] <= done["finished_at"]
    assert done["trades"] == TRADES
    assert done["equity"] == EQUITY
    assert {k: v for k, v in done["metrics"].items() if k in METRICS} == METRICS
    assert done["metrics"]["sharpe"] > 0
    assert {k: done[k] for k in _request_echo()} == _request_echo()


def test_the_result_equals_the_cli_document(
    api: TestClient, candle_dir: Path, tmp_path: Path
) -> None:
    data = write_candles(candle_dir)
    run = api.post("/api/backtests", json=backtest_payload(fee_taker="0.005", slippage="0.001"))
    assert run.status_code == 202, run.text
    done = wait_until_finished(api, run.json()["id"])
    output = tmp_path / "cli.json"
    cli = CliRunner().invoke(cli_app, [
        "backtest", "--strategy", "simple_dca", "--product", "BTC-USD", "--timeframe", "1m",
        "--data", str(data), "--output", str(output), "--budget", "1000",
        "--config", json.dumps({"buy_amount": 100, "interval_minutes": 60}),
        "--fee-taker", "0.005", "--slippage", "0.001", "--from", str(T0), "--to", str(T0 + 360),
    ])  # fmt: skip
    assert cli.exit_code == 0, cli.output
    document = json.loads(output.read_text())
    assert {key: done[key] for key in ("metrics", "trades", "equity")} == document
    assert document["trades"][0]["price"] == "100.1"  # the slippage changed the fills


def test_omitted_fees_are_the_current_paper_fees(api: TestClient, candle_dir: Path) -> None:
    write_candles(candle_dir)
    fees = {"fees": {"taker": "0.0025", "maker": "0.0015", "slippage": "0"}}
    assert api.put("/api/settings", json=fees).status_code == 200
    chosen = api.post("/api/backtests", json=backtest_payload(fee_maker="0.001")).json()
    assert (chosen["fee_taker"], chosen["fee_maker"], chosen["slippage"]) == (
        "0.0025",
        "0.001",
        "0",
    )
    done = wait_until_finished(api, chosen["id"])
    # round_down(100 / (100 x 1.0025), 1e-8) = 0.99750623 BTC for 99.750623 USD; the take
    # profit sells them at 102 for 101.74563546 USD.
    assert [(t["base_amount"], t["fee"]) for t in done["trades"]] == [
        ("0.99750623", "0.2493765575"),  # 99.750623 x 0.0025
        ("0.99750623", "0.10174563546"),  # 101.74563546 x 0.001
    ]


def test_start_and_end_take_iso_dates_and_unix_seconds(api: TestClient, candle_dir: Path) -> None:
    write_candles(candle_dir)
    body = backtest_payload(start="2023-11-14T21:59:00", end=T0 + 300)
    run = api.post("/api/backtests", json=body).json()
    assert (run["start"], run["end"]) == ("2023-11-14T21:59:00Z", "2023-11-14T22:03:00Z")
    done = wait_until_finished(api, run["id"])
    assert [point[0] for point in done["equity"]] == [T0 + 60, T0 + 120, T0 + 180, T0 + 240]


def test_runs_are_listed_newest_first_without_trades(api: TestClient, candle_dir: Path) -> None:
    write_candles(candle_dir)
    for budget in ("1000", "2000", "3000"):
        run = api.post("/api/backtests", json=backtest_payload(budget=budget)).json()
        wait_until_finished(api, run["id"])
    listed = api.get("/api/backtests").json()
    assert listed["count"] == 3
    assert [(r["id"], r["budget"], r["status"]) for r in listed["data"]] == [
        (3, "3000", "done"),
        (2, "2000", "done"),
        (1, "1000", "done"),
    ]
    assert all("trades" not in r and "equity" not in r for r in listed["data"])
    assert listed["data"][2]["metrics"]["final_equity"] == "1000.98608349376"
    page = api.get("/api/backtests", params={"limit": 1, "offset": 1}).json()
    assert (page["count"], [r["id"] for r in page["data"]]) == (3, [2])
    assert api.get("/api/backtests", params={"limit": 0}).status_code == 422


def test_delete_removes_a_run(api: TestClient, candle_dir: Path) -> None:
    write_candles(candle_dir)
    run = api.post("/api/backtests", json=backtest_payload()).json()
    wait_until_finished(api, run["id"])
    assert api.delete(f"/api/backtests/{run['id']}").status_code == 204
    assert api.get(f"/api/backtests/{run['id']}").status_code == 404
    assert api.get("/api/backtests").json() == {"data": [], "count": 0, "next_cursor": None}


def test_unknown_ids_are_404_and_no_token_is_401(api: TestClient, client: TestClient) -> None:
    for method in ("GET", "DELETE"):
        answer = api.request(method, "/api/backtests/99")
        assert (answer.status_code, answer.json()) == (404, {"detail": "backtest 99 not found"})
    for method, path in (("GET", "/api/backtests"), ("POST", "/api/backtests"),
                         ("GET", "/api/backtests/1"), ("DELETE", "/api/backtests/1")):  # fmt: skip
        answer = client.request(method, path, json=backtest_payload())
        assert (answer.status_code, answer.json()) == (401, {"detail": "not authenticated"})


def _error(field: str, msg: str) -> dict[str, Any]:
    return {"loc": ["body", *field.split(".")], "msg": msg, "type": "value_error"}


NO_DATA = (
    "no local 1m candles for ETH-BTC ({dir}/ETH-BTC_1m.csv does not exist): run `tradefleet "
    "download-data --product ETH-BTC --timeframe 1m --from … --to …` first"
)
BAD_PRODUCT = (
    "product id must look like 'ETH-BTC' (BASE-QUOTE: capital letters and digits, at most 12 "
    "each), got 'eth_btc'"
)
REJECTED = [
    pytest.param({"strategy_type": "nope"},
                 [_error("strategy_type", f"unknown strategy 'nope'; known strategies: {KNOWN}")],
                 id="unknown-strategy"),
    pytest.param({"strategy_config": {"buy_amount": -1}},
                 [_error("strategy_config.buy_amount", "must be at least 1e-08")], id="bad-param"),
    pytest.param({"strategy_config": {"buy_amount": 5000}},
                 [_error("strategy_config.buy_amount", "exceeds the budget 1000")],
                 id="param-over-budget"),
    pytest.param({"product_id": "ETH-BTC"}, [_error("product_id", NO_DATA)], id="no-candles"),
    pytest.param({"product_id": "eth_btc"}, [_error("product_id", BAD_PRODUCT)],
                 id="bad-product"),
    pytest.param({"timeframe": "3m"},
                 [_error("timeframe", "must be one of: 1m, 5m, 15m, 30m, 1h, 2h, 6h, 1d")],
                 id="bad-timeframe"),
    pytest.param({"end": T0},
                 [_error("end", "must be after start (the period is start <= time < end)")],
                 id="empty-period"),
    pytest.param({"product_id": "ETH-BTC", "strategy_type": "nope", "end": T0},
                 [_error("strategy_type", f"unknown strategy 'nope'; known strategies: {KNOWN}"),
                  _error("end", "must be after start (the period is start <= time < end)"),
                  _error("product_id", NO_DATA)], id="every-problem-at-once"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "detail"), REJECTED)
def test_invalid_requests_are_422_naming_the_field(
    api: TestClient,
    candle_dir: Path,
    session_factory: sessionmaker[Session],
    change: dict[str, Any],
    detail: list[dict[str, Any]],
) -> None:
    write_candles(candle_dir)
    with session_factory() as session:
        before = snapshot(session)
    answer = api.post("/api/backtests", json=backtest_payload(**change))
    assert answer.status_code == 422, answer.text
    expected = json.loads(json.dumps(detail).replace("{dir}", str(candle_dir)))
    assert answer.json() == {"detail": expected}
    with session_factory() as session:
        assert snapshot(session) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start": "yesterday"}, "start"),
        ({"end": "31/01/2024"}, "end"),
        ({"end": str(T0 + 360)}, "end"),  # unix seconds are a JSON integer, not text
        ({"end": T0 + 360.5}, "end"),
        ({"start": "0001-01-01T00:00:00+01:00"}, "start"),  # the year 0 in UTC
        ({"end": 253_402_300_800}, "end"),  # the year 10000
        ({"budget": "1_000"}, "budget"),
        ({"fee_maker": "٠.٠٠١"}, "fee_maker"),
        ({"budget": "0"}, "budget"),
        ({"fee_taker": "1"}, "fee_taker"),
        ({"extra": 1}, "extra"),
    ],
)
def test_malformed_fields_are_422(
    api: TestClient, candle_dir: Path, change: dict[str, Any], field: str
) -> None:
    write_candles(candle_dir)
    answer = api.post("/api/backtests", json=backtest_payload(**change))
    assert answer.status_code == 422, answer.text
    assert [error["loc"] for error in answer.json()["detail"]] == [["body", field]]
    assert api.get("/api/backtests").json()["count"] == 0
