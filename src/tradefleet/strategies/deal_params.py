"""The deal-management parameters most strategies share, declared once, and their mapping
onto ``DealSettings``.

Percentages stay percent; "% of budget" amounts become quote amounts here, as exact
Decimals (floats go through ``money.to_decimal`` so 0.1 stays 0.1).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradefleet.deals.settings import DealSettings
from tradefleet.money import canonical, to_decimal
from tradefleet.strategies.parameters import (
    FieldError,
    ParamValue,
    StrategyConfigError,
    StrategyParameter,
    field_error,
)

_HUNDRED = Decimal(100)

DEAL_PARAMETERS: tuple[StrategyParameter, ...] = (
    StrategyParameter(
        name="safety_order_count", type="int", default=0, min=0, max=25, unit="orders",
        search_min=0, search_max=10,
        group="deal", description="Safety (DCA) limit buys placed below the base price; 0 = none.",
    ),
    StrategyParameter(
        name="safety_order_pct", type="float", default=10.0, min=0.1, max=100, unit="%",
        search_min=1, search_max=25,
        group="deal", description="Size of the first safety order, in % of the budget.",
    ),
    StrategyParameter(
        name="safety_order_deviation_pct", type="float", default=1.5, min=0.1, max=50, unit="%",
        search_min=0.5, search_max=5,
        group="deal", description="How far below the base price the first safety order rests.",
    ),
    StrategyParameter(
        name="safety_order_volume_scale", type="float", default=1.0, min=0.1, max=10, unit="x",
        search_min=1, search_max=2.5,
        group="deal", description="Each next safety order is this many times the previous one.",
    ),
    StrategyParameter(
        name="safety_order_step_scale", type="float", default=1.0, min=0.1, max=10, unit="x",
        search_min=1, search_max=2,
        group="deal", description="Each next deviation step is this many times the previous one.",
    ),
    StrategyParameter(
        name="take_profit_pct", type="float", default=0.0, min=0, max=1000, unit="%",
        search_min=0.5, search_max=10,
        group="risk", description="Sell the deal this far above its average entry; 0 = off.",
    ),
    StrategyParameter(
        name="trailing_deviation_pct", type="float", default=0.0, min=0, max=50, unit="%",
        search_min=0.2, search_max=3,
        group="risk",
        description="Once take profit is reached, trail the high by this much; 0 = off.",
    ),
    StrategyParameter(
        name="stop_loss_pct", type="float", default=0.0, min=0, max=100, unit="%",
        search_min=1, search_max=30,
        group="risk", description="Sell the deal this far below its average entry; 0 = off.",
    ),
    StrategyParameter(
        name="cooldown_minutes", type="int", default=0, min=0, max=10080, unit="minutes",
        search_min=0, search_max=1440,
        group="deal", description="Wait this long after a deal closes before opening another.",
    ),
    StrategyParameter(
        name="max_active_deals", type="int", default=1, min=1, max=20, unit="deals",
        search_min=1, search_max=5,
        group="deal", description="Deals this bot may hold open at once.",
    ),
    StrategyParameter(
        name="compound_profits", type="bool", default=False, group="deal",
        description=(
            "Let realised profits be committed on top of the budget. Realised losses "
            "always shrink what the bot may commit, so it never loses more than its budget."
        ),
    ),
)  # fmt: skip


def deal_parameters(
    *, exclude: Collection[str] = (), defaults: Mapping[str, ParamValue] | None = None
) -> tuple[StrategyParameter, ...]:
    """The shared deal parameters minus ``exclude``, with some defaults replaced."""
    overrides = defaults or {}
    unknown = (set(exclude) | set(overrides)) - {p.name for p in DEAL_PARAMETERS}
    if unknown:
        raise ValueError(f"not shared deal parameters: {sorted(unknown)}")
    return tuple(
        p.model_copy(update={"default": overrides[p.name]}) if p.name in overrides else p
        for p in DEAL_PARAMETERS
        if p.name not in exclude
    )


def deal_cross_field_errors(values: Mapping[str, Any]) -> list[FieldError]:
    """A trailing take profit only starts trailing once the take profit is reached."""
    if values.get("trailing_deviation_pct", 0) > 0 and values.get("take_profit_pct", 0) <= 0:
        return [field_error("trailing_deviation_pct", "needs take_profit_pct above 0")]
    return []


def pct_not_above(values: Mapping[str, Any], field: str, cap_field: str) -> list[FieldError]:
    """One order may not exceed the cap of the whole position."""
    if values[field] > values[cap_field]:
        return [field_error(field, f"must not exceed {cap_field} ({values[cap_field]:g})")]
    return []


def dec(value: float | int) -> Decimal:
    """A parameter as an exact Decimal in plain form (1.0 -> Decimal("1"))."""
    return canonical(to_decimal(value))


def pct_of(budget: Decimal, pct: float) -> Decimal:
    """``pct`` % of ``budget``, exact: Decimal("0.5") and 10.0 give Decimal("0.05")."""
    return canonical(budget * to_decimal(pct) / _HUNDRED)


def require_positive_budget(budget: Decimal) -> None:
    if not budget > 0:
        raise StrategyConfigError([field_error("budget", "must be greater than 0")])


@dataclass(frozen=True, slots=True)
class EntrySizing:
    """The strategy-specific part of ``DealSettings``; the shared parameters fill the rest."""

    base_order_quote: Decimal
    add_order_quote: Decimal = Decimal(0)
    adds_require_below_average: bool = True
    max_position_quote: Decimal | None = None
    signal_exit: bool = True
    exit_min_profit_pct: Decimal = Decimal(0)


MAX_POSITION_PARAMETER = StrategyParameter(
    name="max_position_pct", type="float", default=100.0, min=0.1, max=100, unit="%",
    search_min=10, search_max=100,
    group="entry", description="Most of the budget one deal may hold.",
)  # fmt: skip


def averaging_sizing(
    params: Mapping[str, Any], budget: Decimal, *, first: str, add: str, min_profit: str
) -> EntrySizing:
    """The sizing of strategies that average down on repeated BUY signals: a first buy and
    adds (while below the deal's average entry) in % of the budget, a cap per deal, and a
    SELL signal that acts at a minimum net profit."""
    return EntrySizing(
        base_order_quote=pct_of(budget, params[first]),
        add_order_quote=pct_of(budget, params[add]),
        adds_require_below_average=True,
        max_position_quote=pct_of(budget, params["max_position_pct"]),
        signal_exit=True,
        exit_min_profit_pct=dec(params[min_profit]),
    )


def build_deal_settings(
    params: Mapping[str, Any], budget: Decimal, sizing: EntrySizing
) -> DealSettings:
    """``DealSettings`` from validated params; shared parameters a strategy lacks stay off."""
    require_positive_budget(budget)
    return DealSettings(
        budget=budget,
        base_order_quote=sizing.base_order_quote,
        add_order_quote=sizing.add_order_quote,
        adds_require_below_average=sizing.adds_require_below_average,
        max_position_quote=sizing.max_position_quote,
        safety_order_count=int(params.get("safety_order_count", 0)),
        safety_order_quote=pct_of(budget, params.get("safety_order_pct", 0.0)),
        safety_deviation_pct=dec(params.get("safety_order_deviation_pct", 1.0)),
        safety_volume_scale=dec(params.get("safety_order_volume_scale", 1.0)),
        safety_step_scale=dec(params.get("safety_order_step_scale", 1.0)),
        take_profit_pct=dec(params.get("take_profit_pct", 0.0)),
        trailing_deviation_pct=dec(params.get("trailing_deviation_pct", 0.0)),
        stop_loss_pct=dec(params.get("stop_loss_pct", 0.0)),
        signal_exit=sizing.signal_exit,
        exit_min_profit_pct=sizing.exit_min_profit_pct,
        cooldown_seconds=int(params.get("cooldown_minutes", 0)) * 60,
        max_active_deals=int(params.get("max_active_deals", 1)),
        entry_on_signal=True,
        compound_profits=bool(params.get("compound_profits", False)),
    )
