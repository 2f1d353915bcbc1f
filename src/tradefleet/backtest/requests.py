"""A backtest asked for through the API: its fields, their checks, and its stored JSON form.

The checks are the bots' (``services.bot_rules``: strategy, parameters, budget,
timeframe) plus the period and the data: the local candle store
(``TRADEFLEET_CANDLE_DIR``) must hold a file for the product and timeframe, which
``tradefleet download-data`` fills. Whether the file covers the period, without gaps,
is only known once it is read, so that is the run's first step (a failed run says why).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradefleet.backtest.report import decimal_text
from tradefleet.data.store import find_candle_file, store_file_name
from tradefleet.domain import FeeSchedule
from tradefleet.market.base import TIMEFRAMES
from tradefleet.market.products import split_product_id
from tradefleet.services import bot_rules
from tradefleet.services.errors import InvalidInputError

_FEES = ("fee_taker", "fee_maker", "slippage")


@dataclass(frozen=True, slots=True)
class BacktestRequest:
    """What to backtest: ``start <= candle open time < end`` (unix seconds, UTC)."""

    strategy_type: str
    product_id: str
    timeframe: str
    budget: Decimal
    start: int
    end: int
    fees: FeeSchedule
    strategy_config: Mapping[str, Any] = field(default_factory=dict)
    allow_gaps: bool = False

    def to_json(self) -> dict[str, Any]:
        """The stored form: money and rates as decimal strings, times as unix seconds."""
        rates = (self.fees.taker, self.fees.maker, self.fees.slippage)
        return {
            "strategy_type": self.strategy_type,
            "strategy_config": dict(self.strategy_config),
            "product_id": self.product_id,
            "timeframe": self.timeframe,
            "budget": decimal_text(self.budget),
            "start": self.start,
            "end": self.end,
            "allow_gaps": self.allow_gaps,
            **{name: decimal_text(rate) for name, rate in zip(_FEES, rates, strict=True)},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BacktestRequest:
        taker, maker, slippage = (Decimal(data[name]) for name in _FEES)
        return cls(
            strategy_type=data["strategy_type"],
            strategy_config=dict(data["strategy_config"]),
            product_id=data["product_id"],
            timeframe=data["timeframe"],
            budget=Decimal(data["budget"]),
            start=int(data["start"]),
            end=int(data["end"]),
            fees=FeeSchedule(taker=taker, maker=maker, slippage=slippage),
            allow_gaps=bool(data["allow_gaps"]),
        )


def _data_problems(request: BacktestRequest, candle_dir: Path) -> bot_rules.Problems:
    """The product's form, and a candle file for it in the store (for a valid timeframe)."""
    try:
        split_product_id(request.product_id)
    except ValueError as error:
        return [("product_id", str(error))]
    if request.timeframe not in TIMEFRAMES:
        return []  # reported on the timeframe
    if find_candle_file(candle_dir, request.product_id, request.timeframe) is not None:
        return []
    name = store_file_name(request.product_id, request.timeframe)
    return [
        (
            "product_id",
            f"no local {request.timeframe} candles for {request.product_id} "
            f"({candle_dir / name} does not exist): run `tradefleet download-data --product "
            f"{request.product_id} --timeframe {request.timeframe} --from … --to …` first",
        )
    ]


def checked_request(request: BacktestRequest, candle_dir: Path) -> BacktestRequest:
    """The request with its config's defaults filled in; InvalidInputError naming every bad
    field (``strategy_config.rsi_period``, ``budget``, ``end``, ``product_id``, ...)."""
    problems = bot_rules.timeframe_problems(request.timeframe)
    budget_problems = bot_rules.budget_problems(request.budget)
    config, config_problems = bot_rules.strategy_config_problems(
        request.strategy_type,
        request.strategy_config,
        None if budget_problems else request.budget,
    )
    problems += budget_problems + config_problems
    if request.start >= request.end:
        problems.append(("end", "must be after start (the period is start <= time < end)"))
    problems += _data_problems(request, candle_dir)
    if problems:
        raise InvalidInputError.of(problems)
    return replace(request, strategy_config=config)


def candle_file(request: BacktestRequest, candle_dir: Path) -> Path:
    """The store's file for the request (checked to exist when the run was accepted)."""
    path = find_candle_file(candle_dir, request.product_id, request.timeframe)
    if path is None:
        name = store_file_name(request.product_id, request.timeframe)
        raise FileNotFoundError(f"{candle_dir / name}: no such file (was it deleted?)")
    return path
