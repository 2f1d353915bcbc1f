"""Login, tokens, the cookie, the generated admin password and the 401s."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import jwt
import pytest
from api_testkit import (
    ADMIN_PASSWORD,
    RecordingEngine,
    add_bot,
    add_position,
    make_settings,
    snapshot,
)
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.api import auth
from tradefleet.api.app import create_app
from tradefleet.api.auth import (
    ADMIN_HASH_KEY,
    JWT_SECRET_KEY,
    create_access_token,
    ensure_admin_password,
    load_jwt_secret,
    password_id,
)
from tradefleet.config import Settings
from tradefleet.db.models import Setting

OPEN_ROUTES = {("GET", "/api/health"), ("POST", "/api/auth/login")}
PROTECTED_ROUTES = [
    ("DELETE", "/api/backtests/1"),
    ("DELETE", "/api/bots/1"),
    ("GET", "/api/backtests"),
    ("GET", "/api/backtests/1"),
    ("GET", "/api/bots"),
    ("GET", "/api/bots/1"),
    ("GET", "/api/bots/1/positions"),
    ("GET", "/api/bots/1/signals"),
    ("GET", "/api/bots/1/stats"),
    ("GET", "/api/market/balances"),
    ("GET", "/api/market/candles"),
    ("GET", "/api/market/products"),
    ("GET", "/api/market/ticker/1"),
    ("GET", "/api/positions"),
    ("GET", "/api/positions/1"),
    ("GET", "/api/settings"),
    ("GET", "/api/signals"),
    ("GET", "/api/stats"),
    ("GET", "/api/strategies"),
    ("GET", "/api/strategies/1"),
    ("GET", "/api/trades"),
    ("POST", "/api/auth/logout"),
    ("POST", "/api/backtests"),
    ("POST", "/api/bots"),
    ("POST", "/api/bots/1/start"),
    ("POST", "/api/bots/1/stop"),
    ("POST", "/api/emergency-stop"),
    ("POST", "/api/positions/1/close"),
    ("PUT", "/api/bots/1"),
    ("PUT", "/api/settings"),
]


def _login(client: TestClient, password: str, username: str = "admin") -> int:
    answer = client.post("/api/auth/login", json={"username": username, "password": password})
    return answer.status_code


def _stored(session_factory: sessionmaker[Session], key: str) -> object:
    with session_factory() as session:
        row = session.get(Setting, key)
        return None if row is None else row.value


def test_login_answers_a_token_that_opens_the_api(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    answer = client.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "token_type"}
    assert body["token_type"] == "bearer"
    secret = _stored(session_factory, JWT_SECRET_KEY)
    assert isinstance(secret, str) and len(secret) >= 32
    claims = jwt.decode(body["access_token"], secret, algorithms=["HS256"])
    assert claims["sub"] == "admin"
    assert claims["exp"] - claims["iat"] == 720 * 60
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/api/bots", headers=headers).json() == {"data": [], "count": 0}


def test_login_sets_an_httponly_strict_cookie_with_the_same_token(client: TestClient) -> None:
    answer = client.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"tradefleet_token={answer.json()['access_token']};")
    assert re.search(r"httponly", cookie, re.IGNORECASE)
    assert re.search(r"samesite=strict", cookie, re.IGNORECASE)
    assert "Path=/api" in cookie
    assert "Max-Age=43200" in cookie


def test_cookie_alone_authenticates_and_logout_clears_it(client: TestClient) -> None:
    assert _login(client, ADMIN_PASSWORD) == 200
    assert client.get("/api/bots").status_code == 200
    logout = client.post("/api/auth/logout")
    assert logout.status_code == 204
    assert 'tradefleet_token=""' in logout.headers["set-cookie"]
    assert client.get("/api/bots").status_code == 401


def test_wrong_password_and_wrong_username_fail_alike(client: TestClient) -> None:
    bad_password = client.post("/api/auth/login", json={"username": "admin", "password": "nope"})
    bad_user = client.post("/api/auth/login", json={"username": "root", "password": ADMIN_PASSWORD})
    assert bad_password.status_code == bad_user.status_code == 401
    assert bad_password.json() == bad_user.json() == {"detail": "wrong username or password"}
    assert "set-cookie" not in bad_password.headers


def test_a_rejected_login_body_never_echoes_the_password(client: TestClient) -> None:
    secret_like = "p" * 1025
    answer = client.post("/api/auth/login", json={"username": "admin", "password": secret_like})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "password"]
    assert secret_like not in answer.text


def _protected_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every documented /api operation except the open ones, path parameters set to 1."""
    routes = []
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            if path.startswith("/api") and (method.upper(), path) not in OPEN_ROUTES:
                routes.append((method.upper(), re.sub(r"\{[^}]+\}", "1", path)))
    return sorted(routes)


