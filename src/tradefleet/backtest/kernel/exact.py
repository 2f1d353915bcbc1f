"""Exact Decimal answers for the few kernel decisions float64 cannot settle.

Base amounts must equal the reference's exactly, yet a market buy's size is the largest
lot count whose gross + rounded fee stays within its quote, and a safety order's size
is a quotient rounded down: float64 can land on the wrong side of those boundaries when
the exact value is within about 1e-15 of them. The compiled code therefore computes in
float64 and, only when a result lies within an ambiguity window of a boundary (about
one market buy in 1e3 or 1e4), asks this module, which runs the reference's own
functions (``fill_model.market_buy_base``, ``safety.safety_order_at``) on the exact
inputs. The run's settings, product and fees are registered here for the duration of
``run_kernel`` under the id the kernel carries in its parameters.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from numba import objmode

from tradefleet.brokers.fill_model import market_buy_base
from tradefleet.deals.safety import safety_order_at
from tradefleet.deals.settings import DealSettings, GridSettings
from tradefleet.domain import FeeSchedule, ProductSpec
from tradefleet.money import quantize_amount, round_down, to_decimal

from .jit import jit
from .layout import P_BASE


@dataclass(frozen=True, slots=True)
class ExactContext:
    settings: DealSettings | GridSettings
    product: ProductSpec
    fees: FeeSchedule


_CONTEXTS: dict[int, ExactContext] = {}
_IDS = itertools.count(1)
_LOCK = threading.Lock()


@contextmanager
def registered(context: ExactContext) -> Iterator[int]:
    """Make ``context`` reachable from compiled code under the yielded id."""
    with _LOCK:
        run_id = next(_IDS)
        _CONTEXTS[run_id] = context
    try:
        yield run_id
    finally:
        with _LOCK:
            del _CONTEXTS[run_id]


def _buy_price(context: ExactContext, open_: float) -> Decimal:
    """``fill_model.market_price`` of a buy at this open."""
    price = to_decimal(open_)
    slippage = context.fees.slippage
    return quantize_amount(price * (1 + slippage)) if slippage else price


def _deal_settings(context: ExactContext) -> DealSettings:
    if not isinstance(context.settings, DealSettings):
        raise TypeError("a grid has no market buys or safety orders")
    return context.settings


def market_lots(run_id: int, open_: float, purpose: int) -> int:
    """The exact lots a market buy of ``purpose`` (base or add) gets at this open."""
    context = _CONTEXTS[run_id]
    settings = _deal_settings(context)
    product = context.product
    amount = settings.base_order_quote if purpose == P_BASE else settings.add_order_quote
    quote = round_down(amount, product.quote_increment)
    base = market_buy_base(quote, _buy_price(context, open_), product, context.fees.taker)
    return int(base / product.base_increment)


def safety_order(run_id: int, base_open: float, index: int) -> tuple[int, int]:
    """(ticks, lots) of safety order ``index`` of a deal whose base order filled at the
    open ``base_open``."""
    context = _CONTEXTS[run_id]
    product = context.product
    base_price = _buy_price(context, base_open)
    price, base = safety_order_at(_deal_settings(context), base_price, product, index)
    return int(price / product.price_increment), int(base / product.base_increment)


@jit
def exact_market_lots(run_id: int, open_: float, purpose: int) -> int:
    with objmode(lots="int64"):
        lots = market_lots(run_id, open_, purpose)
    return lots


@jit
def exact_safety_order(run_id: int, base_open: float, index: int) -> tuple[int, int]:
    with objmode(ticks="int64", lots="int64"):
        ticks, lots = safety_order(run_id, base_open, index)
    return ticks, lots
