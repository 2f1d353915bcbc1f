"""Deal bookkeeping both kernel machines share (``deals.book`` in arrays): opening,
recording buys, closing and discarding deals, committed quote, and the fill table.

The open deals form the list ``dl[:bi[B_DEALS]]`` of deal slots, oldest first, as
``BotState.deals``; each deal also has a row in the record table (``ri``/``rf``) that
outlives it and becomes ``KernelResult``'s per-deal counters.
"""

from __future__ import annotations

import numpy as np

from .jit import F64, I64, State, jit
from .layout import (
    B_DEALS,
    B_FILLS,
    B_HAS_LAST,
    B_HELD,
    B_LAST_CLOSED,
    B_NEXT_SEQ,
    B_RECORDS,
    B_UNDECIDED,
    BF_MAX_COMMITTED,
    BF_OPEN_COST,
    BF_REALIZED,
    D_ADDS,
    D_ALIVE,
    D_BOUGHT,
    D_CYCLE,
    D_LEVEL,
    D_LIMIT_FILL,
    D_LOTS,
    D_OPENED,
    D_RECORD,
    D_SAFETY,
    D_SEQ,
    D_STOP,
    D_TP,
    DF_AVG,
    DF_BASE_OPEN,
    DF_BASE_PRICE,
    DF_BOUGHT_QUOTE,
    DF_BUY_FEES,
    DF_MAX_COMMITTED,
    DF_RESERVED,
    DF_SELL_FEES,
    DF_SOLD_QUOTE,
    F_CYCLE,
    F_LEVEL,
    F_LOTS,
    F_NUMBER,
    F_PURPOSE,
    F_SEQ,
    F_SIDE,
    F_TICKS,
    F_TIME,
    FF_FEE,
    FF_PRICE,
    FF_QUOTE,
    FF_RAW,
    K_LIMIT_BUY,
    K_LIMIT_SELL,
    K_MARKET_BUY,
    K_STOP_SELL,
    NO_TIME,
    O_CYCLE,
    O_DEAL,
    O_KIND,
    O_LEVEL,
    O_LOTS,
    O_NUMBER,
    O_PURPOSE,
    O_TICKS,
    OF_PRICE,
    PF_MAKER,
    PF_TAKER,
    PI_BASE_DEN,
    PI_BASE_NUM,
    R_ADDS,
    R_CLOSED,
    R_CLOSED_STATE,
    R_DISCARDED,
    R_LEVEL,
    R_LOTS,
    R_OPEN,
    R_OPENED,
    R_REASON,
    R_SAFETY,
    R_SEQ,
    R_STATE,
    RF_BOUGHT_QUOTE,
    RF_BUY_FEES,
    RF_MAX_COMMITTED,
    RF_PNL,
    RF_SELL_FEES,
    RF_SOLD_QUOTE,
    SIDE_BUY,
    SIDE_SELL,
)
from .orders import CANCEL_ALL, cancel_orders, market_lots, market_price, remove
from .rounding import fee_of, le_tol, lots_base, near_tol


@jit
def open_deal(st: State, slot: int, opened_at: int, level: int) -> None:
    """``book.open_deal`` into the free row ``slot``: the bot's next seq, last in the list."""
    _oi, _of, di, df, dl, bi, _bf, _fi, _ff, ri, _rf = st
    di[slot].fill(0)
    df[slot].fill(0.0)
    di[slot, D_ALIVE] = 1
    di[slot, D_SEQ] = bi[B_NEXT_SEQ]
    bi[B_NEXT_SEQ] += 1
    di[slot, D_OPENED] = opened_at
    di[slot, D_TP] = -1
    di[slot, D_STOP] = -1
    di[slot, D_LEVEL] = level
    di[slot, D_CYCLE] = -1
    di[slot, D_LIMIT_FILL] = NO_TIME
    rec = bi[B_RECORDS]
    bi[B_RECORDS] = rec + 1
    di[slot, D_RECORD] = rec
    ri[rec].fill(0)
    ri[rec, R_SEQ] = di[slot, D_SEQ]
    ri[rec, R_OPENED] = opened_at
    ri[rec, R_CLOSED] = -1
    ri[rec, R_REASON] = -1
    ri[rec, R_LEVEL] = level
    ri[rec, R_STATE] = R_OPEN
    dl[bi[B_DEALS]] = slot
    bi[B_DEALS] += 1


@jit
def _unlist(dl: np.ndarray, bi: np.ndarray, slot: int) -> None:
    count = bi[B_DEALS]
    at = 0
    while dl[at] != slot:
        at += 1
    while at < count - 1:  # shift by hand: an overlapping slice copy allocates
        dl[at] = dl[at + 1]
        at += 1
    bi[B_DEALS] = count - 1


