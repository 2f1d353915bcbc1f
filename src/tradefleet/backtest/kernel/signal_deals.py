"""The signal deal machine (``deals.manager``, ``deals.exits``, ``deals.safety``) on the
kernel's arrays: what happens to a deal when one of its orders fills, and on a closed
candle with the strategy's signal. Each function names the reference function it
mirrors; the order of checks and placements is the reference's, because placement
order decides fill priority.
"""

from __future__ import annotations

import math

from .book import (
    close_deal,
    committed,
    discard,
    execute,
    fits_spendable,
    open_deal,
    record_buy,
    total_committed,
)
from .exact import exact_safety_order
from .jit import F64, I64, State, jit
from .layout import (
    B_DEALS,
    B_HAS_LAST,
    B_LAST_CLOSED,
    B_ORDERS,
    B_UNDECIDED,
    CR_SIGNAL,
    CR_STOP_LOSS,
    CR_TAKE_PROFIT,
    CR_TRAILING,
    D_ADDS,
    D_ALIVE,
    D_BOUGHT,
    D_LIMIT_FILL,
    D_LOTS,
    D_MARKETS,
    D_SAFETY,
    D_STOP,
    D_TP,
    D_TRAILING,
    DF_AVG,
    DF_BASE_OPEN,
    DF_BASE_PRICE,
    DF_BOUGHT_QUOTE,
    DF_BUY_FEES,
    DF_PEAK,
    F_SIDE,
    K_LIMIT_BUY,
    K_LIMIT_SELL,
    K_MARKET_BUY,
    K_MARKET_SELL,
    K_STOP_SELL,
    O_ACTIVE,
    O_ALIVE,
    O_DEAL,
    O_KIND,
    O_PURPOSE,
    P_ADD,
    P_BASE,
    P_EXIT,
    P_SAFETY,
    P_STOP,
    P_TAKE_PROFIT,
    PF_ADD_QUOTE,
    PF_BASE_QUOTE,
    PF_BUDGET,
    PF_CAP,
    PF_EXIT_FACTOR,
    PF_MAKER,
    PF_SL_FACTOR,
    PF_TAKER_KEEP,
    PF_TP_FACTOR,
    PF_TRAIL_FACTOR,
    PI_ADD_OK,
    PI_BASE_DEN,
    PI_BASE_NUM,
    PI_BASE_OK,
    PI_BELOW_AVG,
    PI_COMPOUND,
    PI_COOLDOWN,
    PI_ENTRY,
    PI_MAX_DEALS,
    PI_PRICE_DEN,
    PI_PRICE_NUM,
    PI_RUN,
    PI_SAFETY_COUNT,
    PI_SIGNAL_EXIT,
    PI_SL_ON,
    PI_TP_ON,
    PI_TRAILING_ON,
    SIDE_SELL,
)
from .orders import (
    CANCEL_ALL,
    CANCEL_EXITS,
    CANCEL_STOP,
    buy_too_small,
    cancel_orders,
    limit_cost,
    market_sell_ok,
    next_fill,
    place,
    priced_order_ok,
    remove,
)
from .rounding import (
    ge_tol,
    gt_tol,
    le_tol,
    lots_base,
    lt_tol,
    near_half,
    near_integer,
    nearest_ticks,
    tick_price,
)


@jit
def ticks_of(value: float, pi: I64) -> int:
    return nearest_ticks(value, pi[PI_PRICE_NUM], pi[PI_PRICE_DEN])


@jit
def price_of(ticks: int, pi: I64) -> float:
    return tick_price(ticks, pi[PI_PRICE_NUM], pi[PI_PRICE_DEN])


@jit
def avg_ticks(st: State, pi: I64, slot: int, factor: float) -> int:
    """``exits.pct_price`` of the average entry in ticks. The average of several buys
    is a quotient the reference rounds to 18 places first: where the product lands on
    a half tick, float64 cannot tell the side, so the run is marked undecided."""
    di = st[2]
    value = st[3][slot, DF_AVG] * factor
    if di[slot, D_ADDS] + di[slot, D_SAFETY] > 0 and near_half(
        value, pi[PI_PRICE_NUM], pi[PI_PRICE_DEN]
    ):
        st[5][B_UNDECIDED] += 1
    return ticks_of(value, pi)


