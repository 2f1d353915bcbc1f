"""Test doubles and data builders for the API tests.

``RecordingEngine`` stands in for the real engine: it records every control call and serves a
fixed market (ETH-BTC and BTC-USD, fixed candles and last prices).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.config import DEFAULT_PAPER_BALANCES, Settings
from tradefleet.db.models import Base, Bot, Fill, Order, PaperBalance, Position, Signal
from tradefleet.domain import Candle, ProductSpec
from tradefleet.engine.emergency import BotHalt, EmergencyReport
from tradefleet.services.bot_rules import LIVE_OFF

ETH_BTC = ProductSpec(
    product_id="ETH-BTC",
    base_currency="ETH",
    quote_currency="BTC",
    base_increment=Decimal("0.00000001"),
    quote_increment=Decimal("0.00001"),
    price_increment=Decimal("0.00001"),
    base_min_size=Decimal("0.00000001"),
    quote_min_size=Decimal("0.00001"),
)
BTC_USD = ProductSpec(
    product_id="BTC-USD",
    base_currency="BTC",
    quote_currency="USD",
    base_increment=Decimal("0.00000001"),
    quote_increment=Decimal("0.01"),
    price_increment=Decimal("0.01"),
    base_min_size=Decimal("0.00000001"),
    quote_min_size=Decimal("1"),
)
CANDLES = [
    Candle(time=1714564800, open=0.05, high=0.051, low=0.049, close=0.0505, volume=12.5),
    Candle(time=1714565100, open=0.0505, high=0.052, low=0.05, close=0.0515, volume=8.25),
    Candle(time=1714565400, open=0.0515, high=0.0516, low=0.0501, close=0.051, volume=3.0),
]
LAST_PRICES = {"ETH-BTC": Decimal("0.052"), "BTC-USD": Decimal("60000")}
ADMIN_PASSWORD = "correct horse battery staple"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


class FixedMarket:
    """MarketView over two products with fixed candles and prices."""

    def __init__(self) -> None:
        self.products_list = [ETH_BTC, BTC_USD]
        self.prices = dict(LAST_PRICES)
        self.down = False  # True: every call fails as if the exchange were unreachable

    def _check(self) -> None:
        if self.down:
            raise ConnectionError("exchange unreachable")

    async def products(self) -> list[ProductSpec]:
        self._check()
        return list(self.products_list)

    async def product(self, product_id: str) -> ProductSpec | None:
        self._check()
        return next((p for p in self.products_list if p.product_id == product_id), None)

    async def candles(self, product_id: str, timeframe: str, limit: int) -> list[Candle]:
        self._check()
        return CANDLES[-limit:]

    async def last_price(self, product_id: str) -> Decimal:
        self._check()
        return self.prices[product_id]


@dataclass
class RecordingEngine:
    """EngineControl double: records ``(method, id)`` calls."""

    market: FixedMarket = field(default_factory=FixedMarket)
    calls: list[tuple[str, int | None]] = field(default_factory=list)
    health_report: dict[str, Any] = field(default_factory=lambda: {"status": "ok", "bots": 0})
    live_refusal: str | None = LIVE_OFF  # a paper server's

    def _record(self, method: str, target: int | None) -> None:
        self.calls.append((method, target))

    def bot_changed(self, bot_id: int) -> None:
        self._record("bot_changed", bot_id)

    async def close_position(self, position_id: int) -> None:
        self._record("close_position", position_id)

    async def reload_settings(self) -> None:
        self._record("reload_settings", None)

    async def emergency_stop(self, sell_all: bool) -> EmergencyReport:
        self._record("emergency_stop", int(sell_all))
        return EmergencyReport(sell_all, [BotHalt(1, "one", 2, int(sell_all), ["a problem"])])

    def live_problem(self) -> str | None:
        return self.live_refusal

    def health(self) -> dict[str, Any]:
        return dict(self.health_report)


def make_settings(**overrides: Any) -> Settings:
    """Settings pinned to the defaults, whatever TRADEFLEET_* variables the machine has."""
    values: dict[str, Any] = {
        "mode": "paper",
        "market": "exchange",
        "exchange": "coinbase",
        "api_key": None,
        "api_secret": None,
        "admin_password": None,
        "jwt_secret": None,
        "token_minutes": 720,
        "fee_taker": Decimal("0.006"),
        "fee_maker": Decimal("0.004"),
        "slippage": Decimal(0),
        "paper_balances": dict(DEFAULT_PAPER_BALANCES),
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def bot_payload(**overrides: Any) -> dict[str, Any]:
    """A valid POST /api/bots body."""
    payload: dict[str, Any] = {
        "name": "rsi eth",
        "description": "dips on ETH-BTC",
        "strategy_type": "rsi",
        "strategy_config": {"rsi_period": 10, "take_profit_pct": 2.5},
        "product_id": "ETH-BTC",
        "timeframe": "5m",
        "budget": "0.5",
    }
    payload.update(overrides)
    return payload


def add_bot(session: Session, name: str = "seeded", **overrides: Any) -> Bot:
    values: dict[str, Any] = {
        "name": name,
        "strategy_type": "rsi",
        "strategy_config": {},
        "product_id": "ETH-BTC",
        "timeframe": "5m",
        "budget": Decimal("1"),
    }
    values.update(overrides)
    bot = Bot(**values)
    session.add(bot)
    session.commit()
    return bot


def add_position(session: Session, bot: Bot, seq: int, **overrides: Any) -> Position:
    values: dict[str, Any] = {
        "bot_id": bot.id,
        "seq": seq,
        "product_id": bot.product_id,
        "status": "open",
        "opened_at": T0,
    }
    values.update(overrides)
    position = Position(**values)
    session.add(position)
    session.commit()
    return position


def add_order_with_fill(
    session: Session,
    position: Position,
    step: int,
    *,
    side: str,
    price: str,
    base: str,
    fee: str,
    time: datetime,
) -> Order:
    """A filled market order of ``position`` with one fill of ``base`` at ``price``."""
    quote = Decimal(price) * Decimal(base)
    order = Order(
        client_order_id=f"tf-{position.bot_id}-{position.seq}-{step}",
        bot_id=position.bot_id,
        position_id=position.id,
        product_id=position.product_id,
        side=side,
        order_type="market",
        purpose="base" if side == "buy" else "exit",
        quote_amount=quote if side == "buy" else None,
        base_amount=None if side == "buy" else Decimal(base),
        status="filled",
        active_from=int(time.timestamp()),
        filled_base=Decimal(base),
        filled_quote=quote,
        fee=Decimal(fee),
    )
    session.add(order)
    session.flush()
    session.add(
        Fill(
            trade_id=f"paper-{order.client_order_id}",
            order_id=order.id,
            bot_id=position.bot_id,
            position_id=position.id,
            product_id=position.product_id,
            side=side,
            time=time,
            price=Decimal(price),
            base_amount=Decimal(base),
            quote_amount=quote,
            fee=Decimal(fee),
            fee_currency=position.product_id.split("-")[1],
        )
    )
    session.commit()
    return order


def add_signal(session: Session, bot: Bot, candle_time: int, action: str, **extra: Any) -> Signal:
    signal = Signal(bot_id=bot.id, candle_time=candle_time, action=action, created_at=T0, **extra)
    session.add(signal)
    session.commit()
    return signal


def add_balance(session: Session, currency: str, total: str, hold: str, starting: str) -> None:
    session.add(
        PaperBalance(
            currency=currency, total=Decimal(total), hold=Decimal(hold), starting=Decimal(starting)
        )
    )
    session.commit()


def snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove a rejected request changed nothing."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    session.expire_all()
    for mapper in Base.registry.mappers:
        rows = session.execute(select(*mapper.columns).order_by(*mapper.primary_key)).all()
        tables[mapper.class_.__tablename__] = [tuple(row) for row in rows]
    return tables


@dataclass(frozen=True)
class Seeded:
    eth_bot: int
    usd_bot: int
    closed: int  # ETH-BTC deal 1: bought 2 ETH at 0.05, sold at 0.055
    open_eth: int  # ETH-BTC deal 2: bought 1 ETH at 0.048
    open_usd: int  # BTC-USD deal 1: bought 0.01 BTC at 60000


def seed_deals(session_factory: sessionmaker[Session]) -> Seeded:
    """Two bots with three deals and four fills; see ``Seeded``."""
    with session_factory() as session:
        eth = add_bot(session, "eth")
        usd = add_bot(session, "usd", product_id="BTC-USD", budget=Decimal(1000))
        closed = add_position(
            session, eth, 1, status="closed", opened_at=T0, closed_at=T0 + HOUR,
            close_reason="take_profit", base_price=Decimal("0.05"), bought_base=Decimal(2),
            bought_quote=Decimal("0.1"), buy_fees=Decimal("0.0006"), sold_base=Decimal(2),
            sold_quote=Decimal("0.11"), sell_fees=Decimal("0.00044"),
            average_entry_price=Decimal("0.05"), realized_pnl=Decimal("0.00896"),
        )  # fmt: skip
        add_order_with_fill(
            session, closed, 0, side="buy", price="0.05", base="2", fee="0.0006", time=T0
        )
        add_order_with_fill(
            session, closed, 1, side="sell", price="0.055", base="2", fee="0.00044", time=T0 + HOUR
        )
        open_eth = add_position(
            session, eth, 2, opened_at=T0 + 2 * HOUR, base_amount=Decimal(1),
            bought_base=Decimal(1), bought_quote=Decimal("0.048"), buy_fees=Decimal("0.000288"),
        )  # fmt: skip
        add_order_with_fill(
            session,
            open_eth,
            0,
            side="buy",
            price="0.048",
            base="1",
            fee="0.000288",
            time=T0 + 2 * HOUR,
        )
        open_usd = add_position(
            session, usd, 1, opened_at=T0 + 3 * HOUR, base_amount=Decimal("0.01"),
            bought_base=Decimal("0.01"), bought_quote=Decimal(600), buy_fees=Decimal("3.6"),
        )  # fmt: skip
        add_order_with_fill(
            session,
            open_usd,
            0,
            side="buy",
            price="60000",
            base="0.01",
            fee="3.6",
            time=T0 + 3 * HOUR,
        )
        return Seeded(eth.id, usd.id, closed.id, open_eth.id, open_usd.id)
