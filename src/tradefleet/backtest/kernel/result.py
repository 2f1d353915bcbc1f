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
from decimal import ROUND_HALF_UP, Context, Decimal

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
from tradefleet.money import AMOUNT_QUANTUM, fee_for, to_decimal

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
# ``money.quantize_amount``'s 60-digit context, made once instead of per call.
_AMOUNTS = Context(prec=60)


def quantize_18(value: Decimal) -> Decimal:
    """``money.quantize_amount(value)``: 18 places, halves up."""
    return value.quantize(AMOUNT_QUANTUM, rounding=ROUND_HALF_UP, context=_AMOUNTS)


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


def _order_ids(fills: KernelFills, purposes: list[OrderPurpose], bot_id: int) -> list[str]:
    """Every fill's client order id, as ``book.client_order_id`` names it."""
    ids: list[str] = []
    for seq, purpose, number, level, cycle in zip(
        fills.deal_seq.tolist(),
        purposes,
        fills.order_number.tolist(),
        fills.level.tolist(),
        fills.cycle.tolist(),
        strict=True,
    ):
        label = f"{level}c{cycle}n{number}" if purpose in _GRID_PURPOSES else str(number)
        ids.append(client_order_id(bot_id, seq, purpose, label))
    return ids


def _raw_prices(fills: KernelFills, product: ProductSpec) -> list[Decimal]:
    """The price before slippage: the order's own in ticks, else the candle's open."""
    increment = product.price_increment
    return [
        Decimal(ticks) * increment if ticks >= 0 else to_decimal(raw)
        for ticks, raw in zip(fills.raw_ticks.tolist(), fills.raw_price.tolist(), strict=True)
    ]


def to_fills(result: KernelResult, product: ProductSpec, bot_id: int = 1) -> list[Fill]:
    """The kernel's fills as the reference's ``Fill``s (``bot_id`` names the orders).

    The same Decimal rules as ``fill_model``, applied over plain lists: the per-fill cost
    of a backtest with tens of thousands of fills is this loop.
    """
    fills, fees = result.fills, result.fees
    purposes = [PURPOSES[code] for code in fills.purpose.tolist()]
    sides = [SIDES[code] for code in fills.side.tolist()]
    increment = product.base_increment
    slipped = {Side.BUY: 1 + fees.slippage, Side.SELL: 1 - fees.slippage}
    out: list[Fill] = []
    for cid, time, side, purpose, raw, lots in zip(
        _order_ids(fills, purposes, bot_id),
        fills.time.tolist(),
        sides,
        purposes,
        _raw_prices(fills, product),
        fills.base_lots.tolist(),
        strict=True,
    ):
        taker = purpose in _TAKER_PURPOSES
        # ``fill_model``: market and stop fills move against the trader by the slippage.
        price = quantize_18(raw * slipped[side]) if taker and fees.slippage else raw
        base = Decimal(lots) * increment
        quote = quantize_18(price * base)
        fee = fee_for(quote, fees.taker if taker else fees.maker)
        out.append(Fill(cid, time, side, price, base, quote, fee))
    return out
