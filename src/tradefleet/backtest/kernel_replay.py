"""The exact deal book behind the kernel's fills: deal summaries and the peak committed quote.

``to_fills`` makes the kernel's fills exact, but its deal records and its peak of
committed quote are float64 sums. This module replays the reference's own bookkeeping
over the exact fills (``book.record_buy``, ``book.close``, ``safety.place_safety_orders``,
the managers' ``on_candle``/``on_fill``/``on_reject``), so deals and peak equal the
reference engine's to the last digit. It visits only the candles where the *buy side*
of the book can change, so its cost follows the number of orders, not of candles:

- Committed quote (``book.total_committed``) rises only when a buy is placed: a market
  buy fills for at most the quote it reserved, a limit buy for exactly its reservation,
  and sells reserve nothing. Its maximum over the candles that placed any order (the
  reference's measure) is therefore its maximum over the candles that placed a buy.
- Signal deals place buys when a base order fills (its safety ladder) and on a BUY
  signal (a market base or add order, which fills on the next candle, so it shows in
  the kernel's fills, or is refused there as too small). The only other change to the
  buy side is a SELL signal's exit cancelling a deal's safety orders; its market sell
  fills on the next candle. So the replay visits the fill candles, the BUY and SELL
  candles followed by such a fill, the BUY candles after which a market buy could be
  refused, and the last candle. Take profits, stops and trailing only move sells:
  they are not replayed, their fills arrive as closes.
- A grid arms free levels below the close that fit the budget and re-arms on a sell
  fill: the replay visits the fill candles and the first candle closing at or above
  the lowest free level that fits (the book does not change in between).

Anything the kernel reports that the replay contradicts (a fill of an order the book
lacks, a deal counter, a peak beyond float error) raises :class:`ReplayMismatchError`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from tradefleet.backtest.engines import BACKTEST_BOT_ID, DealSummary
from tradefleet.backtest.kernel import CLOSE_REASONS, PURPOSES, KernelResult
from tradefleet.brokers.fill_model import WorkingOrder, unfillable, validate_order
from tradefleet.deals.book import (
    Step,
    close,
    draft,
    limit_buy_cost,
    record_buy,
    spendable,
    total_committed,
)
from tradefleet.deals.grid import grid_levels
from tradefleet.deals.protocol import manager_for
from tradefleet.deals.safety import place_safety_orders
from tradefleet.deals.settings import DealSettings, GridSettings
from tradefleet.deals.state import BotState, DealState
from tradefleet.domain import (
    BoolArray,
    Candle,
    CandleArrays,
    FeeSchedule,
    Fill,
    FloatArray,
    IntArray,
    OrderPurpose,
    OrderType,
    PlaceOrder,
    ProductSpec,
    Side,
    Signal,
    SignalAction,
)
from tradefleet.money import round_down

_REFUSAL_SLACK = 1e-6  # relative margin of the "a market buy could be refused" pre-check
_BLOCK = 512  # candles per block of FirstAbove's maxima


class ReplayMismatchError(Exception):
    """The kernel's output contradicts the exact replay of the reference's bookkeeping."""


@dataclass(frozen=True, slots=True)
class ReplayInput:
    """One kernel run over the traded candles and everything that produced it."""

    settings: DealSettings | GridSettings
    candles: CandleArrays  # the traded candles (``candles[start:]`` of the job)
    buy: BoolArray
    sell: BoolArray
    product: ProductSpec
    fees: FeeSchedule
    tf_seconds: int
    fills: list[Fill]  # ``to_fills`` of the kernel's
    kernel: KernelResult


@dataclass(frozen=True, slots=True)
class ExactBook:
    deals: list[DealSummary]  # closed in closing order, then the open ones oldest first


def replay_book(data: ReplayInput) -> ExactBook:
    """The reference's deals for the kernel's run."""
    replay = _GridReplay(data) if isinstance(data.settings, GridSettings) else _SignalReplay(data)
    try:
        replay.run()
    except (ValueError, LookupError) as error:  # e.g. UnknownOrderError: an unknown order
        raise ReplayMismatchError(f"{type(error).__name__}: {error}") from error
    deals = [*replay.state.closed, *replay.state.deals]
    _check_deals(deals, data)
    return ExactBook([DealSummary.of(deal) for deal in deals])


def refusable(
    candles: CandleArrays,
    product: ProductSpec,
    fees: FeeSchedule,
    settings: DealSettings,
    at: IntArray | None = None,
) -> BoolArray:
    """Candles after which a market buy could buy less than the minimum size: a
    generous float pre-check, the refusal itself is ``fill_model.unfillable``. With
    ``at``, only those candles are checked (the others read False)."""
    quotes = [settings.base_order_quote]
    if settings.add_order_quote > 0:
        quotes.append(settings.add_order_quote)
    smallest = float(min(round_down(q, product.quote_increment) for q in quotes))
    last = len(candles) - 1
    index = np.arange(last) if at is None else at[at < last]
    price = candles.open[index + 1] * float(1 + fees.slippage) * float(1 + fees.taker)
    with np.errstate(divide="ignore", invalid="ignore"):
        bought: FloatArray = smallest / price * (1 - _REFUSAL_SLACK)
    enough = float(product.base_min_size + 2 * product.base_increment)
    out = np.zeros(len(candles), dtype=np.bool_)
    out[index] = ~(bought >= enough)  # NaN (a zero open) counts as refusable
    return out


class _Replay(ABC):
    """Visits candles in order: refusals, the kernel's fills, then the manager's
    ``on_candle`` where it can place a buy."""

    def __init__(self, data: ReplayInput) -> None:
        self.data = data
        self.state = BotState(BACKTEST_BOT_ID)
        self.manager = manager_for(data.settings)
        self.count = len(data.candles)
        self.next_fill = 0
        times = data.candles.time
        self.fill_candle: IntArray = np.searchsorted(times, data.kernel.fills.time)
        if len(data.fills) != len(self.fill_candle) or not np.array_equal(
            times[np.minimum(self.fill_candle, self.count - 1)], data.kernel.fills.time
        ):
            raise ReplayMismatchError("kernel fills at times that are no candle's open")

    @abstractmethod
    def run(self) -> None:
        """Visit every candle where the book can change, in order."""

    def visit(self, index: int) -> None:
        data = self.data
        candle = data.candles.candle(index)
        self.refuse(index, candle)
        fill_candle = self.fill_candle
        while self.next_fill < len(fill_candle) and fill_candle[self.next_fill] <= index:
            if fill_candle[self.next_fill] < index:
                raise ReplayMismatchError(f"a kernel fill on candle {index} was not replayed")
            self.fill(self.next_fill)
            self.next_fill += 1
        self.decide(index, candle)
        self.settle(candle)
        self.state.notes.clear()  # the user-facing notes matter to the live engine only

    def finish(self) -> None:
        if self.next_fill != len(self.fill_candle):
            raise ReplayMismatchError("kernel fills after the last candle replayed")

    def refuse(self, index: int, candle: Candle) -> None:  # noqa: B027 - a grid refuses nothing
        """Refuse what cannot fill on candle ``index`` (a grid works only limit orders)."""

    @abstractmethod
    def fill(self, k: int) -> None:
        """Apply the kernel's fill ``k``."""

    @abstractmethod
    def decide(self, index: int, candle: Candle) -> None:
        """The manager's ``on_candle`` where it can place a buy."""

    @abstractmethod
    def settle(self, candle: Candle) -> None:
        """Check what must be resolved by the end of ``candle``."""


