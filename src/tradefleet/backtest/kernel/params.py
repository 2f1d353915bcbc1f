"""Settings, product and fees as the kernel's parameter arrays.

Whatever does not depend on the run is worked out here in Decimal, exactly as the
reference does it, and only then turned into floats: rounded order quotes, whether an
order passes the exchange's checks, the safety ladder's deviation factors and quotes,
the grid's levels with their sizes and costs. That keeps the float64 part of the kernel
to what truly depends on prices seen during the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

import numpy as np

from tradefleet.brokers.fill_model import validate_order
from tradefleet.deals.book import draft, limit_buy_cost
from tradefleet.deals.grid import grid_levels
from tradefleet.deals.safety import position_cap
from tradefleet.deals.settings import DealSettings, GridSettings
from tradefleet.domain import FeeSchedule, OrderPurpose, OrderType, ProductSpec, Side
from tradefleet.money import round_down

from . import layout
from .jit import F64, I64

_HUNDRED = Decimal(100)
_ONE = Decimal(1)
_EXACT_INTEGER = 2**53  # ticks x numerator must stay an exact float


@dataclass(frozen=True, slots=True)
class SignalParams:
    ints: I64
    floats: F64
    ladder: F64  # per safety order: (1 - deviation %, quote)


@dataclass(frozen=True, slots=True)
class GridParams:
    ints: I64
    floats: F64
    level_ints: I64  # per level: G_* columns
    level_floats: F64  # per level: GF_* columns


def increment_fraction(increment: Decimal) -> tuple[int, int]:
    """``increment`` as (numerator, denominator) integers: 0.01 -> (1, 100)."""
    if not increment > 0:
        raise ValueError(f"increment {increment} must be positive")
    _sign, digits, exponent = increment.normalize().as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"increment {increment} is not a number")
    numerator = int("".join(str(d) for d in digits))
    if exponent >= 0:
        return numerator * 10**exponent, 1
    return numerator, 10**-exponent


def _common(
    product: ProductSpec, fees: FeeSchedule, budget: Decimal, tf_seconds: int
) -> tuple[I64, F64]:
    """The parameters both machines share."""
    ints = np.zeros(layout.N_PI, dtype=np.int64)
    floats = np.zeros(layout.N_PF, dtype=np.float64)
    ints[layout.PI_PRICE_NUM], ints[layout.PI_PRICE_DEN] = increment_fraction(
        product.price_increment
    )
    ints[layout.PI_BASE_NUM], ints[layout.PI_BASE_DEN] = increment_fraction(product.base_increment)
    min_lots = (product.base_min_size / product.base_increment).to_integral_value(ROUND_CEILING)
    ints[layout.PI_MIN_LOTS] = max(int(min_lots), 0)
    ints[layout.PI_TF] = tf_seconds
    ints[layout.PI_SLIP_ON] = int(fees.slippage != 0)
    floats[layout.PF_BUDGET] = float(budget)
    floats[layout.PF_TAKER] = float(fees.taker)
    floats[layout.PF_MAKER] = float(fees.maker)
    floats[layout.PF_TAKER_FACTOR] = float(_ONE + fees.taker)
    floats[layout.PF_TAKER_KEEP] = float(_ONE - fees.taker)
    floats[layout.PF_SLIP_BUY] = float(_ONE + fees.slippage)
    floats[layout.PF_SLIP_SELL] = float(_ONE - fees.slippage)
    floats[layout.PF_QUOTE_MIN] = float(product.quote_min_size)
    return ints, floats


def _market_buy_ok(quote: Decimal, product: ProductSpec) -> bool:
    buy = draft(Side.BUY, OrderType.MARKET, OrderPurpose.BASE, quote=quote)
    return validate_order(buy, product) is None


def _factor(pct: Decimal) -> float:
    """1 + pct %, as ``exits.pct_price`` applies it."""
    return float(1 + pct / _HUNDRED)


def signal_params(
    settings: DealSettings, product: ProductSpec, fees: FeeSchedule, tf_seconds: int
) -> SignalParams:
    if settings.max_active_deals < 1:
        raise ValueError("max_active_deals must be at least 1")
    ints, floats = _common(product, fees, settings.budget, tf_seconds)
    base_quote = round_down(settings.base_order_quote, product.quote_increment)
    add_quote = round_down(settings.add_order_quote, product.quote_increment)
    adds_on = settings.add_order_quote > 0 and _market_buy_ok(add_quote, product)
    trailing = settings.take_profit_pct > 0 and settings.trailing_deviation_pct > 0
    ints[layout.PI_SAFETY_COUNT] = max(settings.safety_order_count, 0)
    # The cooldown counts to the close of the deciding candle (time + candle_seconds).
    ints[layout.PI_COOLDOWN] = settings.cooldown_seconds - settings.candle_seconds
    ints[layout.PI_COMPOUND] = int(settings.compound_profits)
    ints[layout.PI_MAX_DEALS] = settings.max_active_deals
    ints[layout.PI_ENTRY] = int(settings.entry_on_signal)
    ints[layout.PI_SIGNAL_EXIT] = int(settings.signal_exit)
    ints[layout.PI_BELOW_AVG] = int(settings.adds_require_below_average)
    ints[layout.PI_TP_ON] = int(settings.take_profit_pct > 0)
    ints[layout.PI_SL_ON] = int(settings.stop_loss_pct > 0)
    ints[layout.PI_TRAILING_ON] = int(trailing)
    ints[layout.PI_BASE_OK] = int(_market_buy_ok(base_quote, product))
    ints[layout.PI_ADD_OK] = int(adds_on)
    floats[layout.PF_BASE_QUOTE] = float(base_quote)
    floats[layout.PF_ADD_QUOTE] = float(add_quote)
    floats[layout.PF_CAP] = float(position_cap(settings))
    floats[layout.PF_TP_FACTOR] = _factor(settings.take_profit_pct)
    floats[layout.PF_SL_FACTOR] = _factor(-settings.stop_loss_pct)
    floats[layout.PF_TRAIL_FACTOR] = _factor(-settings.trailing_deviation_pct)
    floats[layout.PF_EXIT_FACTOR] = _factor(settings.exit_min_profit_pct)
    return SignalParams(ints, floats, safety_ladder(settings))


def safety_ladder(settings: DealSettings) -> F64:
    """``safety.safety_ladder``'s factors and quotes, before the base price is known."""
    ladder = np.zeros((max(settings.safety_order_count, 0), 2), dtype=np.float64)
    deviation = Decimal(0)
    for k in range(settings.safety_order_count):
        deviation += settings.safety_deviation_pct * settings.safety_step_scale**k
        ladder[k, 0] = float(1 - deviation / _HUNDRED)
        ladder[k, 1] = float(settings.safety_order_quote * settings.safety_volume_scale**k)
    return ladder


