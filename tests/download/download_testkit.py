"""Candles and products shared by the download tests."""

from __future__ import annotations

from tests.fakes.coinbase_server import FakeCoinbase

from tradefleet.domain import Candle

T0 = 1_704_067_200  # 2024-01-01 00:00 UTC
TF = 300
NOW = 1_750_000_000  # the tests' clock: every candle of 2024 is long closed


def candle(index: int) -> Candle:
    """The 5-minute candle ``index`` steps after T0, with values that identify it."""
    cents = 5000 + index  # prices in units of 0.00001 BTC: short decimals in the file
    return Candle(
        T0 + index * TF,
        cents / 100_000,
        (cents + 20) / 100_000,
        (cents - 10) / 100_000,
        (cents + 5) / 100_000,
        index / 4,
    )


def add_eth_btc(fake: FakeCoinbase, indices: range | list[int]) -> None:
    """ETH-BTC listed, with the 5-minute candles ``indices`` (the rest are empty intervals)."""
    fake.add_product("ETH-BTC", base_increment="0.00000001", quote_increment="0.00001")
    fake.set_candles("ETH-BTC", TF, [candle(i) for i in indices])


def candle_requests(fake: FakeCoinbase) -> list[tuple[int, int]]:
    """(start, end) query of every candle request, in order."""
    return [
        (int(r.query["start"]), int(r.query["end"]))
        for r in fake.requests
        if r.path.endswith("/candles")
    ]
