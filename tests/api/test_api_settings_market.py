"""Settings (never a secret), fee changes, market data, paper balances and the strategies."""

from __future__ import annotations

from decimal import Decimal

import pytest
from api_testkit import ADMIN_PASSWORD, RecordingEngine, add_balance, make_settings, snapshot
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.api.app import create_app
from tradefleet.db.models import Setting
from tradefleet.strategies import StrategyRegistry

API_KEY = "organizations/0rg-1d/apiKeys/k3y-1d-visible-nowhere"
API_SECRET = (
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBsecretsecretsecret\n-----END EC PRIVATE KEY-----"
)
JWT_SECRET = "jwt-signing-key-that-must-stay-private-0123456789"


def test_settings_show_mode_fees_and_balances(api: TestClient) -> None:
    assert api.get("/api/settings").json() == {
        "mode": "paper",
        "market": "exchange",
        "exchange": "coinbase",
        "fees": {"taker": "0.006", "maker": "0.004", "slippage": "0"},
        "paper_balances": {"USD": "10000", "BTC": "1", "ETH": "10"},
        "api_key_configured": False,
    }


def test_fee_update_is_stored_as_strings_and_reloads_the_engine(
    api: TestClient, engine: RecordingEngine, session_factory: sessionmaker[Session]
) -> None:
    answer = api.put("/api/settings", json={"fees": {"taker": "0.0025", "slippage": 0.001}})
    assert answer.status_code == 200
    assert answer.json()["fees"] == {"taker": "0.0025", "maker": "0.004", "slippage": "0.001"}
    assert engine.calls == [("reload_settings", None)]
    with session_factory() as session:
        row = session.get(Setting, "fees")
        assert row is not None
        assert row.value == {"taker": "0.0025", "maker": "0.004", "slippage": "0.001"}
    assert api.get("/api/settings").json()["fees"]["taker"] == "0.0025"
    api.put("/api/settings", json={"fees": {"maker": "0"}})
    assert api.get("/api/settings").json()["fees"] == {
        "taker": "0.0025",
        "maker": "0",
        "slippage": "0.001",
    }


def test_bad_fees_are_422_and_change_nothing(
    api: TestClient,
    engine: RecordingEngine,
    session_factory: sessionmaker[Session],
    subtests: pytest.Subtests,
) -> None:
    with session_factory() as session:
        before = snapshot(session)
    for fees, field, kind in [
        ({"taker": "1"}, "taker", "less_than"),
        ({"maker": -0.001}, "maker", "greater_than_equal"),
        ({"slippage": "abc"}, "slippage", "decimal_parsing"),
        ({"rebate": "0.1"}, "rebate", "extra_forbidden"),
    ]:
        with subtests.test(field):
            answer = api.put("/api/settings", json={"fees": fees})
            assert answer.status_code == 422
            [error] = answer.json()["detail"]
            assert (error["loc"], error["type"]) == (["body", "fees", field], kind)
    assert engine.calls == []
    with session_factory() as session:
        assert snapshot(session) == before


