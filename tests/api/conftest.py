"""API fixtures: an app on the shared ``session_factory`` (SQLite and PostgreSQL) with a
recording engine double, and clients with and without a token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_testkit import ADMIN_PASSWORD, RecordingEngine, Seeded, make_settings, seed_deals
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.api.app import create_app
from tradefleet.config import Settings


@pytest.fixture
def settings() -> Settings:
    return make_settings(admin_password=SecretStr(ADMIN_PASSWORD))


@pytest.fixture
def engine() -> RecordingEngine:
    return RecordingEngine()


@pytest.fixture
def app(
    settings: Settings, session_factory: sessionmaker[Session], engine: RecordingEngine
) -> FastAPI:
    return create_app(settings, session_factory, engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """No token: every protected route answers 401."""
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def api(app: FastAPI) -> Iterator[TestClient]:
    """Logged in with a bearer token."""
    with TestClient(app, base_url="http://testserver") as test_client:
        answer = test_client.post(
            "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        test_client.cookies.clear()
        test_client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        yield test_client


@pytest.fixture
def seeded(session_factory: sessionmaker[Session]) -> Seeded:
    return seed_deals(session_factory)
