"""Setting up the trading bots, running the clients with a health probe beside them, and
checking the database afterwards against every client's model."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.audit import duplicate_problems, ledger_problems
from tradefleet.db.models import Bot

from .server import PASSWORD
from .workload import BUSY_RSI, Client, Tally

TRADING_PRODUCTS = ("ETH-BTC", "BTC-USD", "ETH-USD", "SOL-USD")
HEALTH_EVERY = 0.2  # seconds between two health probes


@dataclass
class HealthLog:
    """Every probe of ``/api/health``: its latency, and the engine's cycle count."""

    latencies: list[float] = field(default_factory=list)
    failures: int = 0  # no answer (the server was down or hung)
    slow: int = 0  # answered, but after more than a second
    cycles: list[tuple[float, int]] = field(default_factory=list)  # (monotonic, cycles)

    def longest_cycle_gap(self) -> float:
        """The longest wall time the engine's cycle count stood still while probed."""
        gap, changed_at, previous = 0.0, 0.0, None
        for at, count in self.cycles:
            if count != previous:
                changed_at, previous = at, count
            gap = max(gap, at - changed_at)
        return gap


async def login(base_url: str) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        answer = await http.post(
            "/api/auth/login", json={"username": "admin", "password": PASSWORD}
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])


async def create_trading_bots(base_url: str, token: str, count: int) -> list[int]:
    """``count`` active RSI bots over a few products, created in parallel."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as http:
        budgets = {"BTC": "0.05", "USD": "500"}

        async def one(n: int) -> int:
            product = TRADING_PRODUCTS[n % len(TRADING_PRODUCTS)]
            body = {
                "name": f"trading-{n}",
                "strategy_type": "rsi",
                "strategy_config": BUSY_RSI,
                "product_id": product,
                "timeframe": "1m",
                "budget": budgets[product.split("-")[1]],
            }
            created = await http.post("/api/bots", json=body)
            created.raise_for_status()
            bot_id = int(created.json()["id"])
            (await http.post(f"/api/bots/{bot_id}/start")).raise_for_status()
            return bot_id

        ids: list[int] = []
        for first in range(0, count, 16):
            ids += await asyncio.gather(*(one(n) for n in range(first, min(first + 16, count))))
        return ids


async def probe_health(base_url: str, log: HealthLog, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as http:
        while not stop.is_set():
            started = time.monotonic()
            try:
                answer = await http.get("/api/health")
                seconds = time.monotonic() - started
                log.latencies.append(seconds)
                log.slow += seconds > 1.0
                log.cycles.append((started, int(answer.json()["engine"].get("cycles", 0))))
            except (httpx.HTTPError, ValueError, KeyError):
                log.failures += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), HEALTH_EVERY)


async def run_clients(
    base_url: str,
    token: str,
    *,
    clients: int,
    requests: int,
    trading: list[int],
    seed: int,
    beside: Callable[[], Awaitable[None]] | None = None,
) -> tuple[list[Client], Tally, HealthLog, float]:
    """``requests`` requests from ``clients`` concurrent clients (``beside`` runs along,
    e.g. a killer); returns the clients, the tally, the health log and the wall time."""
    tally, health, stop = Tally(), HealthLog(), asyncio.Event()
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(  # idle connections dropped before the server's keep-alive ends
        max_connections=clients + 4, max_keepalive_connections=clients, keepalive_expiry=5
    )
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits) as http:
        crowd = [Client(http, f"load-{n}", seed * 1000 + n, trading, tally) for n in range(clients)]
        budget = iter(range(requests))

        async def work(client: Client) -> None:
            for _ in budget:
                while client.doubtful or client.doubtful_creates:
                    await client.settle()  # not counted: reads until the server is back
                await client.step()
            while client.doubtful or client.doubtful_creates:
                await client.settle()

        prober = asyncio.create_task(probe_health(base_url, health, stop))
        extra = asyncio.create_task(beside()) if beside is not None else None
        started = time.monotonic()
        await asyncio.gather(*(work(client) for client in crowd))
        wall = time.monotonic() - started
        stop.set()
        await prober
        if extra is not None:
            await extra
    return crowd, tally, health, wall


def database_problems(
    sessions: sessionmaker[Session], crowd: list[Client], tally: Tally
) -> list[str]:
    """The stored bots against the clients' models, then the ledger and exactly-once."""
    problems: list[str] = []
    with sessions() as session:
        rows = {bot.id: bot for bot in session.scalars(select(Bot))}
        for client in crowd:
            for model in client.bots.values():
                row = rows.get(model.id)
                if row is None:
                    problems.append(f"bot {model.id} ({model.name}) is not in the database")
                    continue
                history = "; ".join(client.history[model.id][-6:])
                if model.deleted != (row.deleted_at is not None):
                    problems.append(
                        f"bot {model.id}: deleted is {row.deleted_at}, expected {model.deleted}"
                        f" (history: {history})"
                    )
                    continue
                if model.deleted:
                    continue
                stored = (row.name, row.description, row.budget, row.is_active)
                expected = (model.name, model.description, model.budget, model.is_active)
                if stored != expected:
                    problems.append(
                        f"bot {model.id}: stored {stored}, expected {expected} ({history})"
                    )
        owned = {model.id for client in crowd for model in client.bots.values()}
        strays = [
            f"bot {row.id} ({row.name}) was stored though its create was refused"
            for row in rows.values()
            if row.name.startswith("load-") and row.id not in owned and row.deleted_at is None
        ]
        problems += strays
    return problems + ledger_problems(sessions) + duplicate_problems(sessions)