_CODE = {purpose: code for code, purpose in enumerate(PURPOSES)}


class _SignalReplay(_Replay):
    """Signal deals: buys from the kernel's fills, decisions on the candles that matter."""

    def __init__(self, data: ReplayInput) -> None:
        super().__init__(data)
        if not isinstance(data.settings, DealSettings):
            raise TypeError("signal deals need DealSettings")
        self.settings = data.settings
        self.market_from: dict[str, int] = {}  # working market orders: first candle time
        deals = data.kernel.deals
        self.reasons = {
            int(seq): CLOSE_REASONS[int(code)]
            for seq, code in zip(deals.seq, deals.close_reason, strict=True)
            if code >= 0
        }
        self.deciding = self._deciding()

    def _deciding(self) -> BoolArray:
        """Candles whose ``on_candle`` can change the buy side (module docstring)."""
        data = self.data
        purposes = data.kernel.fills.purpose
        placed_before = self.fill_candle - 1
        if np.any(placed_before < 0):
            raise ReplayMismatchError("a kernel fill on the first candle")
        market_buy_next = np.zeros(self.count, dtype=np.bool_)
        market_buy_next[placed_before[np.isin(purposes, _MARKET_BUYS)]] = True
        exit_next = np.zeros(self.count, dtype=np.bool_)
        exit_next[placed_before[purposes == _CODE[OrderPurpose.EXIT]]] = True
        buying = np.asarray(data.buy, dtype=np.bool_)
        selling = np.asarray(data.sell, dtype=np.bool_) & ~buying
        refused = refusable(data.candles, data.product, data.fees, self.settings)
        deciding: BoolArray = (buying & (market_buy_next | refused)) | (selling & exit_next)
        deciding[-1] = buying[-1] or selling[-1]
        return deciding

    def run(self) -> None:
        visits = self.deciding.copy()
        visits[self.fill_candle] = True
        visits[1:] |= self.deciding[:-1]  # where a market buy placed there fills or is refused
        for index in np.flatnonzero(visits):
            self.visit(int(index))
        self.finish()

    def refuse(self, index: int, candle: Candle) -> None:
        """``fill_model.unfillable`` for the market buys due that the kernel did not fill."""
        if not self.market_from:
            return
        filled = self._market_buys_filled(index)
        working = [
            WorkingOrder(order, active)
            for deal in self.state.deals
            for cid, order in deal.open_orders.items()
            if (active := self.market_from.get(cid)) is not None
            and (deal.seq, order.purpose) not in filled
        ]
        data = self.data
        for order, _reason in unfillable(working, candle, data.product, data.fees):
            cid = order.intent.client_order_id
            del self.market_from[cid]
            self.manager.on_reject(self.state, cid, data.product, data.fees)

    def _market_buys_filled(self, index: int) -> set[tuple[int, OrderPurpose]]:
        """(deal seq, purpose) of the kernel's market buy fills on candle ``index``."""
        kernel_fills = self.data.kernel.fills
        filled: set[tuple[int, OrderPurpose]] = set()
        k = self.next_fill
        while k < len(self.fill_candle) and self.fill_candle[k] == index:
            code = int(kernel_fills.purpose[k])
            if code in _MARKET_BUYS:
                filled.add((int(kernel_fills.deal_seq[k]), PURPOSES[code]))
            k += 1
        return filled

    def fill(self, k: int) -> None:
        data = self.data
        fill = data.fills[k]
        purpose = PURPOSES[int(data.kernel.fills.purpose[k])]
        deal = self.state.deal(int(data.kernel.fills.deal_seq[k]))
        if deal is None:
            raise ReplayMismatchError(f"fill {fill.client_order_id} of a deal that is not open")
        step = Step(self.state, data.product, data.fees)
        if fill.side is Side.SELL:
            self._close(step, deal, fill, purpose)
            return
        order = self._buy_order(deal, fill, purpose)
        del deal.open_orders[order.client_order_id]
        self.market_from.pop(order.client_order_id, None)
        record_buy(deal, fill)
        if purpose is OrderPurpose.SAFETY:
            deal.safety_orders_filled += 1
        elif purpose is OrderPurpose.ADD:
            deal.adds_filled += 1
        else:
            place_safety_orders(self.settings, step, deal)

    def _buy_order(self, deal: DealState, fill: Fill, purpose: OrderPurpose) -> PlaceOrder:
        """The working order ``fill`` executes: a safety order by its id (the ladder is
        numbered as in the reference), a market buy as the deal's one of its purpose."""
        if purpose is OrderPurpose.SAFETY:
            order = deal.open_orders.get(fill.client_order_id)
            if order is not None and (order.price, order.base_amount) == (
                fill.price,
                fill.base_amount,
            ):
                return order
        else:
            markets = [
                o
                for o in deal.open_orders.values()
                if o.order_type is OrderType.MARKET and o.side is Side.BUY and o.purpose is purpose
            ]
            quote = markets[0].quote_amount if len(markets) == 1 else None
            if quote is not None and fill.quote_amount + fill.fee <= quote:
                return markets[0]
        raise ReplayMismatchError(f"deal {deal.seq} waits for no {fill.client_order_id}")

    def _close(self, step: Step, deal: DealState, fill: Fill, purpose: OrderPurpose) -> None:
        if purpose is OrderPurpose.EXIT:
            exits = [
                cid
                for cid, o in deal.open_orders.items()
                if o.order_type is OrderType.MARKET and o.side is Side.SELL
            ]
            if not exits:
                raise ReplayMismatchError(f"deal {deal.seq} exits without a SELL decision")
            del deal.open_orders[exits[0]]
            self.market_from.pop(exits[0], None)
        reason = self.reasons.get(deal.seq)
        if reason is None:
            raise ReplayMismatchError(f"the kernel closes deal {deal.seq} without a reason")
        close(step, deal, fill, reason)

    def decide(self, index: int, candle: Candle) -> None:
        if not self.deciding[index]:
            return
        data = self.data
        action = SignalAction.BUY if data.buy[index] else SignalAction.SELL
        signal = Signal(candle.time, action, candle.close)
        intents = self.manager.on_candle(self.state, candle, signal, data.product, data.fees)
        for intent in intents:
            if isinstance(intent, PlaceOrder) and intent.order_type is OrderType.MARKET:
                self.market_from[intent.client_order_id] = candle.time + data.tf_seconds

    def settle(self, candle: Candle) -> None:
        """A market order fills or is refused on the first candle it may fill on."""
        for cid, active in list(self.market_from.items()):
            if active > candle.time:
                continue
            if any(cid in deal.open_orders for deal in self.state.deals):
                raise ReplayMismatchError(f"market order {cid} neither filled nor refused")
            del self.market_from[cid]  # cancelled with its deal