@jit
def committed(df: np.ndarray, slot: int) -> float:
    """``book.committed``: spent (gross + fees) plus what the working buys reserve."""
    return float(df[slot, DF_BOUGHT_QUOTE] + df[slot, DF_BUY_FEES] + df[slot, DF_RESERVED])


@jit
def total_committed(df: F64, dl: I64, bi: I64) -> float:
    total = 0.0
    for at in range(bi[B_DEALS]):
        total += committed(df, dl[at])
    return total


@jit
def counted_realized(bf: F64, compound: int) -> float:
    """The realised PnL that changes what the bot may commit: losses, and profits when
    it compounds them."""
    realized = float(bf[BF_REALIZED])
    return realized if compound != 0 or realized < 0.0 else 0.0


@jit
def spendable(bf: F64, compound: int, budget: float) -> float:
    """``book.spendable``: the budget less realised losses (plus profits when compounding)."""
    return max(0.0, budget + counted_realized(bf, compound))


@jit
def fits_spendable(st: State, compound: int, budget: float, total: float) -> bool:
    """``book.fits_spendable``: ``total`` committed stays within ``spendable``. The
    realised PnL is a float sum: where it moves the limit and ``total`` lies within the
    tolerance of it, float64 cannot decide like the reference, so the run is marked
    undecided (``run_kernel`` then refuses it and the reference answers)."""
    counted = counted_realized(st[6], compound)
    room = max(0.0, budget + counted)
    if counted != 0.0 and near_tol(total, room):
        st[5][B_UNDECIDED] += 1
    return le_tol(total, room)


@jit
def note_committed(df: F64, dl: I64, bi: I64, bf: F64) -> None:
    """Keep the peaks of committed quote (each deal's and the bot's), measured at the
    close of every candle that placed an order: only a placement can raise them."""
    total = 0.0
    for at in range(bi[B_DEALS]):
        slot = dl[at]
        amount = committed(df, slot)
        df[slot, DF_MAX_COMMITTED] = max(df[slot, DF_MAX_COMMITTED], amount)
        total += amount
    bf[BF_MAX_COMMITTED] = max(bf[BF_MAX_COMMITTED], total)


@jit
def execute(st: State, pi: np.ndarray, pf: np.ndarray, k: int, t: int, open_: float) -> int:
    """The fill of order ``k`` on a candle opening at ``open_`` (``fill_model``'s prices
    and amounts), appended to the fill table; returns its row. The order stops working."""
    oi, of, di, fi, ff, bi = st[0], st[1], st[2], st[7], st[8], st[5]
    kind = oi[k, O_KIND]
    ticks = -1
    rate = pf[PF_TAKER]
    lots = oi[k, O_LOTS]
    if kind in (K_LIMIT_BUY, K_LIMIT_SELL):
        raw = of[k, OF_PRICE]
        ticks = oi[k, O_TICKS]
        price = raw
        rate = pf[PF_MAKER]
    elif kind == K_STOP_SELL:
        raw = open_
        if of[k, OF_PRICE] <= open_:
            raw = of[k, OF_PRICE]
            ticks = oi[k, O_TICKS]
        price = market_price(raw, True, pi, pf)
    else:
        raw = open_
        price = market_price(raw, kind != K_MARKET_BUY, pi, pf)
        if kind == K_MARKET_BUY:
            lots = market_lots(oi, of, k, open_, pi, pf)
    gross = price * lots_base(lots, pi[PI_BASE_NUM], pi[PI_BASE_DEN])
    row = int(bi[B_FILLS])
    bi[B_FILLS] = row + 1
    fi[row, F_TIME] = t
    fi[row, F_SIDE] = SIDE_BUY if kind in (K_MARKET_BUY, K_LIMIT_BUY) else SIDE_SELL
    fi[row, F_PURPOSE] = oi[k, O_PURPOSE]
    fi[row, F_SEQ] = di[oi[k, O_DEAL], D_SEQ]
    fi[row, F_LOTS] = lots
    fi[row, F_NUMBER] = oi[k, O_NUMBER]
    fi[row, F_LEVEL] = oi[k, O_LEVEL]
    fi[row, F_CYCLE] = oi[k, O_CYCLE]
    fi[row, F_TICKS] = ticks
    ff[row, FF_PRICE] = price
    ff[row, FF_QUOTE] = gross
    ff[row, FF_FEE] = fee_of(gross, rate)
    ff[row, FF_RAW] = raw
    remove(oi, of, di, st[3], bi, k)
    return row


