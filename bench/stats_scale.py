"""Read-side scale benchmark: 1,280 bots with 30,643 deals and their orders and fills.

Seeds a fresh database, then times (median of ``--repeat`` runs, after one warm-up):
``GET /api/stats``, ``GET /api/bots/{id}/stats``, ``GET /api/trades`` and
``GET /api/positions`` pages (first page and a page deep in the history), the engine's
realised-PnL load for every bot, and how long ``GET /api/health`` waits while
``GET /api/stats`` runs (the issue: 44-60 s during which nothing else answered).

    .venv/bin/python bench/stats_scale.py [--bots 1280] [--deals 30643] [--repeat 3]
        [--database-url postgresql://postgres@127.0.0.1:5432/test]
        (default: a SQLite file in a temporary folder; a PostgreSQL URL names the server:
        the bench creates its own database there and drops it afterwards)
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from loadkit.databases import fresh_database
from tradefleet.api.app import create_app
from tradefleet.config import Settings
from tradefleet.db.migrate import upgrade_database
from tradefleet.db.models import Bot, Fill, Order, Position, Signal
from tradefleet.db.session import make_engine, make_session_factory
from tradefleet.engine import store

PASSWORD = "bench password, not a secret"
START = datetime(2025, 1, 1, tzinfo=UTC)
# product, last price, budget, price decimals: quotes BTC, USD, USDC and EUR.
PRODUCTS = [
    ("ETH-BTC", Decimal("0.0372"), Decimal("0.05"), 5),
    ("SOL-BTC", Decimal("0.00231"), Decimal("0.05"), 7),
    ("BTC-USD", Decimal("94123.45"), Decimal(500), 2),
    ("ETH-USD", Decimal("3501.17"), Decimal(500), 2),
    ("ETH-USDC", Decimal("3500.99"), Decimal(300), 2),
    ("BTC-EUR", Decimal("90011.5"), Decimal(400), 2),
]
PRICES = {product: price for product, price, _, _ in PRODUCTS}
FEE = Decimal("0.006")


class BenchMarket:
    """Fixed last prices, as the API's market view."""

    async def products(self) -> list[Any]:
        return []

    async def product(self, product_id: str) -> None:
        return None

    async def candles(self, product_id: str, timeframe: str, limit: int) -> list[Any]:
        return []

    async def last_price(self, product_id: str) -> Decimal:
        return PRICES[product_id]


class BenchEngine:
    """The engine control the API needs, doing nothing."""

    market = BenchMarket()

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        yield

    async def start_bot(self, bot_id: int) -> None: ...
    async def stop_bot(self, bot_id: int) -> None: ...
    async def reload_bot(self, bot_id: int) -> None: ...
    async def forget_bot(self, bot_id: int) -> None: ...
    async def close_position(self, position_id: int) -> None: ...
    async def reload_settings(self) -> None: ...

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "running": True}


