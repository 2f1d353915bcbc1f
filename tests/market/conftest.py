"""Fixtures for the market tests: a running fake Coinbase and sources pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from market_testkit import NOW
from tests.fakes.coinbase_server import FakeCoinbase, running_fake_coinbase

from tradefleet.market.base import ManualClock
from tradefleet.market.exchange import ExchangeSource


@pytest.fixture
async def fake_coinbase() -> AsyncIterator[FakeCoinbase]:
    async with running_fake_coinbase() as fake:
        yield fake


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def exchange_factory(
    fake_coinbase: FakeCoinbase, clock: ManualClock
) -> AsyncIterator[Callable[..., ExchangeSource]]:
    """Build ExchangeSources on the fake (no rate limit, fast retries); closed afterwards."""
    made: list[ExchangeSource] = []

    def make(**kwargs: object) -> ExchangeSource:
        options: dict[str, object] = {"clock": clock, "base_delay": 0.001, "rate_limit": False}
        options.update(kwargs)
        source = ExchangeSource("coinbase", fake_coinbase.url, **options)  # type: ignore[arg-type]
        made.append(source)
        return source

    yield make
    for source in made:
        await source.close()
