"""SQLAlchemy 2.0 typed models: bots, positions (deals), orders, fills, signals, settings,
backtest runs.

Amounts are ``Money`` (exact Decimal on every backend); times are aware UTC datetimes.
A position's columns mirror the deal manager's ``DealState`` so a restart resumes exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from tradefleet.db.types import Money, UtcDateTime

if TYPE_CHECKING:
    from tradefleet.domain import PlaceOrder

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Bot(Base):
    __tablename__ = "bots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    strategy_type: Mapped[str] = mapped_column(String(50))
    strategy_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    product_id: Mapped[str] = mapped_column(String(40))
    timeframe: Mapped[str] = mapped_column(String(8))
    budget: Mapped[Decimal] = mapped_column(Money)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whose money the bot trades: "paper" (the simulated account) or "live" (the exchange).
    account: Mapped[str] = mapped_column(String(8), default="paper", server_default="paper")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The last edit by a user; set by services.bots, not by the engine's bookkeeping.
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_signal_check: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_candle_time: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_indicators: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Deal-manager bookkeeping that outlives a deal (next deal number, cooldown, grid).
    manager_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set when the bot is deleted: its deals, orders and fills stay (the paper account's
    # balances are explained by them), but the bot is hidden everywhere bots are listed.
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Set by an emergency stop: the bot places nothing until a user starts it again.
    halted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    # The service soft-deletes (``deleted_at``); a hard delete, in SQL or through the ORM,
    # still cascades, and without cascade="all, delete" a loaded child would be orphaned.
    positions: Mapped[list[Position]] = relationship(
        back_populates="bot", cascade="all, delete", passive_deletes=True
    )


class Position(Base):
    """One deal: its entry, safety and add buys, and its exit."""

    __tablename__ = "positions"
    __table_args__ = (
        UniqueConstraint("bot_id", "seq", name="uq_positions_bot_seq"),
        Index("ix_positions_bot_status", "bot_id", "status"),
        # The lists' keyset order (newest opened first), of all bots and of one.
        Index("ix_positions_opened", "opened_at", "id"),
        Index("ix_positions_bot_opened", "bot_id", "opened_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)  # the deal's number within its bot
    product_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    close_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    base_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    base_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))  # held now
    bought_base: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    bought_quote: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    buy_fees: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    sold_base: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    sold_quote: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    sell_fees: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    average_entry_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    safety_orders_filled: Mapped[int] = mapped_column(Integer, default=0)
    adds_filled: Mapped[int] = mapped_column(Integer, default=0)
    take_profit_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    stop_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    trailing_active: Mapped[bool] = mapped_column(Boolean, default=False)
    trailing_peak: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    realized_pnl: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    grid_level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    order_seq: Mapped[int] = mapped_column(Integer, default=0)  # for client order ids

    bot: Mapped[Bot] = relationship(back_populates="positions")
    orders: Mapped[list[Order]] = relationship(
        back_populates="position", order_by="Order.id", cascade="all, delete", passive_deletes=True
    )


class Order(Base):
    """What was sent to a broker. ``client_order_id`` is deterministic: (bot, deal, step)."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_bot_status", "bot_id", "status"),
        Index("ix_orders_position", "position_id"),  # a deal's orders (detail view)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    exchange_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    bot_id: Mapped[int | None] = mapped_column(
        ForeignKey("bots.id", ondelete="CASCADE"), nullable=True
    )
    position_id: Mapped[int | None] = mapped_column(
        ForeignKey("positions.id", ondelete="CASCADE"), nullable=True
    )
    product_id: Mapped[str] = mapped_column(String(40))
    side: Mapped[str] = mapped_column(String(4))
    order_type: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(16))
    base_amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    quote_amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    limit_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    trigger_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    active_from: Mapped[int] = mapped_column(Integer)  # first candle time it may fill on
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    filled_base: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    filled_quote: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    fee: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    reserved: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))  # quote a buy holds
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # live: the deal machine asked for its cancel and the exchange has not confirmed it
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # live: when the deal machine was told how the order ended (None: not yet)
    told_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    position: Mapped[Position | None] = relationship(back_populates="orders")
    fills: Mapped[list[Fill]] = relationship(
        back_populates="order", order_by="Fill.id", cascade="all, delete", passive_deletes=True
    )


def intent_columns(intent: PlaceOrder) -> dict[str, Any]:
    """The ``orders`` columns an order intent gives, the same whichever broker takes it
    (the paper engine's bulk rows, the live broker's ``record_intent``)."""
    return {
        "client_order_id": intent.client_order_id,
        "side": intent.side.value,
        "order_type": intent.order_type.value,
        "purpose": intent.purpose.value,
        "base_amount": intent.base_amount,
        "quote_amount": intent.quote_amount,
        "limit_price": intent.price,
        "trigger_price": intent.trigger_price,
    }


class OrderEvent(Base):
    """One step of a live order's life (``domain.OrderStatus``), with what caused it."""

    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_order", "order_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class Fill(Base):
    """An execution. ``quote_amount`` is gross (price x base); the fee is in quote."""

    __tablename__ = "fills"
    __table_args__ = (
        # GET /trades' keyset order (newest first), of all bots and of one.
        Index("ix_fills_time", "time", "id"),
        Index("ix_fills_bot_time_id", "bot_id", "time", "id"),
        Index("ix_fills_position", "position_id"),
        Index("ix_fills_order", "order_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trade_id: Mapped[str] = mapped_column(String(80), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    bot_id: Mapped[int | None] = mapped_column(
        ForeignKey("bots.id", ondelete="CASCADE"), nullable=True
    )
    position_id: Mapped[int | None] = mapped_column(
        ForeignKey("positions.id", ondelete="CASCADE"), nullable=True
    )
    product_id: Mapped[str] = mapped_column(String(40))
    side: Mapped[str] = mapped_column(String(4))
    time: Mapped[datetime] = mapped_column(UtcDateTime)
    price: Mapped[Decimal] = mapped_column(Money)
    base_amount: Mapped[Decimal] = mapped_column(Money)
    quote_amount: Mapped[Decimal] = mapped_column(Money)
    fee: Mapped[Decimal] = mapped_column(Money)
    fee_currency: Mapped[str] = mapped_column(String(12))

    order: Mapped[Order] = relationship(back_populates="fills")


class Signal(Base):
    """A strategy's decision on a closed candle (buys, sells and errors are logged)."""

    __tablename__ = "signals"
    __table_args__ = (
        # The signal log's keyset order (newest candle first), of all bots and of one.
        Index("ix_signals_time", "candle_time", "id"),
        Index("ix_signals_bot_time_id", "bot_id", "candle_time", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    candle_time: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(8))  # buy | sell | hold | error
    price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    indicators: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class PaperBalance(Base):
    """The paper account: ``total`` per currency; ``hold`` is what resting buys reserve."""

    __tablename__ = "paper_balances"

    currency: Mapped[str] = mapped_column(String(12), primary_key=True)
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    hold: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    starting: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))


class Setting(Base):
    """Key/value settings changed at run time (fees, starting balances, password hash)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Backtest(Base):
    """One backtest run requested through the API, its state and, once done, its results.

    ``request`` holds the validated input (money as decimal strings); ``metrics`` and
    ``result`` (``{"trades": [...], "equity": [[time, value], ...]}``) are the documents
    ``tradefleet backtest --output`` writes, split so a listing needs not load the heavy part.
    """

    __tablename__ = "backtests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|done|failed
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0 .. 1
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
