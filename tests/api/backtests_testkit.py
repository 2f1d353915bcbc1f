"""A tiny hand-made candle file and a backtest request for the backtest API tests.

Six one-minute BTC-USD candles (the ``tradefleet backtest`` CLI test's): simple_dca with a
100 USD buy every 60 minutes (UTC) and the default 2 % take profit buys at the hour (the
third candle, T0 + 120); the market order fills at the next open, 100:
round_down(100 / 100.6, 1e-8) = 0.99403578 BTC for 99.403578 USD + 0.596421468 taker fee.
The take profit at 102 fills on the next candle, whose high is exactly 102: 101.39164956
USD, less the 0.4 % maker fee 0.40556659824. The strategy's warm-up is two candles, so
the first one only warms it up and five are traded.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

T0 = 1_700_000_000 // 3600 * 3600 - 120  # two minutes before an hour
ROWS = [
    (T0, 100, 100, 100, 100),
    (T0 + 60, 100, 100, 100, 100),
    (T0 + 120, 100, 100, 100, 100),
    (T0 + 180, 100, 100.5, 99.5, 100),
    (T0 + 240, 100, 102, 99.5, 101),
    (T0 + 300, 101, 101, 101, 101),
]
TRADES = [
    {"time": T0 + 180, "side": "buy", "price": "100", "base_amount": "0.99403578",
     "quote_amount": "99.403578", "fee": "0.596421468"},
    {"time": T0 + 240, "side": "sell", "price": "102", "base_amount": "0.99403578",
     "quote_amount": "101.39164956", "fee": "0.40556659824"},
]  # fmt: skip
# cash after the buy: 1000 - 99.403578 - 0.596421468 = 900.000000532, plus 0.99403578 BTC
# at the close of 100; after the sell: 900.000000532 + 101.39164956 - 0.40556659824.
EQUITY = [
    [T0 + 60, "1000"],
    [T0 + 120, "1000"],
    [T0 + 180, "999.403578532"],
    [T0 + 240, "1000.98608349376"],
    [T0 + 300, "1000.98608349376"],
]
CONFIG = {
    "buy_amount": 100.0, "interval_minutes": 60, "max_position_pct": 100.0,
    "take_profit_pct": 2.0, "trailing_deviation_pct": 0.0, "stop_loss_pct": 0.0,
    "compound_profits": False,
}  # fmt: skip


def write_candles(folder: Path, rows: list[tuple[int, float, float, float, float]] = ROWS) -> Path:
    """``folder/BTC-USD_1m.csv`` with ``rows`` (volume 1.5)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "BTC-USD_1m.csv"
    lines = [f"{t},{o},{h},{low},{c},1.5\n" for t, o, h, low, c in rows]
    path.write_text("timestamp,open,high,low,close,volume\n" + "".join(lines))
    return path


def backtest_payload(**overrides: Any) -> dict[str, Any]:
    """A valid POST /api/backtests body over the whole file."""
    payload: dict[str, Any] = {
        "strategy_type": "simple_dca",
        "strategy_config": {"buy_amount": 100, "interval_minutes": 60},
        "product_id": "BTC-USD",
        "timeframe": "1m",
        "budget": "1000",
        "start": T0,
        "end": T0 + 360,
    }
    payload.update(overrides)
    return payload


def wait_until_finished(api: TestClient, run_id: int, timeout: float = 180.0) -> dict[str, Any]:
    """Poll GET /api/backtests/{id} until the run is done or failed; its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        answer = api.get(f"/api/backtests/{run_id}")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        if body["status"] in ("done", "failed"):
            return body
        assert time.monotonic() < deadline, f"backtest {run_id} still {body['status']}"
        time.sleep(0.02)
