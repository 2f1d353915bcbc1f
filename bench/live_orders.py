"""Live broker benchmark against the local fake Coinbase: orders a second under the rate
limit, and the time to reconcile open orders after a restart.

The fake (``tests/fakes/coinbase_orders.py``) runs in this process and checks every
request's JWT; the live order service uses one ccxt client with its throttle on, the one
limit of a process (about 30 private requests a second on Coinbase).

1. ``--orders`` orders, half market buys by quote and half post-only limit sells, placed
   by ``--concurrency`` workers: orders a second, requests a second, and the most
   requests the fake saw in any one second.
2. ``--open`` resting limit orders (placed with the throttle off, to be quick), of which
   ``--filled`` fill while the server is "down"; then a new client reconciles them all:
   its time and the requests it made.

    .venv/bin/python bench/live_orders.py [--orders 200] [--concurrency 16]
        [--open 1000] [--filled 50]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fake lives in tests/

from tests.fakes.coinbase_orders import FakeOrders, running_fake_exchange

from tradefleet.brokers.credentials import ExchangeCredentials, KeyKind
from tradefleet.brokers.exchange_client import private_client
from tradefleet.brokers.live.gateway import ExchangeGateway
from tradefleet.brokers.live.orders import LiveOrders, record_intent
from tradefleet.brokers.live.profiles import COINBASE
from tradefleet.brokers.live.reconcile import reconcile
from tradefleet.db.migrate import upgrade_database
from tradefleet.db.models import Bot, Position
from tradefleet.db.session import make_engine, make_session_factory, transaction
from tradefleet.domain import (
    OrderPurpose,
    OrderStatus,
    OrderType,
    PlaceOrder,
    ProductSpec,
    Side,
)

PRODUCT = ProductSpec(
    "BTC-USD", "BTC", "USD", Decimal("0.00000001"), Decimal("0.01"), Decimal("0.01"),
    Decimal("0.0001"), Decimal(1),
)  # fmt: skip


def busiest_second(times: list[float]) -> int:
    """The most requests that arrived within any one second."""
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


class Bench:
    def __init__(self, exchange: FakeOrders, folder: Path) -> None:
        self.exchange = exchange
        url = f"sqlite:///{folder}/live.db"
        upgrade_database(url)
        self.sessions = make_session_factory(make_engine(url, immediate=True))
        name, pem = exchange.account.add_ec_key()
        self.key = ExchangeCredentials(name, SecretStr(pem), KeyKind.EC)
        with transaction(self.sessions) as session:
            bot = Bot(name="bench", strategy_type="grid", strategy_config={},
                      product_id="BTC-USD", timeframe="5m", budget=Decimal(10**6))  # fmt: skip
            session.add(bot)
            session.flush()
            deal = Position(bot_id=bot.id, seq=1, product_id="BTC-USD",
                            opened_at=datetime.now(UTC))  # fmt: skip
            session.add(deal)
            session.flush()
            self.bot_id, self.deal_id = bot.id, deal.id
        self.number = 0

    def broker(self, *, throttle: bool) -> LiveOrders:
        client = private_client(
            "coinbase", self.exchange.account.fake.url, self.key, rate_limit=throttle
        )
        return LiveOrders(self.sessions, ExchangeGateway(client, COINBASE))

    def intend(self, market: bool, price: str = "60000.00") -> int:
        self.number += 1
        cid = f"tf-{self.bot_id}-1-x{self.number}"
        if market:
            intent = PlaceOrder(cid, 1, Side.BUY, OrderType.MARKET, OrderPurpose.BASE,
                                quote_amount=Decimal("10.00"))  # fmt: skip
        else:
            intent = PlaceOrder(cid, 1, Side.SELL, OrderType.LIMIT, OrderPurpose.TAKE_PROFIT,
                                base_amount=Decimal("0.0001"), price=Decimal(price))  # fmt: skip
        with transaction(self.sessions) as session:
            return record_intent(session, intent, PRODUCT, bot_id=self.bot_id,
                                 position_id=self.deal_id, active_from=0).id  # fmt: skip

    async def place_all(self, broker: LiveOrders, ids: list[int], workers: int) -> list[str]:
        queue = list(ids)
        statuses: list[str] = []

        async def worker() -> None:
            while queue:
                outcome = await broker.place(queue.pop(), PRODUCT)
                statuses.append(outcome.status.value)

        await asyncio.gather(*(worker() for _ in range(workers)))
        return statuses


async def run(args: argparse.Namespace) -> int:
    async with running_fake_exchange() as exchange:
        exchange.account.fake.add_product("BTC-USD", price="50000", base_min_size="0.0001")
        exchange.account.set_balance("USD", "100000000")
        exchange.account.set_balance("BTC", "1000")
        with tempfile.TemporaryDirectory() as folder:
            bench = Bench(exchange, Path(folder))
            ids = [bench.intend(market=n % 2 == 0) for n in range(args.orders)]
            broker = bench.broker(throttle=True)
            fake = exchange.account.fake
            asked = len(fake.requests)
            started = time.perf_counter()
            statuses = await bench.place_all(broker, ids, args.concurrency)
            seconds = time.perf_counter() - started
            arrivals = [r.at for r in fake.requests[asked:]]
            await broker.gateway.close()
            good = statuses.count(OrderStatus.FILLED.value) + statuses.count(OrderStatus.OPEN.value)
            print(f"{args.orders} orders ({good} filled or resting, {len(exchange.orders)} on the "
                  f"exchange) in {seconds:.2f} s: {args.orders / seconds:.1f} orders/s, "
                  f"{len(arrivals) / seconds:.1f} requests/s, at most "
                  f"{busiest_second(arrivals)} requests in one second")  # fmt: skip

            fast = bench.broker(throttle=False)
            resting = [
                bench.intend(market=False, price=f"{60000 + n}.00") for n in range(args.open)
            ]
            await bench.place_all(fast, resting, args.concurrency)
            await fast.gateway.close()
            for n in range(args.filled):  # while the server was down
                exchange.trade("BTC-USD", f"{60000 + n}")
            exchange.account.fake.prices["BTC-USD"] = "50000"
            restarted = bench.broker(throttle=True)
            asked = len(fake.requests)
            started = time.perf_counter()
            products = {"BTC-USD": PRODUCT}
            report = await reconcile(bench.sessions, restarted, products, [bench.bot_id])
            seconds = time.perf_counter() - started
            await restarted.gateway.close()
            print(f"reconcile after a restart: {report.checked} working orders, {report.read} "
                  f"read one by one, {report.new_fills} new fills, ended {dict(report.ended)}, "
                  f"in {seconds:.2f} s with {len(fake.requests) - asked} requests; "
                  f"problems: {report.problems or 'none'}")  # fmt: skip
            duplicates = len(exchange.orders) - len(set(exchange.by_client_id))
            print(f"orders on the exchange: {len(exchange.orders)}, duplicates: {duplicates}")
            return 1 if duplicates or report.problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--open", type=int, default=1000)
    parser.add_argument("--filled", type=int, default=50)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