@jit
def stop_target(st: State, pi: I64, pf: F64, slot: int) -> int:
    """``exits.stop_target`` in ticks; -1 = no stop."""
    di, df = st[2], st[3]
    target = -1
    if pi[PI_SL_ON] != 0 and di[slot, D_BOUGHT] > 0:
        target = avg_ticks(st, pi, slot, pf[PF_SL_FACTOR])
    if di[slot, D_TRAILING] != 0:
        target = max(target, ticks_of(df[slot, DF_PEAK] * pf[PF_TRAIL_FACTOR], pi))
    return target


@jit
def _place_stop(st: State, pi: I64, pf: F64, slot: int, active: int) -> None:
    di = st[2]
    target = stop_target(st, pi, pf, slot)
    di[slot, D_STOP] = target
    lots = di[slot, D_LOTS]
    if target >= 0 and priced_order_ok(target, lots, pi, pf):
        price = price_of(target, pi)
        place(
            st[0],
            st[1],
            st[2],
            st[3],
            st[5],
            slot,
            K_STOP_SELL,
            P_STOP,
            lots,
            target,
            price,
            0.0,
            0.0,
            active,
        )


@jit
def protect(st: State, pi: I64, pf: F64, slot: int, active: int) -> None:
    """``exits.protect``: (re)place the take profit and the stop for the holding."""
    di = st[2]
    cancel_orders(st[0], st[1], st[2], st[3], st[5], slot, CANCEL_EXITS)
    lots = di[slot, D_LOTS]
    if di[slot, D_BOUGHT] == 0 or lots <= 0:
        return
    di[slot, D_TP] = -1
    if pi[PI_TP_ON] != 0:
        di[slot, D_TP] = avg_ticks(st, pi, slot, pf[PF_TP_FACTOR])
    tp = di[slot, D_TP]
    if tp >= 0 and pi[PI_TRAILING_ON] == 0 and priced_order_ok(tp, lots, pi, pf):
        price = price_of(tp, pi)
        place(
            st[0],
            st[1],
            st[2],
            st[3],
            st[5],
            slot,
            K_LIMIT_SELL,
            P_TAKE_PROFIT,
            lots,
            tp,
            price,
            0.0,
            0.0,
            active,
        )
    _place_stop(st, pi, pf, slot, active)


@jit
def trail(st: State, pi: I64, pf: F64, slot: int, t: int, high: float, active: int) -> None:
    """``exits.trail``: follow the high once it reached the activation price; not on the
    candle of a limit buy fill of the deal (its high came before the fill)."""
    di, df = st[2], st[3]
    if pi[PI_TRAILING_ON] == 0 or di[slot, D_TP] < 0 or di[slot, D_LIMIT_FILL] == t:
        return
    if di[slot, D_TRAILING] == 0:
        if high < price_of(di[slot, D_TP], pi):
            return
        di[slot, D_TRAILING] = 1
        df[slot, DF_PEAK] = high
    elif high > df[slot, DF_PEAK]:
        df[slot, DF_PEAK] = high
    if stop_target(st, pi, pf, slot) != di[slot, D_STOP]:
        cancel_orders(st[0], st[1], st[2], st[3], st[5], slot, CANCEL_STOP)
        _place_stop(st, pi, pf, slot, active)


@jit
def safety_order(st: State, pi: I64, ladder: F64, slot: int, index: int) -> tuple[int, int]:
    """(ticks, lots) of the deal's safety order ``index`` (``safety.safety_ladder``);
    decided by ``exact`` when float64 lands too close to a rounding boundary."""
    df = st[3]
    units = df[slot, DF_BASE_PRICE] * ladder[index, 0] * pi[PI_PRICE_DEN] / pi[PI_PRICE_NUM]
    if near_integer(units + 0.5):
        return exact_safety_order(pi[PI_RUN], df[slot, DF_BASE_OPEN], index)
    ticks = math.floor(units + 0.5)
    if ticks <= 0:
        return ticks, 0
    lots = ladder[index, 1] / price_of(ticks, pi) * pi[PI_BASE_DEN] / pi[PI_BASE_NUM]
    if near_integer(lots):
        return exact_safety_order(pi[PI_RUN], df[slot, DF_BASE_OPEN], index)
    return ticks, math.floor(lots)