_MARKET_BUYS = [_CODE[OrderPurpose.BASE], _CODE[OrderPurpose.ADD]]


class _GridReplay(_Replay):
    """A grid: the reference's grid manager on the fill candles and where it can arm."""

    def __init__(self, data: ReplayInput) -> None:
        super().__init__(data)
        if not isinstance(data.settings, GridSettings):
            raise TypeError("a grid needs GridSettings")
        self.settings = data.settings
        self.levels = grid_levels(data.settings, data.product)
        self.costs = [self._arm_cost(price) for price in self.levels[:-1]]
        self.fill_candles: IntArray = np.unique(self.fill_candle)
        self.above = FirstAbove(data.candles.close)

    def _arm_cost(self, price: Decimal) -> Decimal | None:
        """What arming the level commits (``grid._arm``), ``None`` if its buy is invalid."""
        product = self.data.product
        base = round_down(self.settings.quote_per_level / price, product.base_increment)
        buy = draft(Side.BUY, OrderType.LIMIT, OrderPurpose.GRID_BUY, base=base, price=price)
        if validate_order(buy, product) is not None:
            return None
        return limit_buy_cost(price, base, self.data.fees)

    def run(self) -> None:
        index = 0
        while index < self.count:
            self.visit(index)
            later = np.searchsorted(self.fill_candles, index, side="right")
            next_fill = (
                int(self.fill_candles[later]) if later < len(self.fill_candles) else self.count
            )
            index = min(next_fill, self._next_arming(index))
        self.finish()

    def _next_arming(self, index: int) -> int:
        """The first candle after ``index`` closing at or above a free level that fits."""
        room = spendable(self.settings.budget, self.state) - total_committed(
            self.state, self.data.fees
        )
        worked = {deal.grid_level for deal in self.state.deals}
        prices = [
            self.levels[level]
            for level, cost in enumerate(self.costs)
            if level not in worked and cost is not None and cost <= room
        ]
        if not prices:
            return self.count
        # ``to_decimal(close) > level`` implies ``close >= float(level)``.
        return self.above.find(index + 1, float(min(prices)))

    def fill(self, k: int) -> None:
        data = self.data
        fill = data.fills[k]
        deal, _order = self.state.find_order(fill.client_order_id)
        if deal.seq != int(data.kernel.fills.deal_seq[k]):
            raise ReplayMismatchError(f"fill {fill.client_order_id} names deal {deal.seq}")
        self.manager.on_fill(self.state, fill, data.product, data.fees)

    def settle(self, candle: Candle) -> None:
        """Nothing is ever due: a grid works only limit orders, which wait."""

    def decide(self, index: int, candle: Candle) -> None:
        data = self.data
        signal = Signal(candle.time, SignalAction.HOLD, candle.close)
        self.manager.on_candle(self.state, candle, signal, data.product, data.fees)