class Seeder:
    """Rows built in memory, ids assigned here, inserted in bulk per table."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.bots: list[dict[str, Any]] = []
        self.positions: list[dict[str, Any]] = []
        self.orders: list[dict[str, Any]] = []
        self.fills: list[dict[str, Any]] = []
        self.signals: list[dict[str, Any]] = []

    def bot(self, index: int) -> dict[str, Any]:
        product, _, budget, _ = PRODUCTS[index % len(PRODUCTS)]
        deleted = index % 40 == 39  # a few deleted bots whose closed deals still count
        row = {
            "id": index + 1, "name": f"bot {index:04d}", "strategy_type": "rsi",
            "strategy_config": {"compound_profits": index % 7 == 0}, "product_id": product,
            "timeframe": "5m", "budget": budget, "is_active": index % 3 != 0 and not deleted,
            "manager_state": {}, "deleted_at": START + timedelta(days=300) if deleted else None,
        }  # fmt: skip
        self.bots.append(row)
        return row

    def deal(self, bot: dict[str, Any], seq: int, product: str, is_open: bool) -> None:
        rng = self.rng
        _, price_now, budget, places = next(p for p in PRODUCTS if p[0] == product)
        opened = START + timedelta(minutes=5 * rng.randrange(0, 100_000))
        price = round(price_now * Decimal(rng.uniform(0.8, 1.2)), places)
        spend = round(budget * Decimal(rng.uniform(0.05, 0.3)), 8)
        base = round(spend / price, 8)
        bought = price * base
        buy_fee = round(bought * FEE, 18)
        position = {
            "id": len(self.positions) + 1, "bot_id": bot["id"], "seq": seq,
            "product_id": product, "status": "open", "opened_at": opened,
            "base_price": price, "base_amount": base, "bought_base": base,
            "bought_quote": bought, "buy_fees": buy_fee, "average_entry_price": price,
        }  # fmt: skip
        self.positions.append(position)
        self._fill(position, 0, "buy", price, base=base, fee=buy_fee, moment=opened)
        if is_open:
            return
        closed = opened + timedelta(minutes=5 * rng.randrange(1, 2_000))
        exit_price = round(price * Decimal(rng.uniform(0.95, 1.04)), places)
        sold = exit_price * base
        sell_fee = round(sold * Decimal("0.004"), 18)
        realized = sold - sell_fee - bought - buy_fee
        position.update(
            status="closed", closed_at=closed, close_reason="take_profit", base_amount=Decimal(0),
            sold_base=base, sold_quote=sold, sell_fees=sell_fee,
            realized_pnl=None if rng.random() < 0.05 else realized,  # old rows: computed
        )  # fmt: skip
        self._fill(position, 1, "sell", exit_price, base=base, fee=sell_fee, moment=closed)

    def _fill(
        self, position: dict[str, Any], step: int, side: str, price: Decimal, *,
        base: Decimal, fee: Decimal, moment: datetime,
    ) -> None:  # fmt: skip
        order_id = len(self.orders) + 1
        client_id = f"tf-{position['bot_id']}-{position['seq']}-{step}"
        common = {
            "bot_id": position["bot_id"], "position_id": position["id"],
            "product_id": position["product_id"], "side": side,
        }  # fmt: skip
        self.orders.append({
            "id": order_id, "client_order_id": client_id, **common, "order_type": "market",
            "purpose": "base" if side == "buy" else "exit", "status": "filled",
            "active_from": int(moment.timestamp()), "created_at": moment, "updated_at": moment,
            "filled_base": base, "filled_quote": price * base, "fee": fee,
        })  # fmt: skip
        self.fills.append({
            "id": len(self.fills) + 1, "trade_id": f"{client_id}-1", "order_id": order_id,
            **common, "time": moment, "price": price, "base_amount": base,
            "quote_amount": price * base, "fee": fee,
            "fee_currency": position["product_id"].split("-")[1],
        })  # fmt: skip

    def build(self, bots: int, deals: int) -> None:
        per_bot, extra = divmod(deals, bots)
        for index in range(bots):
            bot = self.bot(index)
            count = per_bot + (1 if index < extra else 0)
            opens = 0 if bot["deleted_at"] else self.rng.randrange(0, 3)
            moved = index % 50 == 0  # traded another market (another quote) first
            for seq in range(1, count + 1):
                product = bot["product_id"]
                if moved and seq <= count // 3:
                    product = PRODUCTS[(index + 2) % len(PRODUCTS)][0]
                self.deal(bot, seq, product, is_open=seq > count - opens)
            for n in range(20):
                self.signals.append({
                    "bot_id": bot["id"], "candle_time": 1_735_689_600 + 300 * n,
                    "created_at": START, "action": "hold", "price": Decimal("1.5"),
                    "reason": "", "indicators": {"rsi": 50.0},
                })  # fmt: skip

    def insert(self, sessions: sessionmaker[Session]) -> None:
        with sessions() as session:
            for model, rows in [
                (Bot, self.bots), (Position, self.positions), (Order, self.orders),
                (Fill, self.fills), (Signal, self.signals),
            ]:  # fmt: skip
                for start in range(0, len(rows), 5_000):
                    session.execute(insert(model), _same_keys(model, rows[start : start + 5_000]))
            session.commit()


def _same_keys(model: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Executemany wants one set of keys: fill in every column a row left out."""
    keys = set().union(*rows)
    defaults = {"sold_base": 0, "sold_quote": 0, "sell_fees": 0, "base_amount": 0}
    filled = []
    for row in rows:
        full = {k: row.get(k, None) for k in keys}
        for k, v in defaults.items():
            if model is Position and full.get(k) is None:
                full[k] = Decimal(v)
        filled.append(full)
    return filled


def timed(repeat: int, call: Callable[[], Any]) -> tuple[float, Any]:
    """Median seconds over ``repeat`` runs after a warm-up, and the last result."""
    result = call()
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def ok(client: TestClient, path: str) -> Any:
    answer = client.get(path)
    if answer.status_code != 200:
        raise SystemExit(f"{path}: {answer.status_code} {answer.text[:300]}")
    return answer.json()


def health_while(client: TestClient, path: str) -> tuple[float, float, int]:
    """Seconds ``path`` took, the longest GET /api/health wait meanwhile, health calls."""
    waits: list[float] = []
    done = threading.Event()

    def ping() -> None:
        while not done.is_set():
            started = time.perf_counter()
            client.get("/api/health")
            waits.append(time.perf_counter() - started)
            time.sleep(0.02)

    pinger = threading.Thread(target=ping)
    pinger.start()
    time.sleep(0.1)
    started = time.perf_counter()
    ok(client, path)
    seconds = time.perf_counter() - started
    done.set()
    pinger.join()
    return seconds, max(waits), len(waits)