def test_mode_cannot_be_changed_through_the_api(api: TestClient) -> None:
    answer = api.put("/api/settings", json={"fees": {}, "mode": "live"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "mode"]


def test_no_secret_appears_in_any_answer(session_factory: sessionmaker[Session]) -> None:
    settings = make_settings(
        api_key=SecretStr(API_KEY),
        api_secret=SecretStr(API_SECRET),
        admin_password=SecretStr(ADMIN_PASSWORD),
        jwt_secret=SecretStr(JWT_SECRET),
    )
    engine = RecordingEngine()
    with TestClient(create_app(settings, session_factory, engine)) as client:
        bodies = [client.post("/api/auth/login", json={"username": "admin", "password": "x"})]
        login = client.post(
            "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )
        bodies.append(login)
        for path in _every_get_path():
            bodies.append(client.get(path))
        bodies.append(client.put("/api/settings", json={"fees": {"taker": "0.005"}}))
        bodies.append(client.get("/openapi.json"))
        bodies.append(client.get("/docs"))
    assert bodies[2].json()["api_key_configured"] is True
    for answer in bodies:
        text = answer.text + str(answer.headers)
        for secret in (API_KEY, API_SECRET, "MHcCAQEEIBsecret", ADMIN_PASSWORD, JWT_SECRET):
            assert secret not in text, answer.request.url


def _every_get_path() -> list[str]:
    return [
        "/api/settings", "/api/health", "/api/bots", "/api/strategies", "/api/strategies/rsi",
        "/api/positions", "/api/trades", "/api/signals", "/api/stats", "/api/market/products",
        "/api/market/balances", "/api/market/ticker/ETH-BTC",
        "/api/market/candles?product_id=ETH-BTC&timeframe=5m",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "key",
    [{"api_key": SecretStr(API_KEY)}, {"api_key": SecretStr("  "), "api_secret": SecretStr(" \n")}],
)
def test_api_key_configured_needs_both_key_and_secret(
    session_factory: sessionmaker[Session], key: dict[str, SecretStr]
) -> None:
    """Half a key, or a key and a secret of blanks only, is not a key."""
    half = make_settings(**key, admin_password=SecretStr(ADMIN_PASSWORD))
    with TestClient(create_app(half, session_factory, RecordingEngine())) as client:
        client.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        assert client.get("/api/settings").json()["api_key_configured"] is False


def test_products_are_listed_with_increments(api: TestClient) -> None:
    body = api.get("/api/market/products").json()
    assert body["count"] == 2
    assert body["data"][0] == {
        "product_id": "ETH-BTC",
        "base_currency": "ETH",
        "quote_currency": "BTC",
        "base_increment": "0.00000001",
        "quote_increment": "0.00001",
        "price_increment": "0.00001",
        "base_min_size": "0.00000001",
        "quote_min_size": "0.00001",
    }


def test_candles_and_ticker(api: TestClient) -> None:
    candles = api.get("/api/market/candles?product_id=ETH-BTC&timeframe=5m&limit=2").json()
    assert candles == {
        "product_id": "ETH-BTC",
        "timeframe": "5m",
        "data": [
            {"time": 1714565100, "open": 0.0505, "high": 0.052, "low": 0.05, "close": 0.0515,
             "volume": 8.25},
            {"time": 1714565400, "open": 0.0515, "high": 0.0516, "low": 0.0501, "close": 0.051,
             "volume": 3.0},
        ],
    }  # fmt: skip
    assert api.get("/api/market/ticker/BTC-USD").json() == {
        "product_id": "BTC-USD",
        "price": "60000",
    }
    assert api.get("/api/market/ticker/DOGE-EUR").status_code == 404
    assert api.get("/api/market/ticker/DOGE-EUR").json() == {"detail": "product DOGE-EUR not found"}


def test_bad_candle_queries_are_422(api: TestClient, subtests: pytest.Subtests) -> None:
    timeframes = "must be one of: 1m, 5m, 15m, 30m, 1h, 2h, 6h, 1d"
    for query, field, msg in [
        ("product_id=DOGE-EUR&timeframe=5m", "product_id", "unknown product 'DOGE-EUR'"),
        ("product_id=ETH-BTC&timeframe=3m", "timeframe", timeframes),
        ("timeframe=5m", "product_id", "Field required"),
        (
            "product_id=ETH-BTC&timeframe=5m&limit=1001",
            "limit",
            "Input should be less than or equal to 1000",
        ),
    ]:
        with subtests.test(query):
            answer = api.get(f"/api/market/candles?{query}")
            assert answer.status_code == 422
            assert answer.json() == {
                "detail": [
                    {
                        "loc": ["query", field],
                        "msg": msg,
                        "type": answer.json()["detail"][0]["type"],
                    }
                ]
            }


def test_market_outage_is_a_503(api: TestClient, engine: RecordingEngine) -> None:
    engine.market.down = True
    answer = api.get("/api/market/products")
    assert answer.status_code == 503
    assert answer.json() == {"detail": "could not list the market's products; see the server log"}


def test_paper_balances_show_available(
    api: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        add_balance(session, "USD", "9500.5", "120.25", "10000")
        add_balance(session, "BTC", "1.02", "0", "1")
    assert api.get("/api/market/balances").json() == {
        "mode": "paper",
        "data": [
            {"currency": "BTC", "total": "1.02", "hold": "0", "available": "1.02", "starting": "1"},
            {
                "currency": "USD",
                "total": "9500.5",
                "hold": "120.25",
                "available": "9380.25",
                "starting": "10000",
            },
        ],
    }


def test_balances_in_live_mode_are_a_409(session_factory: sessionmaker[Session]) -> None:
    live = make_settings(mode="live", admin_password=SecretStr("pw"))
    with TestClient(create_app(live, session_factory, RecordingEngine())) as client:
        client.post("/api/auth/login", json={"username": "admin", "password": "pw"})
        answer = client.get("/api/market/balances")
    assert answer.status_code == 409
    assert answer.json() == {"detail": "balances are kept here in paper mode only"}


def test_strategies_are_served_with_their_parameters(api: TestClient) -> None:
    listed = api.get("/api/strategies").json()
    assert listed["count"] == 6
    assert [s["id"] for s in listed["data"]] == [
        "bollinger", "ema_cross", "grid", "macd_dca", "rsi", "simple_dca",
    ]  # fmt: skip
    rsi = api.get("/api/strategies/rsi").json()
    assert rsi == StrategyRegistry.get("rsi").definition.model_dump(mode="json")
    period = next(p for p in rsi["parameters"] if p["name"] == "rsi_period")
    assert (period["type"], period["default"], period["min"], period["max"]) == ("int", 14, 2, 100)
    assert (period["search_min"], period["search_max"]) == (5, 30)  # the optimiser's default
    schema = api.get("/openapi.json").json()["components"]["schemas"]["StrategyParameter"]
    assert {"search_min", "search_max"} <= set(schema["properties"])
    assert not {"search_min", "search_max"} & set(schema.get("required", []))
    assert api.get("/api/strategies/nope").json() == {"detail": "strategy 'nope' not found"}
    assert api.get("/api/strategies/nope").status_code == 404


def test_decimal_budget_survives_a_round_trip(api: TestClient) -> None:
    answer = api.post(
        "/api/bots",
        json={"name": "precise", "strategy_type": "rsi", "product_id": "BTC-USD",
              "timeframe": "1h", "budget": "1234.567890123456789"},
    )  # fmt: skip
    assert answer.json()["budget"] == "1234.567890123456789"
    assert Decimal(answer.json()["budget"]) == Decimal("1234.567890123456789")
