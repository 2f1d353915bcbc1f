"""How a bot manages its deals: built from a strategy's validated parameters and budget.

Percentages are in percent (``Decimal("1.5")`` = 1.5 %); amounts are quote currency.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class DealSettings:
    """Rules of the signal deal machine (every strategy but the grid)."""

    budget: Decimal
    base_order_quote: Decimal  # quote spent by the deal's first (market) buy
    add_order_quote: Decimal = Decimal(0)  # quote per signal-driven add; 0 = no signal adds
    adds_require_below_average: bool = True  # add only while close < the deal's average entry
    max_position_quote: Decimal | None = None  # cap of quote committed to one deal (None = budget)
    safety_order_count: int = 0
    safety_order_quote: Decimal = Decimal(0)  # size of the first safety order
    safety_deviation_pct: Decimal = Decimal(1)  # first safety order this far below the base price
    safety_volume_scale: Decimal = Decimal(1)  # each next safety order is this many times larger
    safety_step_scale: Decimal = Decimal(1)  # each next deviation step is this many times wider
    take_profit_pct: Decimal = Decimal(0)  # from the average entry; 0 = off
    trailing_deviation_pct: Decimal = Decimal(0)  # > 0 with take profit = trailing take profit
    stop_loss_pct: Decimal = Decimal(0)  # from the average entry; 0 = off
    signal_exit: bool = True  # sell the deal at market on the strategy's SELL signal
    exit_min_profit_pct: Decimal = Decimal(0)  # SELL signals only act at this profit or more
    # After a deal closes, wait this long before opening another: from the closing fill's
    # candle time to the decision, at the close of the deciding candle.
    cooldown_seconds: int = 0
    candle_seconds: int = 0  # the bot's timeframe: a decision is made at time + this
    max_active_deals: int = 1
    entry_on_signal: bool = True  # open deals on BUY signals (simple_dca: on its interval)
    compound_profits: bool = False  # realised profits raise what the bot may commit


class GridSpacing(StrEnum):
    ARITHMETIC = "arithmetic"
    GEOMETRIC = "geometric"


@dataclass(frozen=True, slots=True)
class GridSettings:
    """Grid bot: buy at each level below the price, sell one level up, repeat."""

    budget: Decimal
    lower_price: Decimal
    upper_price: Decimal
    levels: int  # number of price levels including both bounds (>= 2)
    spacing: GridSpacing
    quote_per_level: Decimal


def on_timeframe(
    settings: DealSettings | GridSettings, tf_seconds: int
) -> DealSettings | GridSettings:
    """The settings of a bot trading candles of ``tf_seconds``: its decisions are made at
    each candle's close, which is what its cooldown counts to."""
    if isinstance(settings, DealSettings):
        return replace(settings, candle_seconds=tf_seconds)
    return settings
