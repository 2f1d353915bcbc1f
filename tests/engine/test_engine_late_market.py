"""Market data that comes late: one slow product holds back no other (the cycle steps the
bots whose candles came, the slow one's in the cycle its answer wakes, with no error
recorded), and a candle published a few seconds after its close wakes the engine
seconds later, not at the next close."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from tests.engine.engine_testkit import START, Harness, create_bot, make_harness
from tradefleet.db.models import Bot
from tradefleet.domain import Candle
from tradefleet.engine import runner
from tradefleet.market.base import ManualClock, MarketUnavailable
from tradefleet.market.simulated import SimulatedSource

SLOW = "ETH-BTC"
DCA = {"buy_amount": 0.01, "interval_minutes": 60, "take_profit_pct": 50}


class OneSlowProduct(SimulatedSource):
    """The simulated market, except that one product's candles wait for ``release``."""

    def __init__(self, seed: int, clock: ManualClock) -> None:
        super().__init__(seed, clock)
        self.release = asyncio.Event()
        self.slow_asks = 0

    async def fetch_candles(
        self, product_id: str, timeframe: str, since: int | None, limit: int
    ) -> list[Candle]:
        if product_id == SLOW:
            self.slow_asks += 1
            await self.release.wait()
        return await super().fetch_candles(product_id, timeframe, since, limit)


async def test_a_slow_product_leaves_the_others_stepping(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "FETCH_WAIT_SECONDS", 0.05)
    clock = ManualClock(START + 1)
    source = OneSlowProduct(7, clock)
    harness = await make_harness(migrated_url, clock, source)
    slow = await create_bot(harness, "slow", "simple_dca", DCA, product_id=SLOW)
    fast = await create_bot(harness, "fast", "simple_dca", DCA, product_id="BTC-USD")
    first = await harness.run_one()
    assert first.late == [f"{SLOW} 1m"]
    assert (first.bots_stepped, first.errors, first.unavailable) == (1, 0, [])
    assert harness.engine.health()["market_late"] == [f"{SLOW} 1m"]
    assert _stepped(harness, slow) == (None, None)  # waiting, not failed
    assert _stepped(harness, fast) == (START, None)
    source.release.set()  # the slow product answers; its fetch wakes the engine
    for _ in range(10):
        await asyncio.sleep(0)
    second = await harness.engine.run_cycle()  # the cycle that wake-up runs
    assert (second.late, second.bots_stepped, second.errors) == ([], 1, 0)
    assert _stepped(harness, slow) == (START, None)
    assert source.slow_asks == 1  # the fetch already under way was waited for, not repeated


def _stepped(harness: Harness, bot_id: int) -> tuple[int | None, str | None]:
    with harness.sessions() as session:
        row = session.execute(
            select(Bot.last_candle_time, Bot.last_error).where(Bot.id == bot_id)
        ).one()
        return row[0], row[1]


class LateCandle(SimulatedSource):
    """The simulated market, except that the newest closed candle shows 3 s late."""

    async def fetch_candles(
        self, product_id: str, timeframe: str, since: int | None, limit: int
    ) -> list[Candle]:
        candles = await super().fetch_candles(product_id, timeframe, since, limit)
        now = self.clock.now()
        return [c for c in candles if c.time + 60 + 3 <= now]


async def test_the_engine_wakes_for_a_late_candle_seconds_after_the_close(
    migrated_url: str,
) -> None:
    clock = ManualClock(START + 1)
    harness = await make_harness(migrated_url, clock, LateCandle(7, clock))
    bot_id = await create_bot(harness, "late", "simple_dca", DCA)
    await harness.run_one()  # at START + 61: the candle START closed 1 s ago, not shown yet
    assert _stepped(harness, bot_id) == (START - 60, None)
    await harness.engine._sleep_until_next_close()  # the manual clock jumps to the wake
    assert clock.now() == START + 62  # a second later, not at the next close (START + 120)
    await harness.engine.run_cycle()
    await harness.engine._sleep_until_next_close()
    assert clock.now() == START + 64  # 2 s after that: published at START + 63
    await harness.engine.run_cycle()
    assert _stepped(harness, bot_id) == (START, None)


class Probed(SimulatedSource):
    """The simulated market with the exchange's ``probe``, which fails while ``down``."""

    def __init__(self, seed: int, clock: ManualClock) -> None:
        super().__init__(seed, clock)
        self.down = True
        self.probes: list[float] = []

    async def probe(self) -> None:
        self.probes.append(self.clock.now())
        if self.down:
            raise MarketUnavailable("HTTP 503")


async def test_an_outage_shows_in_health_between_candle_closes(migrated_url: str) -> None:
    clock = ManualClock(START + 1)
    source = Probed(7, clock)
    harness = await make_harness(migrated_url, clock, source)
    await create_bot(harness, "hourly", "simple_dca", DCA, timeframe="1h")
    await harness.run_one()
    assert harness.engine.health()["market"]["ok"] is True
    source.probes.clear()
    await harness.engine._sleep_until_next_close()  # to the next hourly close
    assert source.probes[:2] == [START + 61 + 30, START + 61 + 60]  # every 30 s meanwhile
    assert clock.now() == START + 3600
    market = harness.engine.health()["market"]
    assert (market["ok"], market["last_error"]) == (False, "HTTP 503")
    source.down = False
    await harness.engine._sleep_until_next_close()
    assert harness.engine.health()["market"]["ok"] is True


class Silent(Probed):
    async def probe(self) -> None:
        self.probes.append(self.clock.now())
        await asyncio.sleep(3600)  # the exchange drops every packet


async def test_a_probe_that_gets_no_answer_counts_as_an_outage(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "PROBE_TIMEOUT", 0.05)
    clock = ManualClock(START + 1)
    harness = await make_harness(migrated_url, clock, Silent(7, clock))
    await create_bot(harness, "hourly", "simple_dca", DCA, timeframe="1h")
    await harness.run_one()
    await asyncio.wait_for(harness.engine._sleep_until_next_close(), 30)  # not hung
    market = harness.engine.health()["market"]
    assert (market["ok"], market["last_error"]) == (False, "no answer within 0.05 s")
