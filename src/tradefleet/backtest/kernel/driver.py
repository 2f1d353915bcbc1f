"""The compiled loops over a whole candle array: one for signal deals, one for the grid.

Most candles change nothing: no signal, no market order in flight, and a range that
reaches no resting order, trailing activation or peak. After every candle that does
something, the machine's ``thresholds`` say which lows, highs and closes the next
candles would have to reach; a candle inside them only gets its equity point. Every
other candle runs the full ``step`` (the reference's ``Simulator.step``). The
thresholds are conservative: a candle that reaches one may still do nothing, which the
full step then finds out.
"""

from __future__ import annotations

import math

import numpy as np

from . import grid, signal_deals, signal_levels
from .book import finish_records, note_committed
from .jit import B1, F64, I64, State, jit, jit_alloc
from .layout import (
    B_FILLS,
    B_HELD,
    B_MARKETS,
    B_ORDERS,
    B_PLACED,
    B_RECORDS,
    B_WORKING,
    BF_OPEN_COST,
    BF_REALIZED,
    N_BF,
    N_BI,
    N_DF,
    N_DI,
    N_FF,
    N_FI,
    N_OF,
    N_OI,
    N_RF,
    N_RI,
    PF_BUDGET,
    PI_BASE_DEN,
    PI_BASE_NUM,
    PI_ENTRY,
    PI_MAX_DEALS,
    PI_SAFETY_COUNT,
    PI_TF,
)
from .orders import compact
from .rounding import lots_base

_FIRST_ROWS = 1024
_DEAD_ROWS = 8
_EXIT_SLACK = 1e-9  # the exact exit test runs in the step; this only must not miss one


@jit_alloc
def new_state(orders: int, deals: int) -> State:
    bi = np.zeros(N_BI, dtype=np.int64)
    bi[2] = 1  # B_NEXT_SEQ: deal seqs start at 1
    return (
        np.zeros((orders, N_OI), dtype=np.int64),
        np.zeros((orders, N_OF), dtype=np.float64),
        np.zeros((deals, N_DI), dtype=np.int64),
        np.zeros((deals, N_DF), dtype=np.float64),
        np.zeros(deals, dtype=np.int64),
        bi,
        np.zeros(N_BF, dtype=np.float64),
        np.zeros((_FIRST_ROWS, N_FI), dtype=np.int64),
        np.zeros((_FIRST_ROWS, N_FF), dtype=np.float64),
        np.zeros((_FIRST_ROWS, N_RI), dtype=np.int64),
        np.zeros((_FIRST_ROWS, N_RF), dtype=np.float64),
    )


@jit_alloc
def _grown_i(table: I64, used: int, needed: int) -> I64:
    if needed <= table.shape[0]:
        return table
    bigger = np.zeros((max(needed, 2 * table.shape[0]), table.shape[1]), dtype=np.int64)
    bigger[:used] = table[:used]
    return bigger


@jit_alloc
def _grown_f(table: F64, used: int, needed: int) -> F64:
    if needed <= table.shape[0]:
        return table
    bigger = np.zeros((max(needed, 2 * table.shape[0]), table.shape[1]), dtype=np.float64)
    bigger[:used] = table[:used]
    return bigger


@jit
def _has_room(st: State, per_candle_deals: int) -> bool:
    """Room for everything one candle can add: a fill per order row, its new deals."""
    bi = st[5]
    fills_fit = bi[B_FILLS] + bi[B_ORDERS] + 1 <= st[7].shape[0]
    return bool(fills_fit and bi[B_RECORDS] + per_candle_deals <= st[9].shape[0])