def grid_params(
    settings: GridSettings, product: ProductSpec, fees: FeeSchedule, tf_seconds: int
) -> GridParams:
    """The grid's levels as ``grid.grid_levels`` makes them (same errors), each with the
    size, validity and cost of its buy and of the sell one level up."""
    ints, floats = _common(product, fees, settings.budget, tf_seconds)
    levels = grid_levels(settings, product)
    num, den = increment_fraction(product.price_increment)
    level_ints = np.zeros((len(levels), layout.N_GI), dtype=np.int64)
    level_floats = np.zeros((len(levels), layout.N_GF), dtype=np.float64)
    for index, price in enumerate(levels):
        ticks = int(price / product.price_increment)
        if ticks * num >= _EXACT_INTEGER:
            raise ValueError(f"grid level {price} has too many digits for the kernel")
        base = round_down(settings.quote_per_level / price, product.base_increment)
        buy = draft(Side.BUY, OrderType.LIMIT, OrderPurpose.GRID_BUY, base=base, price=price)
        level_ints[index, layout.G_TICKS] = ticks
        level_ints[index, layout.G_LOTS] = int(base / product.base_increment)
        level_ints[index, layout.G_BUY_OK] = int(validate_order(buy, product) is None)
        level_floats[index, layout.GF_PRICE] = float(ticks * num) / den
        level_floats[index, layout.GF_COST] = float(limit_buy_cost(price, base, fees))
        if index + 1 < len(levels):
            up = levels[index + 1]
            sell = draft(Side.SELL, OrderType.LIMIT, OrderPurpose.GRID_SELL, base=base, price=up)
            level_ints[index, layout.G_SELL_OK] = int(validate_order(sell, product) is None)
    return GridParams(ints, floats, level_ints, level_floats)