@jit
def place_safety_orders(st: State, pi: I64, pf: F64, ladder: F64, slot: int, active: int) -> None:
    """``safety.place_safety_orders``: the ladder below the base price, within the deal
    cap and the budget; an order that does not fit is skipped, later ones still tried."""
    for index in range(pi[PI_SAFETY_COUNT]):
        ticks, lots = safety_order(st, pi, ladder, slot, index)
        if ticks <= 0 or lots <= 0:
            continue
        cost = limit_cost(ticks, lots, pi, pf[PF_MAKER])
        if gt_tol(committed(st[3], slot) + cost, pf[PF_CAP]):
            continue
        total = total_committed(st[3], st[4], st[5]) + cost
        if not fits_spendable(st, pi[PI_COMPOUND], pf[PF_BUDGET], total):
            continue
        if priced_order_ok(ticks, lots, pi, pf):
            price = price_of(ticks, pi)
            place(
                st[0],
                st[1],
                st[2],
                st[3],
                st[5],
                slot,
                K_LIMIT_BUY,
                P_SAFETY,
                lots,
                ticks,
                price,
                0.0,
                cost,
                active,
            )


@jit
def _close_reason(purpose: int, trailing: int) -> int:
    if purpose == P_TAKE_PROFIT:
        return CR_TAKE_PROFIT
    if purpose == P_STOP:
        return CR_TRAILING if trailing != 0 else CR_STOP_LOSS
    return CR_SIGNAL


@jit
def on_fill(
    st: State, pi: I64, pf: F64, ladder: F64, k: int, t: int, open_: float, active: int
) -> None:
    """``manager.on_fill``: grow the deal (and re-place its exits) or close it."""
    oi, di = st[0], st[2]
    slot = oi[k, O_DEAL]
    purpose = oi[k, O_PURPOSE]
    limit_buy = oi[k, O_KIND] == K_LIMIT_BUY
    row = execute(st, pi, pf, k, t, open_)
    if st[7][row, F_SIDE] == SIDE_SELL:
        close_deal(st, slot, row, _close_reason(purpose, di[slot, D_TRAILING]))
        return
    record_buy(st, pi, slot, row)
    if limit_buy:
        di[slot, D_LIMIT_FILL] = t
    if purpose == P_BASE:
        place_safety_orders(st, pi, pf, ladder, slot, active)
    elif purpose == P_SAFETY:
        di[slot, D_SAFETY] += 1
    elif purpose == P_ADD:
        di[slot, D_ADDS] += 1
    di[slot, D_TRAILING] = 0
    st[3][slot, DF_PEAK] = 0.0
    protect(st, pi, pf, slot, active)


@jit
def reject_small_buys(st: State, pi: I64, pf: F64, t: int, open_: float) -> None:
    """``Simulator.step``'s rejections: market buys too small at this open are refused;
    a refused base order drops its empty deal (``manager.on_reject``)."""
    oi, di, bi = st[0], st[2], st[5]
    for k in range(bi[B_ORDERS]):
        if oi[k, O_ALIVE] == 0 or oi[k, O_ACTIVE] > t or oi[k, O_KIND] != K_MARKET_BUY:
            continue
        if not buy_too_small(oi, st[1], k, open_, pi, pf):
            continue
        slot = oi[k, O_DEAL]
        remove(st[0], st[1], st[2], st[3], st[5], k)
        if oi[k, O_PURPOSE] == P_BASE and di[slot, D_BOUGHT] == 0:
            discard(st, slot)


@jit
def settled(di: I64, slot: int) -> bool:
    """``manager._settled``: holds base and has no market order in flight."""
    return bool(di[slot, D_LOTS] > 0 and di[slot, D_BOUGHT] > 0 and di[slot, D_MARKETS] == 0)


@jit
def _cost(df: F64, slot: int) -> float:
    return float(df[slot, DF_BOUGHT_QUOTE] + df[slot, DF_BUY_FEES])


@jit
def exit_allowed(di: I64, df: F64, pi: I64, pf: F64, slot: int, close: float) -> bool:
    """``manager._exit_allowed``: selling at ``close`` nets (after the buy fees and the
    sell's taker fee) at least ``exit_min_profit_pct`` % of what the deal cost."""
    if pi[PI_SIGNAL_EXIT] == 0:
        return False
    held = lots_base(di[slot, D_LOTS], pi[PI_BASE_NUM], pi[PI_BASE_DEN])
    proceeds = close * held * pf[PF_TAKER_KEEP]
    return ge_tol(proceeds, _cost(df, slot) * pf[PF_EXIT_FACTOR])


@jit
def exit_close(di: I64, df: F64, pi: I64, pf: F64, slot: int) -> float:
    """The lowest close at which ``exit_allowed`` holds (-inf: any close)."""
    held = lots_base(di[slot, D_LOTS], pi[PI_BASE_NUM], pi[PI_BASE_DEN])
    keep = held * pf[PF_TAKER_KEEP]
    if keep <= 0.0:
        return -math.inf
    return float(_cost(df, slot) * pf[PF_EXIT_FACTOR] / keep)


