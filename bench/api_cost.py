"""What one API request costs the server in CPU, route by route.

A real ``tradefleet serve`` (SQLite, simulated market ``--speed`` times real time) with
``--bots`` active RSI bots and ``--idle`` stopped ones; one client then sends
``--requests`` requests of each kind, one after the other, and the server process's CPU
time (user + system, from /proc) is read around each batch, less what the engine used
in the same time when nothing was asked. The server runs under one interpreter lock,
so the CPU a request costs bounds what ``bench/api_load.py`` can answer per second.

    .venv/bin/python bench/api_cost.py [--bots 200] [--idle 400] [--requests 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

from loadkit.drive import create_trading_bots, login
from loadkit.server import ServerProcess

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def measure(args: argparse.Namespace, server: ServerProcess) -> None:
    server.start()
    assert server.process is not None
    pid = server.process.pid
    token = await login(server.base_url)
    trading = await create_trading_bots(server.base_url, token, args.bots)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=60) as http:
        for n in range(args.idle):
            body = {
                "name": f"idle-{n}",
                "strategy_type": "rsi",
                "product_id": "ETH-BTC",
                "timeframe": "1m",
                "budget": "0.05",
            }
            (await http.post("/api/bots", json=body)).raise_for_status()
        await asyncio.sleep(3)
        started, used = time.monotonic(), cpu_seconds(pid)
        await asyncio.sleep(5)
        engine_share = (cpu_seconds(pid) - used) / (time.monotonic() - started)
        print(f"{args.bots} trading and {args.idle} idle bots; the engine alone uses "
              f"{100 * engine_share:.0f}% of a core")  # fmt: skip
        one, other = trading[0], trading[1]
        kinds: dict[str, tuple[str, str, dict[str, object] | None]] = {
            "health": ("GET", "/api/health", None),
            "bots": ("GET", "/api/bots", None),
            "bot": ("GET", f"/api/bots/{one}", None),
            "positions": ("GET", "/api/positions?limit=50", None),
            "trades": ("GET", "/api/trades?limit=50", None),
            "signals": ("GET", "/api/signals?limit=50", None),
            "stats": ("GET", "/api/stats", None),
            "bot_stats": ("GET", f"/api/bots/{one}/stats", None),
            "update": ("PUT", f"/api/bots/{other}", {"description": "measured"}),
            "stop": ("POST", f"/api/bots/{other}/stop", None),
            "start": ("POST", f"/api/bots/{other}/start", None),
        }
        print(f"{'request':<10} {'CPU/request':>12} {'wall/request':>13}")
        for kind, (method, url, body) in kinds.items():
            started, used = time.monotonic(), cpu_seconds(pid)
            for _ in range(args.requests):
                answer = await http.request(method, url, json=body)
                answer.raise_for_status()
            wall = time.monotonic() - started
            cost = cpu_seconds(pid) - used - engine_share * wall
            print(f"{kind:<10} {1000 * cost / args.requests:9.1f} ms "
                  f"{1000 * wall / args.requests:10.1f} ms")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bots", type=int, default=200)
    parser.add_argument("--idle", type=int, default=400)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--speed", type=float, default=60.0)
    args = parser.parse_args()
    if not Path("/proc/self/stat").exists():
        print("api_cost.py reads CPU time from /proc (Linux only)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as workdir:
        server = ServerProcess(Path(workdir), f"sqlite:///{workdir}/tradefleet.db", args.speed)
        try:
            asyncio.run(measure(args, server))
        finally:
            if server.process is not None and server.process.poll() is None:
                server.terminate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
