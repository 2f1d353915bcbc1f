"""What a candle must reach for the signal deal machine to do anything, worked out once
after every candle that changed something, so the driver can skip the quiet ones.

Each level is exact for the state it was computed from (it runs the same checks as the
step would, on the same numbers), and the state only changes in a step, so a candle that
reaches none of them would have done nothing in the step either.
"""

from __future__ import annotations

import math

import numpy as np

from .book import committed
from .jit import F64, I64, State, jit
from .layout import (
    B_DEALS,
    B_HAS_LAST,
    B_LAST_CLOSED,
    B_ORDERS,
    D_TP,
    D_TRAILING,
    DF_AVG,
    DF_PEAK,
    K_LIMIT_BUY,
    K_LIMIT_SELL,
    K_STOP_SELL,
    O_ALIVE,
    O_KIND,
    OF_PRICE,
    PF_ADD_QUOTE,
    PF_BASE_QUOTE,
    PI_ADD_OK,
    PI_BASE_OK,
    PI_BELOW_AVG,
    PI_COOLDOWN,
    PI_MAX_DEALS,
    PI_SIGNAL_EXIT,
    PI_TRAILING_ON,
)
from .signal_deals import exit_close, fits_budget, price_of, settled


@jit
def thresholds(st: State, pi: I64, pf: F64) -> tuple[float, float, float]:
    """(low, high, sell-close) levels a candle must reach for anything to happen: a low
    at or below a stop or limit buy, a high at or above a limit sell or a trailing
    activation (or above a trailing peak), a SELL signal's close at an exit floor."""
    oi, of, di, dl, bi = st[0], st[1], st[2], st[4], st[5]
    low = -math.inf
    high = math.inf
    exit_floor = math.inf
    for k in range(bi[B_ORDERS]):
        if oi[k, O_ALIVE] == 0:
            continue
        kind = oi[k, O_KIND]
        if kind in (K_STOP_SELL, K_LIMIT_BUY):
            low = max(low, of[k, OF_PRICE])
        elif kind == K_LIMIT_SELL:
            high = min(high, of[k, OF_PRICE])
    for at in range(bi[B_DEALS]):
        slot = dl[at]
        if not settled(di, slot):
            continue
        if pi[PI_SIGNAL_EXIT] != 0:
            exit_floor = min(exit_floor, exit_close(di, st[3], pi, pf, slot))
        if pi[PI_TRAILING_ON] == 0 or di[slot, D_TP] < 0:
            continue
        if di[slot, D_TRAILING] == 0:
            high = min(high, price_of(di[slot, D_TP], pi))
        else:
            high = min(high, np.nextafter(st[3][slot, DF_PEAK], math.inf))
    return low, high, exit_floor


@jit
def buy_thresholds(st: State, pi: I64, pf: F64) -> tuple[float, float]:
    """(add-below, open-from): a BUY signal can add to the newest deal only at a close
    below the first, and open a deal only from the time of the second (the rules of
    ``_add`` and ``_open`` that do not depend on the candle, checked once)."""
    di, df, dl, bi = st[2], st[3], st[4], st[5]
    add_below = -math.inf
    count = bi[B_DEALS]
    if count > 0 and pi[PI_ADD_OK] != 0:
        slot = dl[count - 1]
        quote = pf[PF_ADD_QUOTE]
        if settled(di, slot) and fits_budget(st, pi, pf, committed(df, slot), quote):
            add_below = df[slot, DF_AVG] if pi[PI_BELOW_AVG] != 0 else math.inf
    open_from = math.inf
    if (
        count < pi[PI_MAX_DEALS]
        and pi[PI_BASE_OK] != 0
        and fits_budget(st, pi, pf, 0.0, pf[PF_BASE_QUOTE])
    ):
        open_from = -math.inf
        if bi[B_HAS_LAST] != 0:
            open_from = float(bi[B_LAST_CLOSED] + pi[PI_COOLDOWN])
    return add_below, open_from
