"""The ``live`` fixture of the live broker tests: see ``live_kit``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.brokers.live_kit import Live, live_exchange


@pytest.fixture
async def live(session_factory: sessionmaker[Session]) -> AsyncIterator[Live]:
    async with live_exchange(session_factory) as harness:
        yield harness