@jit_alloc
def _grown(st: State, per_candle_deals: int) -> State:
    """The state with fill and record tables big enough for one more candle."""
    oi, of, di, df, dl, bi, bf, fi, ff, ri, rf = st
    fills = bi[B_FILLS]
    records = bi[B_RECORDS]
    fi = _grown_i(fi, fills, fills + bi[B_ORDERS] + 1)
    ff = _grown_f(ff, fills, fills + bi[B_ORDERS] + 1)
    ri = _grown_i(ri, records, records + per_candle_deals)
    rf = _grown_f(rf, records, records + per_candle_deals)
    return (oi, of, di, df, dl, bi, bf, fi, ff, ri, rf)


@jit
def _make_room(st: State, per_candle_orders: int, per_candle_deals: int) -> bool:
    """Drop dead order rows when new ones might not fit; False when the fill or record
    table must grow first (``_grown``)."""
    bi = st[5]
    # Dead rows slow every scan of the book: drop them once they are a handful.
    if (
        bi[B_ORDERS] - bi[B_WORKING] > _DEAD_ROWS
        or bi[B_ORDERS] + per_candle_orders > st[0].shape[0]
    ):
        compact(st[0], st[1], bi)
    return _has_room(st, per_candle_deals)


@jit
def _equity(bi: I64, bf: F64, base_unit: tuple[int, int], budget: float, close: float) -> float:
    """Budget + realised PnL + held base at the close - what the open deals cost.

    Takes the two scalar arrays rather than the state tuple: passing the tuple costs a
    reference-count update per array, which would dominate the per-candle time.
    """
    held = lots_base(bi[B_HELD], base_unit[0], base_unit[1])
    return float(budget + bf[BF_REALIZED] + held * close - bf[BF_OPEN_COST])


@jit
def _signal_span(
    st: State, candles: tuple[I64, F64, F64, F64, F64], buy: B1, sell: B1,
    pi: I64, pf: F64, ladder: F64, equity: F64, levels: F64, start: int,
) -> int:  # fmt: skip
    """Candles from ``start`` on, until the end or until a table must grow; returns the
    first candle not done. ``levels`` carries the thresholds from span to span.

    The state tuple is never re-bound inside this loop: re-binding it would update the
    reference count of every array on every candle.
    """
    time, open_, high, low, close = candles
    deals = pi[PI_MAX_DEALS]
    per_candle = _signal_orders_per_candle(pi)
    bi, bf = st[5], st[6]  # never reallocated, unlike the fill and record tables
    base_unit = (pi[PI_BASE_NUM], pi[PI_BASE_DEN])
    budget = pf[PF_BUDGET]
    entry = pi[PI_ENTRY] != 0
    tf = pi[PI_TF]
    low_level, high_level, exit_floor = levels[0], levels[1], levels[2]
    add_below, open_from = levels[3], levels[4]
    for i in range(start, time.shape[0]):
        action = 1 if buy[i] else (-1 if sell[i] else 0)
        quiet = bi[B_MARKETS] == 0 and low[i] > low_level and high[i] < high_level
        if action > 0 and entry:
            adds = close[i] < add_below + _EXIT_SLACK * abs(add_below)
            quiet = quiet and not adds and time[i] < open_from
        elif action < 0:
            quiet = quiet and not close[i] >= exit_floor - _EXIT_SLACK * abs(exit_floor)
        if i == 0 or not quiet:
            if not _make_room(st, per_candle, deals):
                levels[0], levels[1], levels[2] = low_level, high_level, exit_floor
                levels[3], levels[4] = add_below, open_from
                return i
            bar = (open_[i], high[i], low[i], close[i])
            placed = bi[B_PLACED]
            signal_deals.step(st, pi, pf, ladder, time[i], bar, action, time[i] + tf)
            if bi[B_PLACED] != placed:
                note_committed(st[3], st[4], bi, bf)
            low_level, high_level, exit_floor = signal_levels.thresholds(st, pi, pf)
            add_below, open_from = signal_levels.buy_thresholds(st, pi, pf)
        equity[i] = _equity(bi, bf, base_unit, budget, close[i])
    return int(time.shape[0])