@jit
def record_buy(st: State, pi: np.ndarray, slot: int, row: int) -> None:
    """``book.record_buy``; the average entry is gross / base (fees excluded)."""
    di, df, bi, bf, fi, ff, ri = st[2], st[3], st[5], st[6], st[7], st[8], st[9]
    lots = fi[row, F_LOTS]
    gross = ff[row, FF_QUOTE]
    fee = ff[row, FF_FEE]
    di[slot, D_LOTS] += lots
    di[slot, D_BOUGHT] += lots
    bi[B_HELD] += lots
    df[slot, DF_BOUGHT_QUOTE] += gross
    df[slot, DF_BUY_FEES] += fee
    bf[BF_OPEN_COST] += gross + fee
    bought = lots_base(di[slot, D_BOUGHT], pi[PI_BASE_NUM], pi[PI_BASE_DEN])
    df[slot, DF_AVG] = df[slot, DF_BOUGHT_QUOTE] / bought
    if di[slot, D_BOUGHT] == lots:
        df[slot, DF_BASE_PRICE] = ff[row, FF_PRICE]
        df[slot, DF_BASE_OPEN] = ff[row, FF_RAW]
        di[slot, D_OPENED] = fi[row, F_TIME]
        ri[di[slot, D_RECORD], R_OPENED] = fi[row, F_TIME]


@jit
def _write_record(st: State, slot: int) -> None:
    di, df, ri, rf = st[2], st[3], st[9], st[10]
    rec = di[slot, D_RECORD]
    ri[rec, R_SAFETY] = di[slot, D_SAFETY]
    ri[rec, R_ADDS] = di[slot, D_ADDS]
    ri[rec, R_LOTS] = di[slot, D_BOUGHT]
    rf[rec, RF_BOUGHT_QUOTE] = df[slot, DF_BOUGHT_QUOTE]
    rf[rec, RF_BUY_FEES] = df[slot, DF_BUY_FEES]
    rf[rec, RF_SOLD_QUOTE] = df[slot, DF_SOLD_QUOTE]
    rf[rec, RF_SELL_FEES] = df[slot, DF_SELL_FEES]
    rf[rec, RF_MAX_COMMITTED] = df[slot, DF_MAX_COMMITTED]


@jit
def close_deal(st: State, slot: int, row: int, reason: int) -> None:
    """``book.close``: record the selling fill, realise the PnL, cancel the rest, retire."""
    di, df, dl, bi, bf, fi, ff, ri, rf = (
        st[2],
        st[3],
        st[4],
        st[5],
        st[6],
        st[7],
        st[8],
        st[9],
        st[10],
    )
    lots = fi[row, F_LOTS]
    t = fi[row, F_TIME]
    di[slot, D_LOTS] -= lots
    bi[B_HELD] -= lots
    df[slot, DF_SOLD_QUOTE] += ff[row, FF_QUOTE]
    df[slot, DF_SELL_FEES] += ff[row, FF_FEE]
    cost = df[slot, DF_BOUGHT_QUOTE] + df[slot, DF_BUY_FEES]
    pnl = df[slot, DF_SOLD_QUOTE] - df[slot, DF_SELL_FEES] - cost
    bf[BF_REALIZED] += pnl
    bf[BF_OPEN_COST] -= cost
    if bi[B_HELD] == 0:
        bf[BF_OPEN_COST] = 0.0  # nothing held any more: no float residue left behind
    cancel_orders(st[0], st[1], di, df, bi, slot, CANCEL_ALL)
    _write_record(st, slot)
    rec = di[slot, D_RECORD]
    ri[rec, R_CLOSED] = t
    ri[rec, R_REASON] = reason
    ri[rec, R_STATE] = R_CLOSED_STATE
    rf[rec, RF_PNL] = pnl
    di[slot, D_ALIVE] = 0
    _unlist(dl, bi, slot)
    if bi[B_HAS_LAST] == 0 or t > bi[B_LAST_CLOSED]:
        bi[B_LAST_CLOSED] = t
    bi[B_HAS_LAST] = 1


@jit
def discard(st: State, slot: int) -> None:
    """``book.discard``: drop a deal that never bought anything."""
    di, dl, bi, ri = st[2], st[4], st[5], st[9]
    cancel_orders(st[0], st[1], di, st[3], bi, slot, CANCEL_ALL)
    ri[di[slot, D_RECORD], R_STATE] = R_DISCARDED
    di[slot, D_ALIVE] = 0
    _unlist(dl, bi, slot)


@jit
def finish_records(st: State) -> None:
    """Copy the counters of the deals still open at the end into their records."""
    dl, bi = st[4], st[5]
    for at in range(bi[B_DEALS]):
        _write_record(st, dl[at])
