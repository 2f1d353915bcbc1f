"""Fixtures: the fake Coinbase in the test's event loop (for the downloader) or in a thread
of its own (for the synchronous CLI, which runs its own event loop)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from download_testkit import NOW
from tests.fakes.coinbase_server import FakeCoinbase, running_fake_coinbase

from tradefleet.market.base import ManualClock
from tradefleet.market.exchange import ExchangeSource


@pytest.fixture
async def fake_coinbase() -> AsyncIterator[FakeCoinbase]:
    async with running_fake_coinbase() as fake:
        yield fake


@pytest.fixture
async def exchange_factory(
    fake_coinbase: FakeCoinbase,
) -> AsyncIterator[Callable[..., ExchangeSource]]:
    """ExchangeSources on the fake: no rate limit, fast retries; closed afterwards."""
    made: list[ExchangeSource] = []

    def make(attempts: int = 3) -> ExchangeSource:
        source = ExchangeSource(
            "coinbase", fake_coinbase.url, clock=ManualClock(NOW), attempts=attempts,
            base_delay=0.001, rate_limit=False,
        )  # fmt: skip
        made.append(source)
        return source

    yield make
    for source in made:
        await source.close()


@pytest.fixture
def threaded_fake() -> Iterator[FakeCoinbase]:
    """A fake served from its own thread, so a blocking CLI call can talk to it."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = FakeCoinbase()
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
