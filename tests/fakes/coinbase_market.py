"""The fake exchange with a market that moves, run by hand: to try live trading
(``tradefleet serve`` with ``TRADEFLEET_MODE=live``) on this machine, with no real money.

    python -m tests.fakes.coinbase_market --key-file key.json

writes a freshly generated CDP-style key (the JSON file Coinbase offers) and prints the
settings that point tradefleet at the fake. BTC-USD and ETH-USD trade once a second along
a seeded random walk; the fake's 1 m to 1 h candles are built from those trades (with
five hours of history before the start), and resting limit orders fill when the walk
reaches them. The account starts with 10,000 USD.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import threading
import time
from contextlib import suppress
from pathlib import Path

from tests.fakes.coinbase_orders import FakeOrders, running_fake_exchange
from tests.fakes.coinbase_private import in_thread

from tradefleet.domain import Candle

GRANULARITIES = (60, 300, 900, 3600)
HISTORY_SECONDS = 5 * 3600
STARTS = {"BTC-USD": 50000.0, "ETH-USD": 3000.0}
VOLATILITY = 0.0004  # of the price, per second


class MovingMarket:
    """Trades each product once a second and keeps the fake's candles up to date."""

    def __init__(self, exchange: FakeOrders, seed: int = 7) -> None:
        self.exchange = exchange
        self.random = random.Random(seed)
        self.prices = dict(STARTS)
        fake = exchange.account.fake
        fake.add_product("BTC-USD", price="50000", base_min_size="0.0001", quote_min_size="1")
        fake.add_product("ETH-USD", price="3000", base_min_size="0.001", quote_min_size="1")
        now = int(time.time())
        for second in range(now - HISTORY_SECONDS, now):
            self._step(second, trade=False)

    def _step(self, second: int, *, trade: bool) -> None:
        fake = self.exchange.account.fake
        for product_id, before in self.prices.items():
            price = before * math.exp(self.random.gauss(0.0, VOLATILITY))
            self.prices[product_id] = price
            text = f"{price:.2f}"
            if trade:
                self.exchange.trade(product_id, text)  # resting limits it reaches fill
            else:
                fake.prices[product_id] = text
            for granularity in GRANULARITIES:
                self._add(product_id, granularity, second, float(text))

    def _add(self, product_id: str, granularity: int, second: int, price: float) -> None:
        candles = self.exchange.account.fake.candles.setdefault((product_id, granularity), {})
        start = second // granularity * granularity
        old = candles.get(start)
        candles[start] = (
            Candle(time=start, open=price, high=price, low=price, close=price, volume=1.0)
            if old is None
            else Candle(time=start, open=old.open, high=max(old.high, price),
                        low=min(old.low, price), close=price, volume=old.volume + 1.0)
        )  # fmt: skip

    async def run(self) -> None:
        while True:
            await asyncio.sleep(1.0 - time.time() % 1.0)
            self._step(int(time.time()), trade=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--key-file", type=Path, required=True)
    parser.add_argument("--usd", default="10000", help="the account's USD to start with")
    args = parser.parse_args()
    with in_thread(running_fake_exchange) as (exchange, loop):
        market = MovingMarket(exchange)
        exchange.account.set_balance("USD", args.usd)
        name, secret = exchange.account.add_ec_key()
        args.key_file.write_text(json.dumps({"name": name, "privateKey": secret}))
        asyncio.run_coroutine_threadsafe(market.run(), loop)
        print(f"TRADEFLEET_EXCHANGE_API_URL={exchange.account.fake.url}")
        print(f"TRADEFLEET_API_KEY_FILE={args.key_file}", flush=True)
        with suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
