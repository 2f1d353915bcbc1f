"""Candle closes on the exchange's clock: an exchange two hours ahead of this machine is
followed (on this machine's clock every candle request came back empty), its skew is
measured again when stale, and a failed measurement keeps the last skew and says why."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from tests.fakes.coinbase_server import FakeCoinbase

from tradefleet.domain import Candle
from tradefleet.market.base import ExchangeClock, WallClock
from tradefleet.market.exchange import ExchangeSource

Factory = Callable[..., ExchangeSource]
AHEAD = 7200.0  # the fake's clock minus this machine's


def _candles_ending_at(now: float, count: int) -> list[Candle]:
    forming = int(now // 60) * 60
    return [Candle(forming - k * 60, 1.0 + k, 2.0 + k, 0.5, 1.5, 1.0) for k in range(count + 1)]


async def test_candles_follow_the_exchange_s_clock(
    fake_coinbase: FakeCoinbase, exchange_factory: Factory
) -> None:
    fake_coinbase.time_source = lambda: time.time() + AHEAD
    fake_coinbase.add_product("ETH-BTC", price="0.05")
    exchange_now = fake_coinbase.time_source()
    fake_coinbase.set_candles("ETH-BTC", 60, _candles_ending_at(exchange_now, 30))
    local = exchange_factory(clock=WallClock())
    assert await local.fetch_candles("ETH-BTC", "1m", None, 5) == []  # the bug it fixes
    source = exchange_factory(clock=WallClock())
    clock = ExchangeClock(source.exchange_time)
    await clock.measure()
    source.bind_clock(clock)
    assert abs(clock.skew - AHEAD) < 1.0
    candles = await source.fetch_candles("ETH-BTC", "1m", None, 5)
    newest_closed = int(clock.now() // 60) * 60 - 60
    assert [c.time for c in candles] == [newest_closed - 60 * k for k in (4, 3, 2, 1, 0)]
    assert any(r.path.endswith("/brokerage/time") for r in fake_coinbase.requests)
    health = clock.health()
    assert health["clock"] == "exchange" and abs(health["skew_seconds"] - AHEAD) < 1.0
    assert health["last_error"] is None


async def test_a_failed_measurement_keeps_the_last_skew_and_says_why() -> None:
    answers: list[float | Exception] = [time.time() + 30, OSError("network is unreachable")]

    async def exchange_now() -> float:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    clock = ExchangeClock(exchange_now)
    await clock.measure()
    assert abs(clock.skew - 30) < 0.5
    await clock.measure()
    assert abs(clock.skew - 30) < 0.5
    assert clock.health()["last_error"] == "OSError: network is unreachable"
    assert abs(clock.now() - (time.time() + 30)) < 0.5


async def test_the_skew_is_measured_again_before_a_wait_once_stale() -> None:
    measured: list[int] = []

    async def exchange_now() -> float:
        measured.append(1)
        return time.time() - 5

    fresh = ExchangeClock(exchange_now, every=600)
    await fresh.sleep_until(0)  # never measured: measured now, then no wait
    await fresh.sleep_until(0)  # measured a moment ago: not again
    assert len(measured) == 1 and abs(fresh.skew + 5) < 0.5
    stale = ExchangeClock(exchange_now, every=0)
    await stale.sleep_until(0)
    await stale.sleep_until(0)
    assert len(measured) == 3


async def test_a_measurement_that_does_not_answer_gives_up_in_time() -> None:
    async def never() -> float:
        await asyncio.sleep(3600)
        return 0.0

    clock = ExchangeClock(never)
    await clock.measure(timeout=0.05)
    assert clock.skew == 0.0
    assert clock.health()["last_error"] == "the exchange did not tell its time within 0.05 s"
