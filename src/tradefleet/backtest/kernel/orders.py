"""The kernel's order book and the paper fill model (``brokers.fill_model``) on it.

Working orders are rows of ``oi``/``of`` in placement order: a new order is appended, a
filled or cancelled one is marked dead, and ``compact`` drops dead rows between candles
without changing the order of the rest. That placement order is the reference's
``Simulator.working`` list, which decides who fills first within a priority class.
"""

from __future__ import annotations

import math

import numpy as np

from .exact import exact_market_lots
from .jit import F64, I64, jit
from .layout import (
    B_MARKETS,
    B_ORDERS,
    B_PLACED,
    B_WORKING,
    D_BUYS,
    D_MARKETS,
    D_ORDER_SEQ,
    DF_RESERVED,
    K_LIMIT_BUY,
    K_LIMIT_SELL,
    K_MARKET_BUY,
    K_MARKET_SELL,
    K_STOP_SELL,
    O_ACTIVE,
    O_ALIVE,
    O_CYCLE,
    O_DEAL,
    O_KIND,
    O_LEVEL,
    O_LOTS,
    O_NUMBER,
    O_PURPOSE,
    O_TICKS,
    OF_PRICE,
    OF_QUOTE,
    OF_RESERVE,
    P_STOP,
    P_TAKE_PROFIT,
    PF_QUOTE_MIN,
    PF_SLIP_BUY,
    PF_SLIP_SELL,
    PF_TAKER,
    PF_TAKER_FACTOR,
    PI_BASE_DEN,
    PI_BASE_NUM,
    PI_MIN_LOTS,
    PI_PRICE_DEN,
    PI_PRICE_NUM,
    PI_RUN,
    PI_SLIP_ON,
)
from .rounding import (
    AMBIGUOUS_REL,
    FEE_UNITS,
    fee_of,
    lots_base,
    lt_tol,
    near_integer,
    tick_price,
)

CANCEL_ALL = 0
CANCEL_EXITS = 1  # take profit and stop
CANCEL_STOP = 2


@jit
def is_buy(kind: int) -> bool:
    return kind in (K_MARKET_BUY, K_LIMIT_BUY)


@jit
def place(
    oi: np.ndarray,
    of: np.ndarray,
    di: np.ndarray,
    df: np.ndarray,
    bi: np.ndarray,
    slot: int,
    kind: int,
    purpose: int,
    lots: int,
    ticks: int,
    price: float,
    quote: float,
    reserve: float,
    active: int,
) -> int:
    """Append a validated order of deal ``slot``; it gets the deal's next order number."""
    k = int(bi[B_ORDERS])
    bi[B_ORDERS] = k + 1
    bi[B_WORKING] += 1
    bi[B_PLACED] += 1
    di[slot, D_ORDER_SEQ] += 1
    oi[k, O_ALIVE] = 1
    oi[k, O_DEAL] = slot
    oi[k, O_KIND] = kind
    oi[k, O_PURPOSE] = purpose
    oi[k, O_LOTS] = lots
    oi[k, O_TICKS] = ticks
    oi[k, O_ACTIVE] = active
    oi[k, O_NUMBER] = di[slot, D_ORDER_SEQ]
    oi[k, O_LEVEL] = -1
    oi[k, O_CYCLE] = -1
    of[k, OF_PRICE] = price
    of[k, OF_QUOTE] = quote
    of[k, OF_RESERVE] = reserve
    if kind in (K_MARKET_BUY, K_MARKET_SELL):
        di[slot, D_MARKETS] += 1
        bi[B_MARKETS] += 1
    if is_buy(kind):
        di[slot, D_BUYS] += 1
        df[slot, DF_RESERVED] += reserve
    return k


@jit
def remove(
    oi: np.ndarray, of: np.ndarray, di: np.ndarray, df: np.ndarray, bi: np.ndarray, k: int
) -> None:
    """The order stops working (filled, cancelled or rejected)."""
    oi[k, O_ALIVE] = 0
    bi[B_WORKING] -= 1
    slot = oi[k, O_DEAL]
    kind = oi[k, O_KIND]
    if kind in (K_MARKET_BUY, K_MARKET_SELL):
        di[slot, D_MARKETS] -= 1
        bi[B_MARKETS] -= 1
    if is_buy(kind):
        di[slot, D_BUYS] -= 1
        # Back to an exact zero once nothing reserves, so float residue cannot pile up.
        df[slot, DF_RESERVED] = df[slot, DF_RESERVED] - of[k, OF_RESERVE]
        if di[slot, D_BUYS] == 0:
            df[slot, DF_RESERVED] = 0.0


@jit
def cancel_orders(
    oi: np.ndarray,
    of: np.ndarray,
    di: np.ndarray,
    df: np.ndarray,
    bi: np.ndarray,
    slot: int,
    which: int,
) -> None:
    """``book.cancel``: the deal's working orders (all, its exits, or its stop)."""
    for k in range(bi[B_ORDERS]):
        if oi[k, O_ALIVE] == 0 or oi[k, O_DEAL] != slot:
            continue
        purpose = oi[k, O_PURPOSE]
        if which == CANCEL_EXITS and purpose not in (P_TAKE_PROFIT, P_STOP):
            continue
        if which == CANCEL_STOP and purpose != P_STOP:
            continue
        remove(oi, of, di, df, bi, k)