def realized_for_all(sessions: sessionmaker[Session]) -> dict[int, Decimal]:
    """What the engine's loader reads per bot at start: its realised PnL."""
    with sessions() as session:
        bots = list(session.scalars(select(Bot).where(Bot.deleted_at.is_(None))))
        grouped = getattr(store, "realized_by_bot", None)
        if grouped is not None:
            return dict(grouped(session, bots))
        return {bot.id: store.realized_of(session, bot) for bot in bots}


def run(url: str, args: argparse.Namespace) -> None:
    upgrade_database(url)
    seeder = Seeder(args.seed)
    started = time.perf_counter()
    seeder.build(args.bots, args.deals)
    sessions = make_session_factory(make_engine(url))
    seeder.insert(sessions)
    seeded = time.perf_counter() - started
    backend = make_url(url).get_backend_name()
    open_deals = sum(1 for p in seeder.positions if p["status"] == "open")
    print(
        f"db: {backend}; bots: {len(seeder.bots)}, deals: {len(seeder.positions)} "
        f"({open_deals} open), orders: {len(seeder.orders)}, fills: {len(seeder.fills)}, "
        f"signals: {len(seeder.signals)} (seeded in {seeded:.1f} s)"
    )
    settings = Settings(
        database_url=url, admin_password=SecretStr(PASSWORD), candle_dir=tempfile.mkdtemp(),
        _env_file=None,  # type: ignore[call-arg]
    )  # fmt: skip
    app = create_app(settings, sessions, BenchEngine())  # type: ignore[arg-type]
    with TestClient(app) as client:
        token = client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        client.cookies.clear()
        report(client, sessions, args)


def list_figures(client: TestClient, repeat: int, name: str, deep: int) -> None:
    """A first page, a page ``deep`` rows down by offset and, when offered, by cursor."""
    first = f"/api/{name}?limit=100"
    seconds, page = timed(repeat, lambda: ok(client, first))
    deep_seconds, _ = timed(repeat, lambda: ok(client, f"{first}&offset={deep}"))
    print(
        f"GET /api/{name} (count {page['count']}): first page {seconds * 1000:.1f} ms, "
        f"offset {deep} page {deep_seconds * 1000:.1f} ms"
    )
    cursor = page.get("next_cursor")
    if cursor is None:
        return
    seconds, _ = timed(repeat, lambda: ok(client, f"{first}&cursor={cursor}"))
    started, pages = time.perf_counter(), 0
    while cursor is not None:
        cursor, pages = (
            ok(client, f"/api/{name}?limit=500&cursor={cursor}")["next_cursor"],
            pages + 1,
        )
    walk = time.perf_counter() - started
    print(
        f"GET /api/{name} next page by cursor: {seconds * 1000:.1f} ms; "
        f"whole history by cursor: {pages} pages of 500 in {walk:.2f} s"
    )


def report(client: TestClient, sessions: sessionmaker[Session], args: argparse.Namespace) -> None:
    repeat = args.repeat
    seconds, body = timed(repeat, lambda: ok(client, "/api/stats"))
    btc = body["totals"]["BTC"]
    print(f"GET /api/stats: {seconds:.3f} s (BTC realized {btc['realized_pnl']})")
    seconds, _ = timed(repeat, lambda: ok(client, "/api/bots/1/stats"))
    print(f"GET /api/bots/1/stats: {seconds * 1000:.1f} ms")
    for name, deep in [("trades", 50_000), ("positions", 30_000), ("signals", 25_000)]:
        list_figures(client, repeat, name, deep)
    for path in [
        "/api/trades?limit=100&bot_id=641",
        "/api/trades?limit=100&position_id=15000",
        "/api/positions?limit=100&status=open",
        "/api/bots/641/positions?limit=100",
        "/api/positions/15000",
    ]:
        seconds, _ = timed(repeat, lambda path=path: ok(client, path))  # type: ignore[misc]
        print(f"GET {path}: {seconds * 1000:.1f} ms")
    seconds, realized = timed(repeat, lambda: realized_for_all(sessions))
    print(f"engine realised PnL of {len(realized)} bots: {seconds:.3f} s")
    stats_seconds, worst, calls = health_while(client, "/api/stats")
    print(
        f"GET /api/health during GET /api/stats ({stats_seconds:.3f} s): "
        f"longest wait {worst * 1000:.1f} ms over {calls} calls"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bots", type=int, default=1280)
    parser.add_argument("--deals", type=int, default=30_643)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=None)
    arguments = parser.parse_args()
    with fresh_database(arguments.database_url) as database_url:
        run(database_url, arguments)
