"""The compiled backtest kernel: a whole candle array through the deal machine and the
paper fill model in one call, with the reference's fills (``deals.simulate``).

``run_kernel`` does what ``Simulator.step`` does for every candle, candle i's orders
active from ``time[i] + tf_seconds``, in float64 with the Decimal rounding rules
emulated (see ``rounding`` for where and by how much float64 can differ), and
``to_fills`` turns its fills into the reference's exact ``domain.Fill``s. The signals
are the strategy's arrays: BUY where ``buy`` is true, else SELL where ``sell`` is true,
else HOLD; a grid ignores them.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from tradefleet.deals.settings import DealSettings, GridSettings
from tradefleet.domain import BoolArray, CandleArrays, FeeSchedule, ProductSpec

from . import layout
from .driver import run_grid, run_signal
from .exact import ExactContext, registered
from .jit import B1, F64, State
from .params import grid_params, increment_fraction, signal_params
from .result import CLOSE_REASONS, PURPOSES, SIDES, KernelDeals, KernelFills, KernelResult, to_fills

__all__ = [
    "CLOSE_REASONS",
    "PURPOSES",
    "SIDES",
    "KernelDeals",
    "KernelFills",
    "KernelResult",
    "run_kernel",
    "to_fills",
]


_MAX_TICKS = 1e12  # a price's ticks: 12 digits leave the snap windows room
_MAX_UNITS = 1e15  # quote units and base lots: integers float64 holds exactly, with room


def _floats(values: F64) -> F64:
    return np.ascontiguousarray(values, dtype=np.float64)


def _flags(values: BoolArray, count: int) -> B1:
    flags = np.ascontiguousarray(values, dtype=np.bool_)
    if flags.shape[0] != count:
        raise ValueError(f"{flags.shape[0]} signals for {count} candles")
    return flags


def run_kernel(
    settings: DealSettings | GridSettings,
    buy: BoolArray,
    sell: BoolArray,
    candles: CandleArrays,
    product: ProductSpec,
    fees: FeeSchedule,
    tf_seconds: int,
) -> KernelResult:
    """Backtest one bot over ``candles``; ``buy``/``sell`` are the strategy's signals."""
    if tf_seconds <= 0:
        raise ValueError("tf_seconds must be positive")
    count = len(candles)
    time = np.ascontiguousarray(candles.time, dtype=np.int64)
    open_, high, low, close = (
        _floats(a) for a in (candles.open, candles.high, candles.low, candles.close)
    )
    if not open_.shape[0] == high.shape[0] == low.shape[0] == close.shape[0] == count:
        raise ValueError("candle columns differ in length")
    _check_range(settings.budget, high, low, product)
    with registered(ExactContext(settings, product, fees)) as run_id:
        if isinstance(settings, GridSettings):
            grid = grid_params(settings, product, fees, tf_seconds)
            grid.ints[layout.PI_RUN] = run_id
            levels = (grid.level_ints, grid.level_floats)
            st, equity = run_grid(time, open_, high, low, close, grid.ints, grid.floats, *levels)
        else:
            sig = signal_params(settings, product, fees, tf_seconds)
            sig.ints[layout.PI_RUN] = run_id
            buy_flags, sell_flags = _flags(buy, count), _flags(sell, count)
            st, equity = run_signal(
                time, open_, high, low, close, buy_flags, sell_flags,
                sig.ints, sig.floats, sig.ladder,
            )  # fmt: skip
    if st[5][layout.B_UNDECIDED]:
        raise ValueError(
            f"{st[5][layout.B_UNDECIDED]} decisions float64 cannot take like the reference "
            "(an exit price of a deal of several buys on a half tick, or a budget test "
            "within the tolerance of a limit moved by realised PnL)"
        )
    return KernelResult(
        fills=_fills(st, product),
        deals=_deals(st),
        equity=equity,
        max_committed_quote=float(st[6][layout.BF_MAX_COMMITTED]),
        fees=fees,
    )


def _check_range(budget: Decimal, high: F64, low: F64, product: ProductSpec) -> None:
    """Refuse (ValueError: the caller then runs the reference) amounts beyond those whose
    float64 decisions ``rounding`` vouches for: prices of more than 12 digits in ticks,
    budgets of more than 15 digits in quote increments or in base lots at the lowest
    price (a lot count beyond int64 would not even fit the kernel's tables)."""
    if high.shape[0] == 0:
        return
    positive = low[low > 0]
    lowest = float(positive.min()) if positive.size else 0.0
    ticks = float(np.max(high)) / float(product.price_increment)
    quote_units = float(budget) / float(product.quote_increment)
    lots = float(budget) / lowest / float(product.base_increment) if lowest else 0.0
    if not (ticks < _MAX_TICKS and quote_units < _MAX_UNITS and lots < _MAX_UNITS):
        raise ValueError(
            f"amounts beyond the kernel's exact range ({ticks:.3g} price ticks, "
            f"{quote_units:.3g} quote units, {lots:.3g} lots)"
        )


def _fills(st: State, product: ProductSpec) -> KernelFills:
    fi = st[7][: st[5][layout.B_FILLS]]
    ff = st[8][: st[5][layout.B_FILLS]]
    lots = fi[:, layout.F_LOTS].copy()
    num, den = increment_fraction(product.base_increment)
    return KernelFills(
        time=fi[:, layout.F_TIME].copy(),
        side=fi[:, layout.F_SIDE].copy(),
        price=ff[:, layout.FF_PRICE].copy(),
        base_amount=(lots * num) / den,
        quote_amount=ff[:, layout.FF_QUOTE].copy(),
        fee=ff[:, layout.FF_FEE].copy(),
        purpose=fi[:, layout.F_PURPOSE].copy(),
        deal_seq=fi[:, layout.F_SEQ].copy(),
        base_lots=lots,
        order_number=fi[:, layout.F_NUMBER].copy(),
        level=fi[:, layout.F_LEVEL].copy(),
        cycle=fi[:, layout.F_CYCLE].copy(),
        raw_price=ff[:, layout.FF_RAW].copy(),
        raw_ticks=fi[:, layout.F_TICKS].copy(),
    )


def _deals(st: State) -> KernelDeals:
    ri = st[9][: st[5][layout.B_RECORDS]]
    rf = st[10][: st[5][layout.B_RECORDS]]
    keep = ri[:, layout.R_STATE] != layout.R_DISCARDED
    ri, rf = ri[keep], rf[keep]
    pnl = np.where(ri[:, layout.R_STATE] == layout.R_CLOSED_STATE, rf[:, layout.RF_PNL], np.nan)
    return KernelDeals(
        seq=ri[:, layout.R_SEQ].copy(),
        opened_at=ri[:, layout.R_OPENED].copy(),
        closed_at=ri[:, layout.R_CLOSED].copy(),
        close_reason=ri[:, layout.R_REASON].copy(),
        safety_orders=ri[:, layout.R_SAFETY].copy(),
        adds=ri[:, layout.R_ADDS].copy(),
        grid_level=ri[:, layout.R_LEVEL].copy(),
        bought_lots=ri[:, layout.R_LOTS].copy(),
        bought_quote=rf[:, layout.RF_BOUGHT_QUOTE].copy(),
        buy_fees=rf[:, layout.RF_BUY_FEES].copy(),
        sold_quote=rf[:, layout.RF_SOLD_QUOTE].copy(),
        sell_fees=rf[:, layout.RF_SELL_FEES].copy(),
        realized_pnl=pnl,
        max_committed=rf[:, layout.RF_MAX_COMMITTED].copy(),
    )