@jit
def _signal_orders_per_candle(pi: I64) -> int:
    """Most orders one candle can place: every working order fills and re-places its
    deal's ladder and exits, plus exits and one new deal."""
    return int(_signal_live_orders(pi) * (pi[PI_SAFETY_COUNT] + 2) + 2 * pi[PI_MAX_DEALS] + 1)


@jit
def _signal_live_orders(pi: I64) -> int:
    """Most orders that can work at once: a ladder, an exit pair and a market order per deal."""
    return int(pi[PI_MAX_DEALS] * (pi[PI_SAFETY_COUNT] + 3))


@jit_alloc
def run_signal(
    time: I64, open_: F64, high: F64, low: F64, close: F64, buy: B1, sell: B1,
    pi: I64, pf: F64, ladder: F64,
) -> tuple[State, F64]:  # fmt: skip
    """Signal deals over every candle; returns the final state and the equity curve."""
    orders = _signal_live_orders(pi) + _signal_orders_per_candle(pi) + 64
    st = new_state(orders, pi[PI_MAX_DEALS])
    equity = np.empty(time.shape[0], dtype=np.float64)
    levels = np.array([-math.inf, math.inf, math.inf, -math.inf, -math.inf])
    candles = (time, open_, high, low, close)
    done = 0
    while done < time.shape[0]:
        done = _signal_span(st, candles, buy, sell, pi, pf, ladder, equity, levels, done)
        st = _grown(st, pi[PI_MAX_DEALS])
    finish_records(st)
    return st, equity


@jit
def _grid_span(
    st: State, candles: tuple[I64, F64, F64, F64, F64], pi: I64, pf: F64, gi: I64, gf: F64,
    cycles: I64, equity: F64, levels: F64, start: int,
) -> int:  # fmt: skip
    """The grid's candles from ``start`` on (see ``_signal_span``)."""
    time, open_, high, low, close = candles
    per_candle = 2 * gi.shape[0] + 2  # a fill and a re-arm per level, and the arms
    bi, bf = st[5], st[6]
    base_unit = (pi[PI_BASE_NUM], pi[PI_BASE_DEN])
    budget = pf[PF_BUDGET]
    tf = pi[PI_TF]
    low_level, high_level, arm_above = levels[0], levels[1], levels[2]
    for i in range(start, time.shape[0]):
        quiet = low[i] > low_level and high[i] < high_level and close[i] <= arm_above
        if i == 0 or not quiet:
            if not _make_room(st, per_candle, per_candle):
                levels[0], levels[1], levels[2] = low_level, high_level, arm_above
                return i
            bar = (open_[i], high[i], low[i], close[i])
            placed = bi[B_PLACED]
            grid.step(st, pi, pf, gi, gf, cycles, time[i], bar, time[i] + tf)
            if bi[B_PLACED] != placed:
                note_committed(st[3], st[4], bi, bf)
            low_level, high_level, arm_above = grid.thresholds(st, pf, gi, gf)
        equity[i] = _equity(bi, bf, base_unit, budget, close[i])
    return int(time.shape[0])


@jit_alloc
def run_grid(
    time: I64, open_: F64, high: F64, low: F64, close: F64, pi: I64, pf: F64, gi: I64, gf: F64
) -> tuple[State, F64]:
    """The grid over every candle; returns the final state and the equity curve."""
    levels_count = gi.shape[0]
    st = new_state(4 * levels_count + 64, levels_count)
    cycles = np.zeros(levels_count, dtype=np.int64)
    equity = np.empty(time.shape[0], dtype=np.float64)
    levels = np.array([-math.inf, math.inf, -math.inf])
    candles = (time, open_, high, low, close)
    done = 0
    while done < time.shape[0]:
        done = _grid_span(st, candles, pi, pf, gi, gf, cycles, equity, levels, done)
        st = _grown(st, 2 * levels_count + 2)
    finish_records(st)
    return st, equity
