"""Value types shared by every layer: candles, products, order intents and fills.

They carry no behaviour that does I/O, so the strategies, the deal manager, the paper
fill model and the backtester can all pass them around freely.  Money is ``Decimal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"  # fills at the open of the next candle (+ slippage), taker fee
    LIMIT = "limit"  # rests; fills at its price when a later candle's range reaches it, maker
    STOP = "stop"  # sell-stop: triggers when low <= trigger, fills at min(open, trigger), taker


class OrderStatus(StrEnum):
    """A paper order is pending, open, then filled, cancelled or rejected. A live order
    goes intent (stored, committed) -> sent (the request may have left) -> open ->
    partly_filled -> filled / cancelled / rejected / expired, each step stored."""

    PENDING = "pending"  # recorded, not yet acknowledged by the broker (retry-safe)
    INTENT = "intent"  # live: stored before anything is sent
    SENT = "sent"  # live: the request may have reached the exchange; its answer is due
    OPEN = "open"  # accepted, resting or waiting for the next candle
    PARTLY_FILLED = "partly_filled"  # live: some fills, the rest still working
    WATCHED = "watched"  # live: a stop the engine watches on live prices, not yet sent
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"  # live: the exchange ended it unfilled (or part-filled)


# Orders still working, paper or live: the deal machine holds them, nothing ended them.
WORKING_STATUSES = (
    OrderStatus.PENDING.value,
    OrderStatus.INTENT.value,
    OrderStatus.SENT.value,
    OrderStatus.WATCHED.value,
    OrderStatus.OPEN.value,
    OrderStatus.PARTLY_FILLED.value,
)


class OrderPurpose(StrEnum):
    """Why an order exists; the deal manager reacts to a fill by its purpose."""

    BASE = "base"  # the deal's first buy
    SAFETY = "safety"  # price-deviation safety (DCA) buy, a resting limit
    ADD = "add"  # signal-driven extra buy (DCA on a new entry signal)
    TAKE_PROFIT = "take_profit"  # resting limit sell of the whole deal
    STOP = "stop"  # stop loss or trailing stop of the whole deal
    EXIT = "exit"  # market sell of the whole deal on a strategy exit signal
    MANUAL_CLOSE = "manual_close"  # market sell requested by the user
    GRID_BUY = "grid_buy"
    GRID_SELL = "grid_sell"


class CloseReason(StrEnum):
    TAKE_PROFIT = "take_profit"
    TRAILING = "trailing_take_profit"
    STOP_LOSS = "stop_loss"
    SIGNAL = "signal"
    MANUAL = "manual"
    GRID = "grid"


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLCV candle; ``time`` is its open time in unix seconds (UTC)."""

    time: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class CandleArrays:
    """Candles as column arrays, oldest first: what vectorised strategies consume."""

    time: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    def __len__(self) -> int:
        return int(self.time.shape[0])

    def candle(self, index: int) -> Candle:
        return Candle(
            time=int(self.time[index]),
            open=float(self.open[index]),
            high=float(self.high[index]),
            low=float(self.low[index]),
            close=float(self.close[index]),
            volume=float(self.volume[index]),
        )

    @classmethod
    def from_candles(cls, candles: list[Candle]) -> CandleArrays:
        return cls(
            time=np.array([c.time for c in candles], dtype=np.int64),
            open=np.array([c.open for c in candles], dtype=np.float64),
            high=np.array([c.high for c in candles], dtype=np.float64),
            low=np.array([c.low for c in candles], dtype=np.float64),
            close=np.array([c.close for c in candles], dtype=np.float64),
            volume=np.array([c.volume for c in candles], dtype=np.float64),
        )


@dataclass(frozen=True, slots=True)
class ProductSpec:
    """A tradable pair with the exchange's increments; every sent amount is rounded to them."""

    product_id: str  # Coinbase form, "ETH-BTC"
    base_currency: str
    quote_currency: str
    base_increment: Decimal
    quote_increment: Decimal
    price_increment: Decimal
    base_min_size: Decimal
    quote_min_size: Decimal

    @property
    def symbol(self) -> str:
        """ccxt's unified symbol, "ETH/BTC"."""
        return f"{self.base_currency}/{self.quote_currency}"


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Fee rates as fractions (0.006 = 0.6 %); Coinbase Advanced Trade's entry tier by default."""

    taker: Decimal = Decimal("0.006")
    maker: Decimal = Decimal("0.004")
    slippage: Decimal = Decimal("0")  # fraction added to buys / taken from sells at market


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """An order the deal manager wants placed.

    Buys at market are sized in quote (``quote_amount``); every other order is sized in
    base (``base_amount``). ``client_order_id`` is deterministic (bot, deal, step), so a
    retried placement can never buy twice.
    """

    client_order_id: str
    deal_seq: int  # the deal's per-bot sequence number
    side: Side
    order_type: OrderType
    purpose: OrderPurpose
    base_amount: Decimal | None = None
    quote_amount: Decimal | None = None
    price: Decimal | None = None  # limit price (LIMIT)
    trigger_price: Decimal | None = None  # trigger (STOP)


@dataclass(frozen=True, slots=True)
class CancelOrder:
    client_order_id: str


OrderIntent = PlaceOrder | CancelOrder


@dataclass(frozen=True, slots=True)
class Fill:
    """What a broker executed. ``quote_amount`` = price x base, gross; ``fee`` in quote."""

    client_order_id: str
    time: int  # unix seconds
    side: Side
    price: Decimal
    base_amount: Decimal
    quote_amount: Decimal
    fee: Decimal


class SignalAction(StrEnum):
    BUY = "buy"
    SELL = "sell"
    HOLD = "hold"


@dataclass(frozen=True, slots=True)
class Signal:
    """A strategy's decision on one closed candle, with the indicator values behind it."""

    time: int
    action: SignalAction
    price: float  # the candle's close
    reason: str = ""
    indicators: dict[str, float] | None = None
