"""Small builders for the backtest tests: candle files, a coarse product, candles."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tradefleet.domain import Candle, CandleArrays, FeeSchedule, ProductSpec

D = Decimal
MINUTE = 60
HOUR = 1_700_000_000 // 3600 * 3600  # an hour boundary
HEADER = "timestamp,open,high,low,close,volume"

# Coarse increments keep hand-worked numbers short.
PRODUCT = ProductSpec(
    product_id="ETH-USD",
    base_currency="ETH",
    quote_currency="USD",
    base_increment=D("0.0001"),
    quote_increment=D("0.01"),
    price_increment=D("0.01"),
    base_min_size=D("0.0001"),
    quote_min_size=D("1"),
)
FEES = FeeSchedule(taker=D("0.006"), maker=D("0.004"))


def bar(time: int, o: float, h: float, low: float, c: float) -> Candle:
    return Candle(time=time, open=o, high=h, low=low, close=c, volume=1.0)


def arrays(bars: list[Candle]) -> CandleArrays:
    return CandleArrays.from_candles(bars)


def write_csv(path: Path, rows: list[str]) -> Path:
    """A candle CSV with the shared header and ``rows`` as given (may be broken on purpose)."""
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def row(time: int, o: float = 100.0, h: float = 101.0, low: float = 99.0, c: float = 100.0) -> str:
    return f"{time},{o},{h},{low},{c},1.5"


def minute_rows(count: int, start: int = HOUR) -> list[str]:
    return [row(start + i * MINUTE) for i in range(count)]
