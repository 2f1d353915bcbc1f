"""The OpenAPI schema the front end generates its client from."""

from __future__ import annotations

from pathlib import Path

from api_testkit import RecordingEngine, make_settings
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.api.app import create_app


def _operation_ids(client: TestClient) -> dict[tuple[str, str], str]:
    paths = client.get("/openapi.json").json()["paths"]
    return {
        (method.upper(), path): operation["operationId"]
        for path, operations in paths.items()
        for method, operation in operations.items()
    }


def test_operation_ids_are_tag_dash_route_name(api: TestClient) -> None:
    ids = _operation_ids(api)
    assert ids[("POST", "/api/bots")] == "bots-create_bot"
    assert ids[("POST", "/api/bots/{bot_id}/start")] == "bots-start_bot"
    assert ids[("GET", "/api/bots/{bot_id}/stats")] == "stats-read_bot_stats"
    assert ids[("POST", "/api/positions/{position_id}/close")] == "positions-close_position"
    assert ids[("POST", "/api/auth/login")] == "auth-login"
    assert ids[("GET", "/api/health")] == "health-read_health"
    assert all(op.split("-", 1)[0] in path for (_, path), op in ids.items())
    assert len(set(ids.values())) == len(ids) == 31


def test_money_is_a_string_in_responses(api: TestClient) -> None:
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["BotPublic"]["properties"]["budget"]["type"] == "string"
    assert schemas["FillPublic"]["properties"]["price"]["type"] == "string"


def test_docs_page_is_served(api: TestClient) -> None:
    answer = api.get("/docs")
    assert answer.status_code == 200
    assert "swagger" in answer.text.lower()


def test_static_ui_with_client_side_routes(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    (tmp_path / "index.html").write_text("<html>tradefleet ui</html>")
    (tmp_path / "app.js").write_text("console.log(1)")
    settings = make_settings()
    app = create_app(settings, session_factory, RecordingEngine(), static_dir=tmp_path)
    with TestClient(app) as client:
        assert client.get("/").text == "<html>tradefleet ui</html>"
        assert client.get("/app.js").text == "console.log(1)"
        assert client.get("/bots/3").text == "<html>tradefleet ui</html>"
        missing = client.get("/api/nothing-here")
        assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
        assert client.get("/api/health").json()["status"] == "ok"