def test_every_route_but_health_and_login_needs_a_token(
    app: FastAPI, client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    routes = _protected_routes(app)
    assert routes == PROTECTED_ROUTES
    with session_factory() as session:
        bot = add_bot(session, "target")
        add_position(session, bot, 1)
        before = snapshot(session)
    for method, path in routes:
        answer = client.request(method, path, json={})
        assert answer.status_code == 401, (method, path)
        assert answer.json() == {"detail": "not authenticated"}
        assert answer.headers["www-authenticate"] == "Bearer"
    with session_factory() as session:
        assert snapshot(session) == before


def test_bad_tokens_are_refused(
    client: TestClient,
    session_factory: sessionmaker[Session],
    settings: Settings,
    subtests: pytest.Subtests,
) -> None:
    secret = load_jwt_secret(session_factory, settings)
    now = datetime.now(UTC)
    tokens = {
        "expired": create_access_token(secret, 5, now - timedelta(minutes=6)),
        "other-key": create_access_token("another key of enough length for hs256!", 5),
        "not-a-jwt": "garbage",
        "no-algorithm": jwt.encode(
            {"sub": "admin", "exp": now + timedelta(minutes=5)}, None, "none"
        ),
        "other-user": jwt.encode(
            {"sub": "root", "exp": now + timedelta(minutes=5)}, secret, "HS256"
        ),
        "no-expiry": jwt.encode({"sub": "admin"}, secret, "HS256"),
        "no-password-id": jwt.encode(
            {"sub": "admin", "exp": now + timedelta(minutes=5)}, secret, "HS256"
        ),
        "another-password": create_access_token(secret, 5, password_id="0" * 32),
    }
    for name, token in tokens.items():
        with subtests.test(name):
            client.cookies.clear()
            answer = client.get("/api/bots", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 401
            client.cookies.set("tradefleet_token", token, path="/api")
            assert client.get("/api/bots").status_code == 401


def test_a_token_still_inside_its_lifetime_is_accepted(
    client: TestClient, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    secret = load_jwt_secret(session_factory, settings)
    current = password_id(secret, session_factory, settings)
    assert len(current) == 32
    token = create_access_token(secret, 5, datetime.now(UTC) - timedelta(minutes=4), current)
    assert client.get("/api/bots", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_new_password_logs_every_session_out(session_factory: sessionmaker[Session]) -> None:
    def bearer(password: str, client: TestClient) -> dict[str, str]:
        answer = client.post("/api/auth/login", json={"username": "admin", "password": password})
        assert answer.status_code == 200
        client.cookies.clear()  # only the bearer header below
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    first = make_settings(admin_password=SecretStr("first password"))
    with TestClient(create_app(first, session_factory, RecordingEngine())) as client:
        old = bearer("first password", client)
        assert client.get("/api/bots", headers=old).status_code == 200
    # A restart with the same password keeps the session (same stored signing key) ...
    with TestClient(create_app(first, session_factory, RecordingEngine())) as client:
        assert client.get("/api/bots", headers=old).status_code == 200
    # ... a restart with a new one ends it.
    second = make_settings(admin_password=SecretStr("second password"))
    with TestClient(create_app(second, session_factory, RecordingEngine())) as client:
        assert client.get("/api/bots", headers=old).status_code == 401
        assert client.get("/api/bots", headers=bearer("second password", client)).status_code == 200


def test_too_many_failed_logins_are_refused_for_a_while(
    session_factory: sessionmaker[Session],
) -> None:
    settings = make_settings(admin_password=SecretStr(ADMIN_PASSWORD))
    with TestClient(create_app(settings, session_factory, RecordingEngine())) as client:
        for _ in range(5):
            assert _login(client, "guess") == 401
        before = snapshot_settings(session_factory)
        answer = client.post("/api/auth/login", json={"username": "admin", "password": "guess"})
        assert answer.status_code == 429
        assert answer.json() == {"detail": "too many failed logins: try again in 300 s"}
        assert answer.headers["retry-after"] == "300"
        # Even the right password waits: the answer must not confirm a guess.
        assert _login(client, ADMIN_PASSWORD) == 429
        assert snapshot_settings(session_factory) == before


def snapshot_settings(session_factory: sessionmaker[Session]) -> dict[str, object]:
    with session_factory() as session:
        return {row.key: row.value for row in session.query(Setting).all()}


def test_generated_admin_password_is_shown_once_and_stored_as_bcrypt_hash(
    session_factory: sessionmaker[Session],
) -> None:
    settings = make_settings()
    password = ensure_admin_password(session_factory, settings)
    assert password is not None and len(password) >= 20
    assert ensure_admin_password(session_factory, settings) is None
    stored = _stored(session_factory, ADMIN_HASH_KEY)
    assert isinstance(stored, str) and stored.startswith("$2b$") and password not in stored
    app = create_app(settings, session_factory, RecordingEngine())
    with TestClient(app) as client:
        assert _login(client, password) == 200
        assert _login(client, password + "x") == 401
    env_settings = make_settings(admin_password=SecretStr("from-env"))
    assert ensure_admin_password(session_factory, env_settings) is None
    with TestClient(create_app(env_settings, session_factory, RecordingEngine())) as client:
        assert _login(client, "from-env") == 200
        assert _login(client, password) == 401


def test_an_empty_configured_password_never_lets_anyone_in(
    session_factory: sessionmaker[Session],
) -> None:
    settings = make_settings(admin_password=SecretStr(""))
    with TestClient(create_app(settings, session_factory, RecordingEngine())) as client:
        assert _login(client, "") == 401


def test_signing_key_is_generated_once_or_taken_from_settings(
    session_factory: sessionmaker[Session],
) -> None:
    plain = make_settings()
    first = load_jwt_secret(session_factory, plain)
    assert load_jwt_secret(session_factory, plain) == first
    assert _stored(session_factory, JWT_SECRET_KEY) == first
    configured = make_settings(jwt_secret=SecretStr("configured-key-32-bytes-long!!!!"))
    assert load_jwt_secret(session_factory, configured) == "configured-key-32-bytes-long!!!!"


def test_health_needs_no_token_and_reports_the_engine(
    client: TestClient, engine: RecordingEngine, subtests: pytest.Subtests
) -> None:
    assert client.get("/api/health").json() == {
        "status": "ok",
        "database": "ok",
        "engine": {"status": "ok", "bots": 0},
    }
    running = {"running": True, "market": {"ok": True, "last_error": None}}
    engine.health_report = running
    assert client.get("/api/health").json()["status"] == "ok"
    for name, report in [
        ("status", {"status": "stalled", "bots": 2}),
        ("not running", {**running, "running": False}),
        ("market down", {**running, "market": {"ok": False, "last_error": "timeout"}}),
    ]:
        with subtests.test(name):
            engine.health_report = report
            assert client.get("/api/health").json() == {
                "status": "degraded",
                "database": "ok",
                "engine": report,
            }


def test_health_survives_a_failing_engine_report(
    client: TestClient, engine: RecordingEngine
) -> None:
    engine.health_report = None  # type: ignore[assignment]  # dict(None) raises inside health()
    assert client.get("/api/health").json() == {
        "status": "degraded",
        "database": "ok",
        "engine": {"status": "error"},
    }


def test_a_token_accepted_before_is_refused_once_it_expires(
    client: TestClient,
    session_factory: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A token's signature is checked once and remembered (``auth._remembered_check``); its
    expiry is checked on every request all the same."""
    secret = load_jwt_secret(session_factory, settings)
    current = password_id(secret, session_factory, settings)
    token = create_access_token(secret, 5, password_id=current)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/bots", headers=headers).status_code == 200
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    monkeypatch.setattr(auth, "time", SimpleNamespace(time=lambda: expires - 0.5))
    assert client.get("/api/bots", headers=headers).status_code == 200
    monkeypatch.setattr(auth, "time", SimpleNamespace(time=lambda: float(expires)))
    assert client.get("/api/bots", headers=headers).status_code == 401


def test_a_long_token_is_refused_and_not_remembered(client: TestClient) -> None:
    before = auth._remembered_check.cache_info().currsize
    long_token = "x" * (auth.MAX_REMEMBERED_TOKEN + 1)
    answer = client.get("/api/bots", headers={"Authorization": f"Bearer {long_token}"})
    assert answer.status_code == 401
    assert auth._remembered_check.cache_info().currsize == before
