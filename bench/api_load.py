"""API load benchmark: a real ``tradefleet serve`` with trading bots, hammered by clients.

With ``--bots`` active RSI bots trading on the simulated market (1m candles, the clock
``--speed`` times real time), ``--clients`` concurrent clients send ``--requests`` mixed
requests: half reads (bots, one bot, positions, trades, stats, a bot's stats, signals),
half writes on bots each client owns (create, update, start, stop, delete, some of them
refused on purpose). A probe reads ``/api/health`` every 0.2 s meanwhile. ``--kills N``
kills the server with SIGKILL N times during the load and restarts it. At the end the
server gets SIGTERM, and the database is checked: every answered write as answered,
every refused one changed nothing, unanswered ones all or nothing, the paper ledger
exact, no client order id or fill twice.

Prints throughput, p50/p95/max latency, counts by status, health latency, the longest
time the engine's cycle count stood still, restart and shutdown times, and problems.

    .venv/bin/python bench/api_load.py [--bots 200] [--requests 5000] [--clients 64]
        [--speed 60] [--kills 0] [--postgres postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from loadkit.databases import fresh_database
from loadkit.drive import create_trading_bots, database_problems, login, run_clients
from loadkit.server import ServerProcess
from tradefleet.db.session import make_engine, make_session_factory


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def spread(seconds: list[float]) -> str:
    """p50, p95 and max in milliseconds."""
    p50, p95, top = percentile(seconds, 0.5), percentile(seconds, 0.95), max(seconds, default=0)
    return f"p50 {1000 * p50:.0f} ms  p95 {1000 * p95:.0f} ms  max {1000 * top:.0f} ms"


async def load(args: argparse.Namespace, server: ServerProcess) -> int:
    healthy = server.start()
    print(f"server healthy after {healthy:.2f} s on {server.database_url.split('://')[0]}")
    token = await login(server.base_url)
    started = time.monotonic()
    trading = await create_trading_bots(server.base_url, token, args.bots)
    print(f"{len(trading)} trading bots created and started in {time.monotonic() - started:.1f} s")
    await asyncio.sleep(3)  # a few cycles with every bot loaded
    restarts: list[float] = []

    async def killer() -> None:
        rng = random.Random(args.seed)
        for _ in range(args.kills):
            await asyncio.sleep(rng.uniform(2.0, 6.0))
            await asyncio.to_thread(server.kill)
            restarts.append(await asyncio.to_thread(server.start))

    crowd, tally, health, wall = await run_clients(
        server.base_url, token, clients=args.clients, requests=args.requests,
        trading=trading, seed=args.seed, beside=killer if args.kills else None,
    )  # fmt: skip
    code, shutdown = server.terminate()
    counted = {kind: v for kind, v in tally.latencies.items() if kind != "read back"}
    everything = [s for values in counted.values() for s in values]
    answered = sum(n for status, n in tally.statuses.items() if status.isdigit())
    total = len(everything)  # without the reads that settle unanswered writes
    print(f"\n{total} requests from {args.clients} clients in {wall:.1f} s: "
          f"{answered / wall:.0f} answered/s")  # fmt: skip
    print(f"latency all: {spread(everything)}")
    for kind in sorted(tally.latencies):
        print(f"  {kind:<10} n={len(tally.latencies[kind]):<5} {spread(tally.latencies[kind])}")
    print("statuses:", ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items())))
    print(f"hangs (> 30 s): {tally.hangs}; 503 without Retry-After: {tally.bare_503}")
    if tally.failed:
        print(
            "5xx and unanswered:", ", ".join(f"{k}: {n}" for k, n in sorted(tally.failed.items()))
        )
    print(f"health: {len(health.latencies)} probes, {spread(health.latencies)}, "
          f"over 1 s: {health.slow}, unanswered: {health.failures}")  # fmt: skip
    print(f"engine: longest stall of the cycle count {health.longest_cycle_gap():.2f} s "
          f"(a candle closes every {60 / args.speed:.2f} s)")  # fmt: skip
    if restarts:
        listed = ", ".join(f"{s:.2f}" for s in restarts)
        print(f"restarts after SIGKILL: {len(restarts)}, healthy after {listed} s "
              f"(median {statistics.median(restarts):.2f} s)")  # fmt: skip
    clean = code in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM once it has shut down
    print(f"SIGTERM: exit code {code} after {shutdown:.2f} s ({'clean' if clean else 'NOT clean'})")
    logged = server.logged_problems()
    print(f"server log: {len(logged)} warnings and errors")
    for line in logged[:8]:
        print("  |", line[:200])
    sessions = make_session_factory(make_engine(server.database_url))
    problems = tally.problems + database_problems(sessions, crowd, tally)
    print(f"bots created by the clients: {len(tally.created_names)}; problems: {len(problems)}")
    for problem in problems[:20]:
        print("  -", problem)
    return 1 if problems or tally.hangs or tally.bare_503 or not clean else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bots", type=int, default=200)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--speed", type=float, default=60.0)
    parser.add_argument("--kills", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", help="a PostgreSQL server; a fresh database is made")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        sqlite = f"sqlite:///{workdir}/tradefleet.db"
        with fresh_database(args.postgres or sqlite) as url:
            server = ServerProcess(workdir, url, args.speed)
            try:
                return asyncio.run(load(args, server))
            finally:
                server.ensure_stopped()


if __name__ == "__main__":
    sys.exit(main())
