"""Fill engines: the swappable part of a backtest that turns signals into fills and deals.

An engine receives an :class:`EngineJob` (deal settings, candles, the strategy's buy/sell
arrays computed once over all candles, product, fees) and returns an :class:`EngineRun`
(fills and deals). Everything else a backtest reports (equity curve,
metrics) is derived from that by ``runner``, so every engine yields the same result
shape. ``"reference"`` steps ``deals.simulate.Simulator`` candle by candle, the very loop
the live engine runs in paper mode; a faster engine (a compiled kernel) registers itself
with :func:`register_engine` and must produce identical fills.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from tradefleet.backtest.columns import DealColumns, FillColumns
from tradefleet.deals.protocol import manager_for
from tradefleet.deals.settings import DealSettings, GridSettings
from tradefleet.deals.simulate import Simulator
from tradefleet.deals.state import BotState, DealState
from tradefleet.domain import (
    BoolArray,
    Candle,
    CandleArrays,
    FeeSchedule,
    Fill,
    ProductSpec,
    Signal,
    SignalAction,
)

Progress = Callable[[int, int], None]
"""Called as ``progress(candles_done, candles_total)`` while a backtest runs."""

BACKTEST_BOT_ID = 1  # the client order ids of a backtest read tf-1-{deal}-{kind}{n}
PROGRESS_STEPS = 200  # a run reports progress about this many times


@dataclass(frozen=True, slots=True)
class DealSummary:
    """One deal of a backtest, as the ``Position`` table would hold it (times unix seconds)."""

    seq: int
    status: str  # "open" or "closed"
    opened_at: int  # time of its first buy fill (of the decision while nothing filled yet)
    closed_at: int | None
    close_reason: str | None
    base_amount: Decimal  # held at the end of the run
    bought_base: Decimal
    bought_quote: Decimal  # gross, fees excluded
    buy_fees: Decimal
    sold_base: Decimal
    sold_quote: Decimal
    sell_fees: Decimal
    average_entry_price: Decimal | None
    safety_orders_filled: int
    adds_filled: int
    realized_pnl: Decimal | None  # closed deals: sells - sell fees - buys - buy fees

    @classmethod
    def of(cls, deal: DealState) -> DealSummary:
        return cls(
            seq=deal.seq,
            status=deal.status,
            opened_at=deal.opened_at,
            closed_at=deal.closed_at,
            close_reason=None if deal.close_reason is None else deal.close_reason.value,
            base_amount=deal.base_amount,
            bought_base=deal.bought_base,
            bought_quote=deal.bought_quote,
            buy_fees=deal.buy_fees,
            sold_base=deal.sold_base,
            sold_quote=deal.sold_quote,
            sell_fees=deal.sell_fees,
            average_entry_price=deal.average_entry_price,
            safety_orders_filled=deal.safety_orders_filled,
            adds_filled=deal.adds_filled,
            realized_pnl=deal.realized_pnl,
        )


@dataclass(frozen=True, slots=True)
class EngineJob:
    """What an engine needs; candles before ``start`` only warmed the indicators up."""

    settings: DealSettings | GridSettings
    candles: CandleArrays
    buy: BoolArray  # the strategy's BUY per candle (wins over sell, as in ``signal_at``)
    sell: BoolArray
    product: ProductSpec
    fees: FeeSchedule
    tf_seconds: int  # an order placed at the close of candle t is active from t + tf_seconds
    start: int = 0
    progress: Progress | None = None


@dataclass(frozen=True, slots=True)
class EngineRun:
    """An engine's answer: fills in execution order and deals (closed in closing order,
    then the open ones oldest first).

    An engine that computes the exact columns itself passes them (and may then build its
    ``fills`` and ``deals`` lazily, ``columns.LazySequence``); otherwise they are read off
    the objects.
    """

    fills: Sequence[Fill]
    deals: Sequence[DealSummary]
    # Derived from the fills and deals: equal runs may hold them or not, at any scale.
    fill_columns: FillColumns | None = field(default=None, compare=False)
    deal_columns: DealColumns | None = field(default=None, compare=False)

    def columns(self) -> tuple[FillColumns, DealColumns]:
        return (
            FillColumns.of(self.fills) if self.fill_columns is None else self.fill_columns,
            DealColumns.of(self.deals) if self.deal_columns is None else self.deal_columns,
        )


FillEngine = Callable[[EngineJob], EngineRun]


def _action(job: EngineJob, index: int) -> SignalAction:
    if job.buy[index]:
        return SignalAction.BUY
    if job.sell[index]:
        return SignalAction.SELL
    return SignalAction.HOLD


def reference_engine(job: EngineJob) -> EngineRun:
    """``Simulator`` over ``candles[start:]``: the deal manager and paper fill model as is."""
    sim = Simulator(manager_for(job.settings), BotState(BACKTEST_BOT_ID), job.product, job.fees)
    candles = job.candles
    total = len(candles) - job.start
    every = max(1, total // PROGRESS_STEPS)
    for done, index in enumerate(range(job.start, len(candles)), 1):
        candle: Candle = candles.candle(index)
        signal = Signal(candle.time, _action(job, index), candle.close)
        sim.step(candle, signal, candle.time + job.tf_seconds)
        if job.progress is not None and (done % every == 0 or done == total):
            job.progress(done, total)
    deals = [DealSummary.of(deal) for deal in [*sim.closed, *sim.state.deals]]
    return EngineRun(fills=list(sim.fills), deals=deals)


_ENGINES: dict[str, FillEngine] = {"reference": reference_engine}


def register_engine(name: str, engine: FillEngine) -> None:
    """Make ``engine`` available as ``run_backtest(..., engine=name)``."""
    if name in _ENGINES and _ENGINES[name] is not engine:
        raise ValueError(f"a different fill engine is already registered as {name!r}")
    _ENGINES[name] = engine


def engine_names() -> list[str]:
    return sorted(_ENGINES)


def get_engine(name: str) -> FillEngine:
    try:
        return _ENGINES[name]
    except KeyError:
        raise ValueError(
            f"unknown backtest engine {name!r}; known: {', '.join(engine_names())}"
        ) from None
