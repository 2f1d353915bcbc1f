"""What an error repeats is bounded: at most 20 errors and a count of the rest, location
parts of at most 100 characters, and no body over 1,000,000 bytes is read at all (413)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from api_testkit import bot_payload, snapshot
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.api.errors import MAX_ERRORS
from tradefleet.api.limits import MAX_BODY_BYTES
from tradefleet.strategies import StrategyRegistry

RSI_NAMES = ", ".join(p.name for p in StrategyRegistry.get("rsi").definition.parameters)
TOO_LARGE = {"detail": "request body too large: at most 1000000 bytes"}


def _unknown(name: str) -> dict[str, Any]:
    return {
        "loc": ["body", "strategy_config", name],
        "msg": f"unknown parameter; expected one of: {RSI_NAMES}",
        "type": "value_error",
    }


def _post(api: TestClient, body: bytes) -> Any:
    return api.post("/api/bots", content=body, headers={"Content-Type": "application/json"})


def test_the_first_20_service_errors_are_listed_and_the_rest_counted(api: TestClient) -> None:
    names = [f"k{i:03d}" for i in range(100)]
    answer = api.post("/api/bots", json=bot_payload(strategy_config=dict.fromkeys(names, 1)))
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert len(detail) == MAX_ERRORS + 1 == 21
    assert [error["loc"] for error in detail[:20]] == [
        ["body", "strategy_config", name] for name in names[:20]
    ]
    assert detail[:20] == [_unknown(name) for name in names[:20]]
    assert detail[20] == {
        "loc": [],
        "msg": "and 80 more errors not listed",
        "type": "too_many_errors",
    }


def test_the_first_20_schema_errors_are_listed_and_the_rest_counted(api: TestClient) -> None:
    extra = {f"x{i:03d}": 0 for i in range(500)}
    answer = api.post("/api/bots", json={**bot_payload(), **extra})
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": [
            {
                "loc": ["body", f"x{i:03d}"],
                "msg": "Extra inputs are not permitted",
                "type": "extra_forbidden",
            }
            for i in range(20)
        ]
        + [{"loc": [], "msg": "and 480 more errors not listed", "type": "too_many_errors"}]
    }


def test_a_config_of_more_than_100_parameters_is_one_error(api: TestClient) -> None:
    config = {f"k{i:03d}": 1 for i in range(101)}
    answer = api.post("/api/bots", json=bot_payload(strategy_config=config))
    assert (answer.status_code, answer.json()) == (
        422,
        {
            "detail": [
                {
                    "loc": ["body", "strategy_config"],
                    "msg": "Dictionary should have at most 100 items after validation, not more",
                    "type": "too_long",
                }
            ]
        },
    )


def test_a_huge_parameter_name_is_repeated_in_100_characters(api: TestClient) -> None:
    name = "k" * 900_000
    answer = api.post("/api/bots", json=bot_payload(strategy_config={name: 1}))
    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert error["loc"] == ["body", "strategy_config", "k" * 100 + "…"]
    assert len(answer.content) < 1000


def test_a_dotted_parameter_name_stays_one_location_part(api: TestClient) -> None:
    answer = api.post("/api/bots", json=bot_payload(strategy_config={"a.b": 1}))
    assert answer.json()["detail"][0]["loc"] == ["body", "strategy_config", "a.b"]


def _body_of(size: int) -> bytes:
    """A bot body padded with blanks to exactly ``size`` bytes (valid JSON)."""
    body = json.dumps(bot_payload()).encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


def test_a_body_of_1_000_000_bytes_is_read_and_one_more_is_refused(
    api: TestClient, session_factory: sessionmaker[Session]
) -> None:
    assert MAX_BODY_BYTES == 1_000_000
    with session_factory() as session:
        before = snapshot(session)
    over = _post(api, _body_of(1_000_001))
    assert (over.status_code, over.json()) == (413, TOO_LARGE)
    with session_factory() as session:
        assert snapshot(session) == before
    at_limit = _post(api, _body_of(1_000_000))
    assert at_limit.status_code == 201, at_limit.text


def test_a_chunked_body_is_counted_as_it_arrives(api: TestClient) -> None:
    def chunks(total: int) -> Iterator[bytes]:
        body = _body_of(total)
        for start in range(0, total, 65536):
            yield body[start : start + 65536]

    over = api.post(
        "/api/bots", content=chunks(1_000_001), headers={"Content-Type": "application/json"}
    )
    assert (over.status_code, over.json()) == (413, TOO_LARGE)
    fits = api.post(
        "/api/bots", content=chunks(999_999), headers={"Content-Type": "application/json"}
    )
    assert fits.status_code == 201, fits.text


def test_the_login_body_is_capped_too(client: TestClient) -> None:
    big = b'{"username": "admin", "password": "' + b"x" * MAX_BODY_BYTES + b'"}'
    answer = client.post(
        "/api/auth/login", content=big, headers={"Content-Type": "application/json"}
    )
    assert (answer.status_code, answer.json()) == (413, TOO_LARGE)
