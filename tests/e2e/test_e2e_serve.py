"""``tradefleet serve`` as a user runs it: a real process, killed with SIGKILL, restarted."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

RSI_BUSY = {"rsi_period": 7, "oversold": 40, "overbought": 60, "profit_target_pct": 0.2}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, workdir: Path, port: int) -> None:
        self.workdir, self.port, self.runs = workdir, port, 0
        self.process: subprocess.Popen[bytes] | None = None
        self.base = f"http://127.0.0.1:{port}"

    def start(self) -> str:
        """Start and wait for health; returns what the process printed so far."""
        self.runs += 1
        out = self.workdir / f"stdout-{self.runs}.txt"
        env = {
            **os.environ,
            "TRADEFLEET_MARKET": "simulated",
            "TRADEFLEET_SPEED": "600",
            "TRADEFLEET_DATABASE_URL": f"sqlite:///{self.workdir}/data/tradefleet.db",
        }
        env.pop("TRADEFLEET_ADMIN_PASSWORD", None)
        with out.open("wb") as handle:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tradefleet", "serve", "--port", str(self.port)],
                cwd=self.workdir,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/api/health", timeout=1).status_code == 200:
                    return out.read_text()
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError(f"server did not answer:\n{out.read_text()}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def _login(server: Server, password: str) -> httpx.Client:
    client = httpx.Client(base_url=server.base, timeout=10)
    answer = client.post("/api/auth/login", json={"username": "admin", "password": password})
    assert answer.status_code == 200, answer.text
    client.cookies.clear()
    client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return client


def _trades(client: httpx.Client) -> list[dict[str, Any]]:
    page = client.get("/api/trades", params={"limit": 500}).json()
    assert page["count"] <= 500
    return list(page["data"])


def _wait_for_trades(client: httpx.Client, at_least: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        trades = _trades(client)
        if len(trades) >= at_least:
            return trades
        time.sleep(0.3)
    raise AssertionError(f"fewer than {at_least} trades after a minute")


def test_serve_survives_kill_9_without_losing_or_duplicating(tmp_path: Path) -> None:
    server = Server(tmp_path, _free_port())
    try:
        printed = server.start()
        found = re.search(r"Generated admin password .*?: (\S+)", printed)
        assert found, printed
        password = found.group(1)
        client = _login(server, password)
        created = client.post(
            "/api/bots",
            json={
                "name": "busy rsi",
                "strategy_type": "rsi",
                "strategy_config": RSI_BUSY,
                "product_id": "ETH-BTC",
                "timeframe": "1m",
                "budget": "0.1",
            },
        )
        assert created.status_code == 201, created.text
        assert client.post(f"/api/bots/{created.json()['id']}/start").status_code == 200
        before = _wait_for_trades(client, 4)
        server.kill()

        printed_again = server.start()
        assert "Generated admin password" not in printed_again
        client = _login(server, password)  # the stored hash still matches
        after = _wait_for_trades(client, len(before) + 2)
        ids = [t["id"] for t in after]
        assert not [i for i, n in Counter(ids).items() if n > 1]
        assert {t["id"] for t in before} <= set(ids)
        fills_by_order = Counter((t["position_id"], t["side"], t["time"]) for t in after)
        assert max(fills_by_order.values()) == 1
        balances = {b["currency"]: b for b in client.get("/api/market/balances").json()["data"]}
        trades = _trades(client)
        eth = Decimal(balances["ETH"]["starting"]) + sum(
            (Decimal(t["base_amount"]) * (1 if t["side"] == "buy" else -1) for t in trades),
            Decimal(0),
        )
        assert Decimal(balances["ETH"]["total"]) == eth
    finally:
        if server.process is not None and server.process.poll() is None:
            server.kill()