@jit
def compact(oi: np.ndarray, of: np.ndarray, bi: np.ndarray) -> None:
    """Drop dead rows, keeping the placement order of the working ones."""
    used = 0
    for k in range(bi[B_ORDERS]):
        if oi[k, O_ALIVE] == 0:
            continue
        if k != used:
            for column in range(oi.shape[1]):  # by hand: a row copy would allocate
                oi[used, column] = oi[k, column]
            for column in range(of.shape[1]):
                of[used, column] = of[k, column]
        used += 1
    bi[B_ORDERS] = used


@jit
def _class_of(kind: int) -> int:
    """Fill priority: market orders, stop sells, limit sells, limit buys."""
    if kind in (K_MARKET_BUY, K_MARKET_SELL):
        return 0
    if kind == K_STOP_SELL:
        return 1
    if kind == K_LIMIT_SELL:
        return 2
    return 3


@jit
def _reached(kind: int, price: float, low: float, high: float) -> bool:
    if kind in (K_STOP_SELL, K_LIMIT_BUY):
        return low <= price
    if kind == K_LIMIT_SELL:
        return high >= price
    return True


@jit
def next_fill(
    oi: np.ndarray, of: np.ndarray, bi: np.ndarray, t: int, low: float, high: float
) -> int:
    """``fill_model.next_fill``: the row of the order to fill next on this candle, or -1.

    Unfillable market buys were rejected before the fill loop, so every active market
    order fills.
    """
    best = -1
    best_class = 4
    for k in range(bi[B_ORDERS]):
        if oi[k, O_ALIVE] == 0 or oi[k, O_ACTIVE] > t:
            continue
        kind = oi[k, O_KIND]
        cls = _class_of(kind)
        if cls < best_class and _reached(kind, of[k, OF_PRICE], low, high):
            best = k
            best_class = cls
            if cls == 0:
                return k
    return best


@jit
def market_buy_lots(quote: float, price: float, pi: I64, pf: F64) -> int:
    """``fill_model.market_buy_base`` in lots: the most whose gross + taker fee <= quote;
    -1 when float64 cannot decide it."""
    num = pi[PI_BASE_NUM]
    den = pi[PI_BASE_DEN]
    units = quote / (price * pf[PF_TAKER_FACTOR]) * den / num
    if near_integer(units):
        return -1
    lots = math.floor(units)
    window = AMBIGUOUS_REL * quote + 2.0 / FEE_UNITS
    while lots > 0:
        gross = price * lots_base(lots, num, den)
        cost = gross + fee_of(gross, pf[PF_TAKER])
        if abs(cost - quote) <= window:
            return -1
        if cost <= quote:
            break
        lots -= 1
    return int(max(lots, 0))


@jit
def market_lots(oi: I64, of: F64, k: int, open_: float, pi: I64, pf: F64) -> int:
    """The lots market buy ``k`` gets at this open (exactly: see ``exact``)."""
    lots = market_buy_lots(of[k, OF_QUOTE], market_price(open_, False, pi, pf), pi, pf)
    if lots < 0:
        lots = exact_market_lots(pi[PI_RUN], open_, oi[k, O_PURPOSE])
    return lots


@jit
def market_price(open_: float, sell: bool, pi: np.ndarray, pf: np.ndarray) -> float:
    """The candle's open moved against the trader by the slippage."""
    if pi[PI_SLIP_ON] == 0:
        return open_
    return float(open_ * (pf[PF_SLIP_SELL] if sell else pf[PF_SLIP_BUY]))


@jit
def buy_too_small(oi: I64, of: F64, k: int, open_: float, pi: I64, pf: F64) -> bool:
    """``fill_model.unfillable`` for one active market buy."""
    lots = market_lots(oi, of, k, open_, pi, pf)
    return lots <= 0 or lots < pi[PI_MIN_LOTS]


@jit
def limit_cost(ticks: int, lots: int, pi: np.ndarray, rate: float) -> float:
    """``book.limit_buy_cost``: gross + fee of a limit buy."""
    price = tick_price(ticks, pi[PI_PRICE_NUM], pi[PI_PRICE_DEN])
    gross = price * lots_base(lots, pi[PI_BASE_NUM], pi[PI_BASE_DEN])
    return gross + fee_of(gross, rate)


@jit
def priced_order_ok(ticks: int, lots: int, pi: np.ndarray, pf: np.ndarray) -> bool:
    """``fill_model.validate_order`` for a limit or stop order (ticks and lots are on
    their increments by construction)."""
    if ticks <= 0 or lots <= 0 or lots < pi[PI_MIN_LOTS]:
        return False
    price = tick_price(ticks, pi[PI_PRICE_NUM], pi[PI_PRICE_DEN])
    value = price * lots_base(lots, pi[PI_BASE_NUM], pi[PI_BASE_DEN])
    return not lt_tol(value, pf[PF_QUOTE_MIN])


@jit
def market_sell_ok(lots: int, pi: np.ndarray) -> bool:
    return lots > 0 and lots >= pi[PI_MIN_LOTS]
