"""The search space: which strategy parameters the optimiser varies, and over what.

Ranges come from the strategy's own ``StrategyParameter`` definitions (the same ones the
API serves and validation enforces), so a searched value is always one a bot accepts:
int -> integers, float -> reals, over the parameter's default search range
(``search_min``..``search_max``, e.g. a take profit of 0.5..10 %) or, when it gives none,
its validation bounds ``min``..``max``; choice -> its choices, bool -> false/true.
``--range name=LOW:HIGH`` replaces the search range with any span inside the validation
bounds (wider or narrower than the default one), and makes a parameter without an upper
bound, like a grid's prices, searchable. Parameters not searched keep the base config's
value (``--config``, else the default).

A sampled combination can still break a rule between fields (oversold < overbought, an
order above the position cap): :meth:`SearchSpace.check` says why, and the search marks
that trial pruned instead of backtesting it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from tradefleet.strategies import StrategyConfigError, StrategyParameter, TradingStrategy

DEFAULT_GROUPS = ("signal", "entry", "exit")
"""Searched when ``--params`` is not given: what decides entries and exits, not deal sizing
(safety orders) or risk (take profit, stop loss), which a user usually fixes."""

Bounds = tuple[float, float]


class SpaceError(ValueError):
    """A search space that cannot be built; the message names the parameter."""


@dataclass(frozen=True, slots=True)
class SearchSpace:
    """The searched parameters of one strategy, on top of a complete base config."""

    strategy: type[TradingStrategy]
    base_config: dict[str, Any]  # validated, defaults filled in
    distributions: dict[str, BaseDistribution]

    @property
    def names(self) -> list[str]:
        return list(self.distributions)

    def config(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The base config with the searched values put in."""
        return {**self.base_config, **params}

    def check(self, params: Mapping[str, Any], budget: Decimal, history: int) -> str:
        """Why the combination cannot be a bot's config ('' when it can).

        ``history`` is the number of candles before the traded period: a config whose
        indicators need more warm-up than that would trade on unsettled values.
        """
        try:
            strategy = self.strategy(self.config(params))
            strategy.deal_settings(budget)
        except StrategyConfigError as error:
            return str(error)
        if strategy.warmup() > history + 1:
            return f"needs {strategy.warmup()} candles of warm-up, the data has {history + 1}"
        return ""

    def summary(self) -> str:
        """The searched ranges in one line: ``rsi_period 5..30, spacing arithmetic|geometric``."""
        return ", ".join(f"{name} {_span(dist)}" for name, dist in self.distributions.items())

    def describe(self) -> dict[str, Any]:
        """JSON-ready bounds per parameter, to recognise the same search in a stored study."""
        return {name: _describe(dist) for name, dist in self.distributions.items()}


def max_warmup(space: SearchSpace) -> int:
    """The longest indicator warm-up a config of the space needs, so every trial trades
    the same candles. Warm-ups grow with the period parameters (integers), so the
    candidates are the base config and the searched integers at their upper bounds, all
    together and one at a time; combinations that break a rule are skipped."""
    tops = {
        name: dist.high
        for name, dist in space.distributions.items()
        if isinstance(dist, IntDistribution)
    }
    candidates = [{}, tops, *({name: high} for name, high in tops.items())]
    warmups = [1]
    for params in candidates:
        try:
            warmups.append(space.strategy(space.config(params)).warmup())
        except StrategyConfigError:
            continue
    return max(warmups)


def default_names(strategy: type[TradingStrategy]) -> list[str]:
    return [p.name for p in strategy.definition.parameters if p.group in DEFAULT_GROUPS]


def parse_ranges(raw: Iterable[str]) -> dict[str, Bounds]:
    """``["oversold=20:40"]`` -> ``{"oversold": (20.0, 40.0)}``."""
    ranges: dict[str, Bounds] = {}
    for item in raw:
        name, sep, span = item.partition("=")
        low, colon, high = span.partition(":")
        try:
            bounds = (float(low), float(high))
        except ValueError:
            bounds = (math.nan, math.nan)
        if not (sep and colon and all(math.isfinite(b) for b in bounds)):
            raise SpaceError(f"--range {item!r}: write NAME=LOW:HIGH, e.g. oversold=20:40")
        if name.strip() in ranges:
            raise SpaceError(f"--range: {name.strip()} is given twice")
        ranges[name.strip()] = bounds
    return ranges


