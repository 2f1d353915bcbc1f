"""The live order harness: a fake exchange with its account and key, a database, and
live order services with their own ccxt clients (a restart makes a new one)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.api import api_testkit
from tests.fakes.coinbase_orders import FakeOrders, running_fake_exchange
from tests.fakes.coinbase_server import V3

from tradefleet.brokers.credentials import ExchangeCredentials, KeyKind
from tradefleet.brokers.exchange_client import private_client
from tradefleet.brokers.live.gateway import ExchangeGateway
from tradefleet.brokers.live.orders import LiveOrders, record_intent
from tradefleet.brokers.live.profiles import COINBASE
from tradefleet.db.models import Bot, Fill, Order, OrderEvent, Position
from tradefleet.db.session import transaction
from tradefleet.domain import OrderPurpose, OrderType, PlaceOrder, Side

# BTC-USD as Coinbase lists it, with a minimum order of 0.0001 BTC (1 USD by quote)
BTC_USD = replace(api_testkit.BTC_USD, base_min_size=Decimal("0.0001"))
ORDERS_PATH = f"{V3}/orders"


async def no_pause(_seconds: float) -> None:
    return None


@dataclass
class Live:
    exchange: FakeOrders
    sessions: sessionmaker[Session]
    key: ExchangeCredentials
    gateways: list[ExchangeGateway]

    def broker(
        self,
        retry_seconds: tuple[float, ...] = (0.1, 0.1),
        *,
        clock: list[float] | None = None,
        waits: list[float] | None = None,
        timeout_ms: int | None = None,
    ) -> LiveOrders:
        """A live order service with its own ccxt client (a restart makes a new one).
        With ``clock`` (one number, seconds) the gateway's time is that number, and a
        wait it makes moves it on at once and is noted in ``waits``; ``timeout_ms``
        shortens the client's request timeout (15 s in the server)."""
        url = self.exchange.account.fake.url
        client = private_client("coinbase", url, self.key, rate_limit=False)
        if timeout_ms is not None:
            client.timeout = timeout_ms
        if clock is None:
            gateway = ExchangeGateway(client, COINBASE)
        else:
            now = clock

            async def wait(seconds: float) -> None:
                now[0] += seconds
                if waits is not None:
                    waits.append(seconds)

            gateway = ExchangeGateway(client, COINBASE, sleep=wait, clock=lambda: now[0])
        self.gateways.append(gateway)
        return LiveOrders(self.sessions, gateway, retry_seconds=retry_seconds, sleep=no_pause)

    def intend(
        self, intent: PlaceOrder, bot_id: int | None = None, position_id: int | None = None
    ) -> int:
        with transaction(self.sessions) as session:
            return record_intent(
                session, intent, BTC_USD, bot_id=bot_id, position_id=position_id, active_from=0
            ).id

    def stored(self, order_id: int) -> tuple[Order, list[Fill], list[str]]:
        with transaction(self.sessions) as session:
            order = session.get_one(Order, order_id)
            fills = list(session.scalars(select(Fill).where(Fill.order_id == order_id)))
            events = list(
                session.scalars(
                    select(OrderEvent.status)
                    .where(OrderEvent.order_id == order_id)
                    .order_by(OrderEvent.id)
                )
            )
            return order, fills, events

    def bot_with_a_deal(self, name: str = "live-rsi") -> tuple[int, int]:
        """A bot and its open deal: (bot id, position id)."""
        with transaction(self.sessions) as session:
            bot = Bot(
                name=name, strategy_type="rsi", strategy_config={}, product_id="BTC-USD",
                timeframe="5m", budget=Decimal(1000), is_active=True,
            )  # fmt: skip
            session.add(bot)
            session.flush()
            deal = Position(bot_id=bot.id, seq=1, product_id="BTC-USD", opened_at=datetime.now(UTC))
            session.add(deal)
            session.flush()
            return bot.id, deal.id

    def creates_sent(self) -> int:
        fake = self.exchange.account.fake
        return sum(1 for r in fake.requests if r.method == "POST" and r.path == ORDERS_PATH)


@asynccontextmanager
async def live_exchange(sessions: sessionmaker[Session]) -> AsyncIterator[Live]:
    """10,000 USD and 1 BTC on an account trading BTC-USD at 50,000."""
    async with running_fake_exchange() as exchange:
        account = exchange.account
        account.fake.add_product(
            "BTC-USD", price="50000", base_min_size="0.0001", quote_min_size="1"
        )
        account.set_balance("USD", "10000")
        account.set_balance("BTC", "1")
        name, pem = account.add_ec_key()
        key = ExchangeCredentials(name, SecretStr(pem), KeyKind.EC)
        harness = Live(exchange, sessions, key, [])
        try:
            yield harness
        finally:
            for gateway in harness.gateways:
                await gateway.close()
        assert account.refusals == []  # every request carried a valid JWT


def market_buy(quote: str, cid: str = "tf-1-1-b1") -> PlaceOrder:
    return PlaceOrder(
        cid, 1, Side.BUY, OrderType.MARKET, OrderPurpose.BASE, quote_amount=Decimal(quote)
    )


def take_profit(base: str, price: str, cid: str = "tf-1-1-t1") -> PlaceOrder:
    return PlaceOrder(
        cid, 1, Side.SELL, OrderType.LIMIT, OrderPurpose.TAKE_PROFIT,
        base_amount=Decimal(base), price=Decimal(price),
    )  # fmt: skip
