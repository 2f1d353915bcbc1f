"""Backtest schemas. The request's field rules are the bots' (``schemas.bots``); the
results have the shape of ``tradefleet backtest``'s JSON document (metrics, trades,
equity), money as decimal strings.

The results are served as stored: their amounts are already the plain decimal strings
``backtest.report`` writes, so they are typed ``DecimalText`` (a string) rather than
re-parsed into Decimals, which would cost seconds on a year of one-minute candles.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from tradefleet.api.schemas.bots import Budget, ProductId, StrategyConfig, StrategyType
from tradefleet.api.schemas.common import (
    DATE_TIME_MESSAGE,
    UTC_RANGE_MESSAGE,
    NextCursor,
    Rate,
    Timeframe,
    parse_date_time,
)
from tradefleet.backtest.requests import BacktestRequest
from tradefleet.db.models import Backtest
from tradefleet.domain import FeeSchedule

BacktestStatus = Literal["queued", "running", "done", "failed"]
DecimalText = Annotated[
    str, Field(description="a decimal number in plain notation", examples=["0.0512"])
]


FIRST_UNIX_SECOND = -62_135_596_800  # 0001-01-01T00:00:00Z
LAST_UNIX_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _moment(value: object) -> object:
    """Unix seconds (a JSON integer), an ISO date (its midnight UTC) or an ISO date-time,
    as ``--from`` takes them; a string of digits or a fraction of a second is refused."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, float) and value.is_integer():  # JSON Schema's integers include 5.0
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if not FIRST_UNIX_SECOND <= value <= LAST_UNIX_SECOND:
            raise PydanticCustomError("datetime_range", UTC_RANGE_MESSAGE)
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        except ValueError:  # 2024-02-30
            raise PydanticCustomError("datetime_parsing", DATE_TIME_MESSAGE) from None
    return parse_date_time(value)


Moment = Annotated[
    datetime,
    BeforeValidator(_moment),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": FIRST_UNIX_SECOND, "maximum": LAST_UNIX_SECOND},
                {"type": "string", "format": "date-time"},
                {"type": "string", "format": "date"},
            ]
        },
        mode="validation",
    ),
    Field(examples=["2024-01-01"]),
]
MOMENT_FORMS = (
    "unix seconds, an ISO 8601 date (its midnight UTC) or date-time (UTC when it has no "
    "offset), in UTC within the years 0001 to 9999"
)


class BacktestBase(BaseModel):
    strategy_type: StrategyType
    strategy_config: StrategyConfig = Field(
        default_factory=dict, description="parameters; omitted ones take their defaults"
    )
    product_id: ProductId
    timeframe: Timeframe
    budget: Budget
    start: Moment = Field(description=f"first candle traded (inclusive): {MOMENT_FORMS}")
    end: Moment = Field(
        description=f"end of the period (exclusive), after start: {MOMENT_FORMS}. The schema "
        "cannot say that end must come after start: an end at or before it is a 422 on end"
    )
    allow_gaps: bool = Field(default=False, description="accept missing candles in the data")


class BacktestCreate(BacktestBase):
    """A backtest to run on the local candle store; omitted fees are the current paper fees
    (``GET /api/settings``)."""

    model_config = ConfigDict(extra="forbid")

    fee_taker: Rate | None = None
    fee_maker: Rate | None = None
    slippage: Rate | None = None

    def to_request(self, fees: FeeSchedule) -> BacktestRequest:
        """The request, with ``fees`` where this one gives none."""
        return BacktestRequest(
            strategy_type=self.strategy_type,
            strategy_config=self.strategy_config,
            product_id=self.product_id,
            timeframe=self.timeframe,
            budget=self.budget,
            start=int(self.start.timestamp()),
            end=int(self.end.timestamp()),
            fees=FeeSchedule(
                taker=fees.taker if self.fee_taker is None else self.fee_taker,
                maker=fees.maker if self.fee_maker is None else self.fee_maker,
                slippage=fees.slippage if self.slippage is None else self.slippage,
            ),
            allow_gaps=self.allow_gaps,
        )


class BacktestMetrics(BaseModel):
    """``tradefleet backtest``'s metrics (README: Backtesting); money in quote currency."""

    start: int = Field(description="open time of the first traded candle")
    end: int = Field(description="close time of the last traded candle")
    candles: int
    budget: DecimalText
    final_equity: DecimalText
    pnl: DecimalText
    realized_pnl: DecimalText
    unrealized_pnl: DecimalText
    total_return_pct: float
    buy_and_hold_return_pct: float
    deals: int
    deals_closed: int
    deals_open: int
    win_rate_pct: float | None
    avg_deal_duration_seconds: float | None
    max_deal_duration_seconds: int | None
    max_safety_orders_used: int
    max_drawdown_pct: float
    sharpe: float | None
    sortino: float | None
    exposure_pct: float
    fills: int
    fees_paid: DecimalText
    funds_needed_peak: DecimalText


class BacktestTrade(BaseModel):
    """One fill; ``quote_amount`` is gross (price x base), the fee is extra."""

    time: int
    side: Literal["buy", "sell"]
    price: DecimalText
    base_amount: DecimalText
    quote_amount: DecimalText
    fee: DecimalText


class BacktestPublic(BacktestBase):
    """A run without its trades and equity curve (what lists show); the stored request is
    shown as it is, without the input rules (a run stored before a rule must still show)."""

    strategy_type: str
    strategy_config: dict[str, Any]
    product_id: str
    id: int
    status: BacktestStatus
    progress: float = Field(ge=0, le=1, description="fraction of the candles done")
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    fee_taker: Rate
    fee_maker: Rate
    slippage: Rate
    metrics: BacktestMetrics | None = Field(description="set once the run is done")

    @classmethod
    def fields_of(cls, run: Backtest) -> dict[str, Any]:
        return {
            **run.request,  # BacktestRequest.to_json's form
            "id": run.id,
            "status": run.status,
            "progress": run.progress,
            "error": run.error,
            "created_at": run.created_at,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "metrics": run.metrics,
        }

    @classmethod
    def from_run(cls, run: Backtest) -> BacktestPublic:
        return cls.model_validate(cls.fields_of(run))


class BacktestDetail(BacktestPublic):
    """A run with, once done, every fill and the equity at each candle's close."""

    trades: list[BacktestTrade] | None = Field(description="set once the run is done")
    equity: list[tuple[int, DecimalText]] | None = Field(
        description="[candle open time, equity at its close]; set once the run is done"
    )

    @classmethod
    def from_run(cls, run: Backtest) -> BacktestDetail:
        result = run.result or {}
        return cls.model_validate(
            {**cls.fields_of(run), "trades": result.get("trades"), "equity": result.get("equity")}
        )


class BacktestsPublic(BaseModel):
    data: list[BacktestPublic]
    count: int = Field(description="every run, on every page")
    next_cursor: NextCursor = None