@jit
def fits_budget(st: State, pi: I64, pf: F64, deal_committed: float, quote: float) -> bool:
    """``manager._fits``: within the deal cap and what the bot may commit (``spendable``)."""
    if not le_tol(deal_committed + quote, pf[PF_CAP]):
        return False
    total = total_committed(st[3], st[4], st[5]) + quote
    return fits_spendable(st, pi[PI_COMPOUND], pf[PF_BUDGET], total)


@jit
def _add(st: State, pi: I64, pf: F64, close: float, active: int) -> bool:
    """``manager._add``: a market add to the newest deal, if every rule allows it."""
    di, df, dl, bi = st[2], st[3], st[4], st[5]
    if bi[B_DEALS] == 0 or pi[PI_ADD_OK] == 0:
        return False
    slot = dl[bi[B_DEALS] - 1]
    if not settled(di, slot):
        return False
    if pi[PI_BELOW_AVG] != 0 and not lt_tol(close, df[slot, DF_AVG]):
        return False
    quote = pf[PF_ADD_QUOTE]
    if not fits_budget(st, pi, pf, committed(df, slot), quote):
        return False
    _market_buy(st, slot, P_ADD, quote, active)
    return True


@jit
def _market_buy(st: State, slot: int, purpose: int, quote: float, active: int) -> None:
    """A quote-sized market buy of deal ``slot`` (base order or add), reserving ``quote``."""
    place(
        st[0],
        st[1],
        st[2],
        st[3],
        st[5],
        slot,
        K_MARKET_BUY,
        purpose,
        0,
        -1,
        0.0,
        quote,
        quote,
        active,
    )


@jit
def _open(st: State, pi: I64, pf: F64, t: int, active: int) -> None:
    """``manager._open``: a new deal with a market base order, if every rule allows it."""
    di, bi = st[2], st[5]
    if bi[B_DEALS] >= pi[PI_MAX_DEALS]:
        return
    if bi[B_HAS_LAST] != 0 and t - bi[B_LAST_CLOSED] < pi[PI_COOLDOWN]:
        return
    quote = pf[PF_BASE_QUOTE]
    if not fits_budget(st, pi, pf, 0.0, quote) or pi[PI_BASE_OK] == 0:
        return
    slot = 0
    while di[slot, D_ALIVE] != 0:
        slot += 1
    open_deal(st, slot, t, -1)
    _market_buy(st, slot, P_BASE, quote, active)


@jit
def _sell_all(st: State, pi: I64, slot: int, active: int) -> None:
    """``book.sell_all``: nothing changes when the exchange would refuse the sell."""
    lots = st[2][slot, D_LOTS]
    if market_sell_ok(lots, pi):
        cancel_orders(st[0], st[1], st[2], st[3], st[5], slot, CANCEL_ALL)
        place(
            st[0],
            st[1],
            st[2],
            st[3],
            st[5],
            slot,
            K_MARKET_SELL,
            P_EXIT,
            lots,
            -1,
            0.0,
            0.0,
            0.0,
            active,
        )


@jit
def on_candle(
    st: State, pi: I64, pf: F64, t: int, high: float, close: float, action: int, active: int
) -> None:
    """``manager.on_candle``; ``action`` is 1 for BUY, -1 for SELL, 0 for HOLD."""
    di, _df, dl, bi = st[2], st[3], st[4], st[5]
    count = bi[B_DEALS]
    for at in range(count):
        slot = dl[at]  # exits and trailing never remove a deal from the list
        if not settled(di, slot):
            continue
        if action < 0 and exit_allowed(di, st[3], pi, pf, slot, close):
            _sell_all(st, pi, slot, active)
        else:
            trail(st, pi, pf, slot, t, high, active)
    if action > 0 and pi[PI_ENTRY] != 0 and not _add(st, pi, pf, close, active):
        _open(st, pi, pf, t, active)


@jit
def step(
    st: State, pi: I64, pf: F64, ladder: F64, t: int, bar: tuple[float, float, float, float],
    action: int, active: int,
) -> None:  # fmt: skip
    """``Simulator.step`` for one candle; ``bar`` = (open, high, low, close)."""
    open_, high, low, close = bar
    reject_small_buys(st, pi, pf, t, open_)
    while True:
        k = next_fill(st[0], st[1], st[5], t, low, high)
        if k < 0:
            break
        on_fill(st, pi, pf, ladder, k, t, open_, active)
    on_candle(st, pi, pf, t, high, close, action, active)