def build_space(
    strategy: type[TradingStrategy],
    base_config: Mapping[str, Any],
    names: list[str] | None = None,
    ranges: Mapping[str, Bounds] | None = None,
) -> SearchSpace:
    """The space over ``names`` (default: the signal/entry/exit parameters) plus every
    parameter given a range. Raises ``SpaceError`` or ``StrategyConfigError`` (base config)."""
    definition = strategy.definition
    by_name = {p.name: p for p in definition.parameters}
    ranges = dict(ranges or {})
    chosen = list(default_names(strategy) if names is None else names)
    chosen += [name for name in ranges if name not in chosen]
    unknown = [name for name in chosen if name not in by_name]
    if unknown:
        raise SpaceError(
            f"{definition.id} has no parameter {unknown[0]!r}; its parameters: "
            + ", ".join(by_name)
        )
    if len(set(chosen)) != len(chosen):
        raise SpaceError("--params: a parameter is named twice")
    if not chosen:
        raise SpaceError(
            f"{definition.id} has no signal/entry/exit parameters to search by default; "
            "name some with --params: " + ", ".join(by_name)
        )
    distributions = {name: distribution(by_name[name], ranges.get(name)) for name in chosen}
    return SearchSpace(strategy, strategy.validate_config(base_config), distributions)


def distribution(param: StrategyParameter, bounds: Bounds | None = None) -> BaseDistribution:
    """The Optuna distribution of one parameter: over ``bounds`` (a ``--range``) when given,
    else over its default search range, else over its validation bounds."""
    if param.type == "bool":
        _no_range(param, bounds)
        return CategoricalDistribution((False, True))
    if param.type == "choice":
        _no_range(param, bounds)
        return CategoricalDistribution(tuple(param.choices or ()))
    if param.type == "int" and bounds is not None and not all(b.is_integer() for b in bounds):
        raise SpaceError(f"--range {param.name}: an integer parameter needs whole bounds")
    low, high = _numeric_bounds(param, bounds)
    if param.type == "int":
        return IntDistribution(int(low), int(high))
    return FloatDistribution(float(low), float(high))


def _no_range(param: StrategyParameter, bounds: Bounds | None) -> None:
    if bounds is not None:
        raise SpaceError(f"--range {param.name}: a {param.type} parameter has no numeric range")


def _numeric_bounds(param: StrategyParameter, bounds: Bounds | None) -> Bounds:
    if bounds is None:
        if param.search_range is not None:
            return param.search_range
        if param.min is None or param.max is None:
            raise SpaceError(
                f"{param.name} has no {'lower' if param.min is None else 'upper'} bound to "
                f"search up to: give one with --range {param.name}=LOW:HIGH"
            )
        return float(param.min), float(param.max)
    low, high = bounds
    if not low < high:
        raise SpaceError(f"--range {param.name}: LOW must be below HIGH")
    for value in bounds:
        _, message = param.check(int(value) if param.type == "int" else value)
        if message:
            raise SpaceError(f"--range {param.name}: {value:g} {message}")
    return low, high


def _describe(dist: BaseDistribution) -> Any:
    if isinstance(dist, (IntDistribution, FloatDistribution)):
        return [type(dist.low).__name__, dist.low, dist.high]
    if isinstance(dist, CategoricalDistribution):
        return ["choice", *dist.choices]
    return repr(dist)


def _span(dist: BaseDistribution) -> str:
    if isinstance(dist, (IntDistribution, FloatDistribution)):
        return f"{dist.low:.10g}..{dist.high:.10g}"
    if isinstance(dist, CategoricalDistribution):
        return "|".join(str(choice).lower() for choice in dist.choices)
    return repr(dist)
