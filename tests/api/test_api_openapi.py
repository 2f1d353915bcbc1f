"""The OpenAPI schema the front end generates its client from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from api_testkit import RecordingEngine, make_settings
from fastapi.testclient import TestClient
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.api.app import create_app
from tradefleet.api.schemas.auth import LoginRequest
from tradefleet.api.schemas.bots import BotCreate
from tradefleet.api.schemas.common import PositiveAmount, Rate
from tradefleet.market.base import TIMEFRAMES


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
    assert ids[("POST", "/api/emergency-stop")] == "emergency-emergency_stop"
    assert ids[("POST", "/api/auth/login")] == "auth-login"
    assert ids[("GET", "/api/health")] == "health-read_health"
    assert all(op.split("-", 1)[0] in path for (_, path), op in ids.items())
    assert len(set(ids.values())) == len(ids) == 32


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


def _schema(client: TestClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/openapi.json").json()
    return document


def test_422_is_documented_as_the_answer_really_is(client: TestClient) -> None:
    """``detail`` always, each error exactly ``loc``, ``msg`` and ``type`` (FastAPI's default
    promised an optional ``detail`` and ``input``/``ctx`` fields, which we never send)."""
    document = _schema(client)
    schemas = document["components"]["schemas"]
    assert schemas["HTTPValidationError"]["required"] == ["detail"]
    assert schemas["HTTPValidationError"]["properties"]["detail"]["items"] == {
        "$ref": "#/components/schemas/ValidationError"
    }
    error = schemas["ValidationError"]
    assert (error["required"], error["additionalProperties"]) == (["loc", "msg", "type"], False)
    assert error["properties"]["loc"]["items"] == {
        "anyOf": [{"type": "string"}, {"type": "integer"}]
    }
    with_input = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if operation.get("parameters") or operation.get("requestBody"):
                with_input += 1
                answer = operation["responses"]["422"]
                assert answer["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/HTTPValidationError"
                }, (method, path)
                assert answer["description"].startswith("Invalid input: the body (not JSON")
    assert with_input == 24
    validator = jsonschema_rs.validator_for({**schemas["HTTPValidationError"],
                                             "components": document["components"]})  # fmt: skip
    login = client.post("/api/auth/login", content=b"{", headers={"Content-Type": "text/json"})
    assert login.status_code == 422
    assert validator.is_valid(login.json()), login.json()


def test_timeframes_are_an_enum_wherever_one_is_taken(client: TestClient) -> None:
    document = _schema(client)
    schemas = document["components"]["schemas"]
    enum = {"type": "string", "enum": ["1m", "5m", "15m", "30m", "1h", "2h", "6h", "1d"]}
    assert enum["enum"] == list(TIMEFRAMES)
    for model in ("BotCreate", "BotPublic", "BacktestCreate", "BacktestPublic"):
        field = schemas[model]["properties"]["timeframe"]
        assert {"type": field["type"], "enum": field["enum"]} == enum, model
    assert schemas["BotUpdate"]["properties"]["timeframe"]["anyOf"] == [enum, {"type": "null"}]
    [candles] = [p for p in document["paths"]["/api/market/candles"]["get"]["parameters"]
                 if p["name"] == "timeframe"]  # fmt: skip
    assert {"type": candles["schema"]["type"], "enum": candles["schema"]["enum"]} == enum


def test_moments_are_date_times_and_backtests_also_take_unix_seconds(client: TestClient) -> None:
    document = _schema(client)
    for parameter in document["paths"]["/api/trades"]["get"]["parameters"]:
        if parameter["name"] in ("since", "until"):
            assert parameter["schema"]["anyOf"] == [
                {"type": "string", "format": "date-time"},
                {"type": "null"},
            ]
    start = document["components"]["schemas"]["BacktestCreate"]["properties"]["start"]
    assert start["anyOf"] == [
        {"type": "integer", "minimum": -62_135_596_800, "maximum": 253_402_300_799},
        {"type": "string", "format": "date-time"},
        {"type": "string", "format": "date"},
    ]


# (input, accepted by the server): the published schema must say the same of each
AMOUNTS = [
    ("100", True), ("0.05", True), ("007", True), ("0.000000000000000001", True),
    ("0.1000000000000000000000", True), ("99999999999999999999", True),
    ("99999999999999999999.999999999999999999", True), (100, True), (0.05, True), (1e-05, True),
    ("0", False), ("0.0", False), ("0.0000000000000000001", False),
    ("100000000000000000000", False), ("1_000", False), ("١٠٠", False), ("1e3", False),
    (" 1", False), ("1\n", False), ("+1", False), ("-1", False), (".5", False), ("5.", False),
    ("", False), (0, False), (-1, False), (1e20, False), (True, False), (None, False),
]  # fmt: skip
RATES = [
    ("0", True), ("0.006", True), ("0.999999999999999999", True), ("00.5", True), (0, True),
    (0.006, True), ("1", False), ("1.0", False), ("0.0000000000000000001", False),
    ("6e-3", False), ("+0.1", False), ("-0", False), (".5", False), (1, False), (-0.1, False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("model", "field", "samples"),
    [("BotCreate", "budget", AMOUNTS), ("FeesUpdate", "taker", RATES)],
)
def test_money_inputs_publish_exactly_the_rules_they_enforce(
    client: TestClient, model: str, field: str, samples: list[tuple[Any, bool]]
) -> None:
    """JSON Schema says what a string may be, bounds included; a JSON number's decimal
    places are the one rule it cannot say (the description does)."""
    published = _schema(client)["components"]["schemas"][model]["properties"][field]
    schema = {"anyOf": [b for b in published["anyOf"] if b != {"type": "null"}]}
    validator = jsonschema_rs.validator_for(schema)
    adapter = TypeAdapter(PositiveAmount if field == "budget" else Rate)
    for value, accepted in samples:
        try:
            adapter.validate_python(value)
            served = True
        except ValidationError:
            served = False
        assert (served, validator.is_valid(value)) == (accepted, accepted), value


VALID_BOT = {"name": "n", "strategy_type": "rsi", "product_id": "ETH-BTC", "timeframe": "5m",
             "budget": "1"}  # fmt: skip
TEXTS = [
    ("BotCreate", "name", ["x", " x ", "\tx\n", "x" * 100, " " + "x" * 100 + "\u3000",
                           "a b", "\xa0x\xa0", "\x85x\x85", "\ufeffx", "x\u2028", "😀"],
     ["", "   ", "\u2028", "x" * 101, "a\tb", "a\x00b", "\x1cx", "a\x85b", "a\x7fb"]),
    ("BotCreate", "description", ["", "a\tb\nc\r", "x" * 2000, "é😀"],
     ["\x00", "a\x0bb", "\x9f", "x" * 2001]),
    ("BotCreate", "strategy_type", ["rsi", "r s"], ["", "r\ts", "x" * 51]),
    ("LoginRequest", "username", ["admin", "x" * 100, " a "], ["ad\tmin", "\x00", "x" * 101]),
    ("LoginRequest", "password", ["p\tw", "é"], ["a\x00b", "x" * 1025]),
]  # fmt: skip


@pytest.mark.parametrize(("model", "field", "accepted", "refused"), TEXTS)
def test_text_inputs_publish_the_characters_they_take(
    client: TestClient, model: str, field: str, accepted: list[str], refused: list[str]
) -> None:
    """No control characters (tabs and line breaks in a description), and a name's length
    counted after its surrounding whitespace goes: each pattern says what the model does."""
    published = _schema(client)["components"]["schemas"][model]["properties"][field]
    validator = jsonschema_rs.validator_for(published)
    schema_model = BotCreate if model == "BotCreate" else LoginRequest
    base = VALID_BOT if model == "BotCreate" else {"username": "u", "password": "p"}
    for value, ok in [*((v, True) for v in accepted), *((v, False) for v in refused)]:
        try:
            schema_model.model_validate({**base, field: value})
            served = True
        except ValidationError as error:
            assert [e["loc"] for e in error.errors()] == [(field,)], value
            served = False
        assert (served, validator.is_valid(value)) == (ok, ok), repr(value)