class FirstAbove:
    """First index from a start whose value reaches a threshold, via per-block maxima."""

    def __init__(self, values: FloatArray) -> None:
        self.values = np.ascontiguousarray(values, dtype=np.float64)
        starts = np.arange(0, len(self.values), _BLOCK)
        self.maxima: FloatArray = (
            np.maximum.reduceat(self.values, starts) if len(starts) else np.empty(0)
        )

    def find(self, start: int, threshold: float) -> int:
        """The first ``i >= start`` with ``values[i] >= threshold``, else ``len(values)``."""
        values = self.values
        if start >= len(values):
            return len(values)
        block = start // _BLOCK
        head = np.flatnonzero(values[start : (block + 1) * _BLOCK] >= threshold)
        if head.size:
            return start + int(head[0])
        blocks = np.flatnonzero(self.maxima[block + 1 :] >= threshold)
        if not blocks.size:
            return len(values)
        first = (block + 1 + int(blocks[0])) * _BLOCK
        return first + int(np.flatnonzero(values[first : first + _BLOCK] >= threshold)[0])


def _check_deals(deals: list[DealState], data: ReplayInput) -> None:
    """The kernel's deal records agree with the replay's deals, field by field."""
    records = data.kernel.deals
    increment = data.product.base_increment
    replayed = {deal.seq: deal for deal in deals}
    if sorted(replayed) != sorted(int(seq) for seq in records.seq):
        raise ReplayMismatchError("the kernel and the replay have different deals")
    for row in range(len(records)):
        deal = replayed[int(records.seq[row])]
        code = int(records.close_reason[row])
        expected = (
            None if records.closed_at[row] < 0 else int(records.closed_at[row]),
            None if code < 0 else CLOSE_REASONS[code],
            int(records.safety_orders[row]),
            int(records.adds[row]),
            int(records.bought_lots[row]),
        )
        got = (
            deal.closed_at,
            deal.close_reason,
            deal.safety_orders_filled,
            deal.adds_filled,
            int(deal.bought_base / increment),
        )
        if got != expected:
            raise ReplayMismatchError(f"deal {deal.seq}: kernel {expected}, replay {got}")
