"""What the kernel returns, and its fills as the reference's exact ``domain.Fill``s.

The float64 prices, quote amounts and fees are for metrics and plots. ``to_fills``
rebuilds every fill exactly instead of rounding those floats: the kernel keeps what
each amount is made of (base in lots, a limit or trigger price in ticks, otherwise the
candle's open as the float the reference reads), and the Decimal rules of
``brokers.fill_model`` are applied to them again, so each ``Fill`` equals the
reference's to the last digit whenever the kernel took the same decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tradefleet.deals.book import client_order_id
from tradefleet.domain import (
    CloseReason,
    FeeSchedule,
    Fill,
    FloatArray,
    IntArray,
    OrderPurpose,
    ProductSpec,
    Side,
)
from tradefleet.money import fee_for, quantize_amount, to_decimal

# Index = the kernel's code (``layout.P_*``, ``layout.CR_*``, ``layout.SIDE_*``).
PURPOSES: tuple[OrderPurpose, ...] = (
    OrderPurpose.BASE,
    OrderPurpose.SAFETY,
    OrderPurpose.ADD,
    OrderPurpose.TAKE_PROFIT,
    OrderPurpose.STOP,
    OrderPurpose.EXIT,
    OrderPurpose.GRID_BUY,
    OrderPurpose.GRID_SELL,
)
CLOSE_REASONS: tuple[CloseReason, ...] = (
    CloseReason.TAKE_PROFIT,
    CloseReason.TRAILING,
    CloseReason.STOP_LOSS,
    CloseReason.SIGNAL,
    CloseReason.GRID,
)
SIDES: tuple[Side, ...] = (Side.BUY, Side.SELL)
_TAKER_PURPOSES = frozenset(
    {OrderPurpose.BASE, OrderPurpose.ADD, OrderPurpose.EXIT, OrderPurpose.STOP}
)
_GRID_PURPOSES = frozenset({OrderPurpose.GRID_BUY, OrderPurpose.GRID_SELL})


@dataclass(frozen=True, slots=True)
class KernelFills:
    """One entry per fill, in the order the reference produces them."""

    time: IntArray  # open time of the candle it filled on
    side: IntArray  # index into SIDES
    price: FloatArray
    base_amount: FloatArray
    quote_amount: FloatArray  # price x base, gross
    fee: FloatArray
    purpose: IntArray  # index into PURPOSES
    deal_seq: IntArray
    base_lots: IntArray  # base_amount in base increments (exact)
    order_number: IntArray  # n of the client order id
    level: IntArray  # grid: the order's price level, else -1
    cycle: IntArray  # grid: the buy cycle of the deal's level, else -1
    raw_price: FloatArray  # price before slippage
    raw_ticks: IntArray  # raw_price in price increments when it is the order's own, else -1

    def __len__(self) -> int:
        return int(self.time.shape[0])


@dataclass(frozen=True, slots=True)
class KernelDeals:
    """One entry per deal that was not discarded (it bought something), by seq."""

    seq: IntArray
    opened_at: IntArray  # time of its first buy fill
    closed_at: IntArray  # -1 while open at the end
    close_reason: IntArray  # index into CLOSE_REASONS, -1 while open
    safety_orders: IntArray  # safety orders filled
    adds: IntArray  # signal adds filled
    grid_level: IntArray  # -1 for signal deals
    bought_lots: IntArray  # base bought, in base increments (held = this until closed)
    bought_quote: FloatArray
    buy_fees: FloatArray
    sold_quote: FloatArray
    sell_fees: FloatArray
    realized_pnl: FloatArray  # NaN while open
    max_committed: FloatArray  # most quote the deal had committed at a candle close

    def __len__(self) -> int:
        return int(self.seq.shape[0])


@dataclass(frozen=True, slots=True)
class KernelResult:
    fills: KernelFills
    deals: KernelDeals
    equity: FloatArray  # per candle, at its close
    max_committed_quote: float  # most quote committed at the close of any candle
    fees: FeeSchedule  # the schedule the run used (``to_fills`` re-applies it)


def _raw_price(fills: KernelFills, index: int, product: ProductSpec) -> Decimal:
    ticks = int(fills.raw_ticks[index])
    if ticks >= 0:
        return Decimal(ticks) * product.price_increment
    return to_decimal(float(fills.raw_price[index]))


def _fill_price(raw: Decimal, purpose: OrderPurpose, side: Side, fees: FeeSchedule) -> Decimal:
    """``fill_model``: market and stop fills move against the trader by the slippage."""
    if purpose not in _TAKER_PURPOSES or not fees.slippage:
        return raw
    factor = 1 + fees.slippage if side is Side.BUY else 1 - fees.slippage
    return quantize_amount(raw * factor)


def _client_order_id(fills: KernelFills, index: int, purpose: OrderPurpose, bot_id: int) -> str:
    seq = int(fills.deal_seq[index])
    number = int(fills.order_number[index])
    if purpose in _GRID_PURPOSES:
        label = f"{int(fills.level[index])}c{int(fills.cycle[index])}n{number}"
        return client_order_id(bot_id, seq, purpose, label)
    return client_order_id(bot_id, seq, purpose, str(number))


def to_fills(result: KernelResult, product: ProductSpec, bot_id: int = 1) -> list[Fill]:
    """The kernel's fills as the reference's ``Fill``s (``bot_id`` names the orders)."""
    fills = result.fills
    fees = result.fees
    out: list[Fill] = []
    for index in range(len(fills)):
        purpose = PURPOSES[int(fills.purpose[index])]
        side = SIDES[int(fills.side[index])]
        price = _fill_price(_raw_price(fills, index, product), purpose, side, fees)
        base = Decimal(int(fills.base_lots[index])) * product.base_increment
        quote = quantize_amount(price * base)
        rate = fees.taker if purpose in _TAKER_PURPOSES else fees.maker
        out.append(
            Fill(
                client_order_id=_client_order_id(fills, index, purpose, bot_id),
                time=int(fills.time[index]),
                side=side,
                price=price,
                base_amount=base,
                quote_amount=quote,
                fee=fee_for(quote, rate),
            )
        )
    return out
