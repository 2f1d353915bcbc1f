"""``tradefleet emergency-stop`` against a real ``tradefleet serve``: every bot halted,
every working order cancelled, then with ``--sell-all`` every deal sold; and the clear
refusal when no server answers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.test_e2e_serve import Server, _free_port, _login
from tests.engine.test_engine_emergency import HOLDER  # deals that rest their orders


def _cli(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRADEFLEET_DATABASE_URL": f"sqlite:///{workdir}/data/tradefleet.db"}
    env.pop("TRADEFLEET_ADMIN_PASSWORD", None)
    return subprocess.run(
        [sys.executable, "-m", "tradefleet", "emergency-stop", *args],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _working(client: httpx.Client) -> list[tuple[int, str]]:
    """(bot id, purpose) of every working order of every open deal."""
    found = []
    for deal in client.get("/api/positions", params={"status": "open"}).json()["data"]:
        detail = client.get(f"/api/positions/{deal['id']}").json()
        found += [
            (deal["bot_id"], order["purpose"])
            for order in detail["orders"]
            if order["status"] in ("pending", "open")
        ]
    return sorted(found)


def _wait_for_resting(client: httpx.Client, bots: list[int]) -> None:
    """Until each bot's deal rests its take profit (at 600 x its safety buys may have
    filled already) and no market order is in flight."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        working = _working(client)
        resting = {bot for bot, purpose in working if purpose == "take_profit"}
        if resting == set(bots) and {p for _, p in working} <= {"safety", "take_profit"}:
            return
        time.sleep(0.2)
    raise AssertionError(f"no deals resting their orders: {_working(client)}")


def _bots(client: httpx.Client) -> dict[int, dict[str, Any]]:
    return {bot["id"]: bot for bot in client.get("/api/bots").json()["data"]}


def test_emergency_stop_from_the_command_line(tmp_path: Path) -> None:
    server = Server(tmp_path, _free_port())
    try:
        printed = server.start()
        found = re.search(r"Generated admin password .*?: (\S+)", printed)
        assert found, printed
        client = _login(server, found.group(1))
        ids = []
        for name, product, budget in (("eth", "ETH-BTC", "0.1"), ("btc", "BTC-USD", "1000")):
            created = client.post("/api/bots", json={
                "name": name, "strategy_type": "rsi", "strategy_config": HOLDER,
                "product_id": product, "timeframe": "1m", "budget": budget,
            })  # fmt: skip
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
            assert client.post(f"/api/bots/{ids[-1]}/start").status_code == 200
        _wait_for_resting(client, ids)

        stopped = _cli(tmp_path, "--url", server.base)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        lines = stopped.stdout.splitlines()
        # each bot rested its take profit, and maybe safety buys or an add in flight too
        counted = re.fullmatch(r"emergency stop: 2 bots halted, (\d+) orders cancelled", lines[0])
        assert counted and int(counted.group(1)) >= 2, lines
        assert lines[1].startswith(f"  bot {ids[0]} (eth): ")
        assert (
            lines[-1] == "halted bots place nothing until started again (tradefleet bots start ID)"
        )
        assert stopped.stderr == ""
        assert _working(client) == []
        bots = _bots(client)
        assert [(bots[i]["is_active"], bots[i]["halted_at"] is not None) for i in ids] == [
            (False, True),
            (False, True),
        ]
        time.sleep(2)  # 20 candles at 600 x: nothing is placed meanwhile
        assert _working(client) == []

        sold = _cli(tmp_path, "--sell-all", "--url", server.base)
        assert sold.returncode == 0, sold.stdout + sold.stderr
        assert sold.stdout.splitlines()[0] == (
            "emergency stop: 2 bots halted, 0 orders cancelled, 2 market sells placed"
        )
        deadline = time.monotonic() + 30
        while client.get("/api/positions", params={"status": "open"}).json()["count"]:
            assert time.monotonic() < deadline, "the emergency sells did not fill"
            time.sleep(0.2)
        closed = client.get("/api/positions", params={"status": "closed"}).json()["data"]
        assert sorted((deal["bot_id"], deal["close_reason"]) for deal in closed) == [
            (ids[0], "manual"),
            (ids[1], "manual"),
        ]
    finally:
        if server.process is not None and server.process.poll() is None:
            server.kill()


def test_no_server_is_a_clear_refusal(tmp_path: Path) -> None:
    port = _free_port()
    answer = _cli(tmp_path, "--url", f"http://127.0.0.1:{port}")
    assert answer.returncode == 2
    assert answer.stdout == ""
    assert answer.stderr.startswith(
        f"error: no tradefleet server answered at http://127.0.0.1:{port}"
    )
    assert "nothing was stopped" in answer.stderr
