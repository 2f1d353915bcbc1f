"""The grid machine (``deals.grid``) on the kernel's arrays.

A level's deal always lives in deal slot = level index, since a level is worked by at
most one deal at a time. Everything about a level that does not depend on the run (its
price, the base its buy gets, whether that buy and its sell one level up pass the
exchange's checks, the buy's cost) is computed exactly in Decimal beforehand (``params``)
and passed in ``gi``/``gf``.
"""

from __future__ import annotations

import math

from .book import (
    close_deal,
    execute,
    fits_spendable,
    open_deal,
    record_buy,
    spendable,
    total_committed,
)
from .jit import F64, I64, State, jit
from .layout import (
    B_ORDERS,
    CR_GRID,
    D_ALIVE,
    D_CYCLE,
    D_LEVEL,
    D_LOTS,
    F_SIDE,
    G_BUY_OK,
    G_LOTS,
    G_SELL_OK,
    G_TICKS,
    GF_COST,
    GF_PRICE,
    K_LIMIT_BUY,
    K_LIMIT_SELL,
    O_ALIVE,
    O_CYCLE,
    O_DEAL,
    O_KIND,
    O_LEVEL,
    OF_PRICE,
    P_GRID_BUY,
    P_GRID_SELL,
    PF_BUDGET,
    SIDE_SELL,
)
from .orders import next_fill, place
from .rounding import gt_tol


@jit
def arm(st: State, pf: F64, gi: I64, gf: F64, cycles: I64, level: int, t: int, active: int) -> None:
    """``grid._arm``: a new deal with a limit buy at ``level``, if valid and within budget."""
    if gi[level, G_BUY_OK] == 0:
        return
    cost = gf[level, GF_COST]
    if not fits_spendable(st, 0, pf[PF_BUDGET], total_committed(st[3], st[4], st[5]) + cost):
        return
    cycles[level] += 1
    open_deal(st, level, t, level)
    st[2][level, D_CYCLE] = cycles[level]
    ticks = gi[level, G_TICKS]
    lots = gi[level, G_LOTS]
    k = place(
        st[0],
        st[1],
        st[2],
        st[3],
        st[5],
        level,
        K_LIMIT_BUY,
        P_GRID_BUY,
        lots,
        ticks,
        gf[level, GF_PRICE],
        0.0,
        cost,
        active,
    )
    st[0][k, O_LEVEL] = level
    st[0][k, O_CYCLE] = cycles[level]


@jit
def _place_sell(st: State, gi: I64, gf: F64, level: int, active: int) -> None:
    """``grid._place_sell``: the deal's base as a limit sell one level up."""
    if gi[level, G_SELL_OK] == 0:
        return
    di = st[2]
    up = level + 1
    lots, ticks, price = di[level, D_LOTS], gi[up, G_TICKS], gf[up, GF_PRICE]
    book = (st[0], st[1], st[2], st[3], st[5])
    k = place(*book, level, K_LIMIT_SELL, P_GRID_SELL, lots, ticks, price, 0.0, 0.0, active)
    st[0][k, O_LEVEL] = up
    st[0][k, O_CYCLE] = di[level, D_CYCLE]


@jit
def on_fill(
    st: State, pi: I64, pf: F64, gi: I64, gf: F64, cycles: I64, k: int, t: int, active: int
) -> None:
    """``grid.grid_on_fill``: a buy puts its sell one level up; a sell closes and re-buys."""
    level = st[2][st[0][k, O_DEAL], D_LEVEL]
    row = execute(st, pi, pf, k, t, 0.0)
    if st[7][row, F_SIDE] == SIDE_SELL:
        close_deal(st, level, row, CR_GRID)
        # The sell filled one level up, above the level by construction: buy again.
        arm(st, pf, gi, gf, cycles, level, t, active)
        return
    record_buy(st, pi, level, row)
    _place_sell(st, gi, gf, level, active)


@jit
def on_candle(
    st: State, pf: F64, gi: I64, gf: F64, cycles: I64, t: int, close: float, active: int
) -> None:
    """``grid.grid_on_candle``: arm free levels below the close, highest first."""
    di = st[2]
    for level in range(gi.shape[0] - 2, -1, -1):
        if di[level, D_ALIVE] == 0 and gf[level, GF_PRICE] < close:
            arm(st, pf, gi, gf, cycles, level, t, active)


@jit
def step(
    st: State, pi: I64, pf: F64, gi: I64, gf: F64, cycles: I64, t: int,
    bar: tuple[float, float, float, float], active: int,
) -> None:  # fmt: skip
    """``Simulator.step`` for one candle of a grid bot (it never has market orders)."""
    _open, high, low, close = bar
    while True:
        k = next_fill(st[0], st[1], st[5], t, low, high)
        if k < 0:
            break
        on_fill(st, pi, pf, gi, gf, cycles, k, t, active)
    on_candle(st, pf, gi, gf, cycles, t, close, active)


@jit
def thresholds(st: State, pf: F64, gi: I64, gf: F64) -> tuple[float, float, float]:
    """(low, high, close) levels a candle must pass for anything to happen: a low at or
    below a resting buy, a high at or above a resting sell, a close above a free level
    whose buy fits the budget."""
    oi, of, di, bi = st[0], st[1], st[2], st[5]
    low = -math.inf
    high = math.inf
    for k in range(bi[B_ORDERS]):
        if oi[k, O_ALIVE] == 0:
            continue
        if oi[k, O_KIND] == K_LIMIT_BUY:
            low = max(low, of[k, OF_PRICE])
        else:
            high = min(high, of[k, OF_PRICE])
    arm_above = math.inf
    room = spendable(st[6], 0, pf[PF_BUDGET])
    total = total_committed(st[3], st[4], st[5])
    for level in range(gi.shape[0] - 1):
        if di[level, D_ALIVE] != 0 or gi[level, G_BUY_OK] == 0:
            continue
        if not gt_tol(total + gf[level, GF_COST], room):
            arm_above = min(arm_above, gf[level, GF_PRICE])
    return low, high, arm_above
