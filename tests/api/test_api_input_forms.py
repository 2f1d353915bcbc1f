"""The forms inputs may take: money as plain decimals or JSON numbers, moments as ISO 8601
date-times, bodies as JSON objects. Everything else is a 422 naming the field, on SQLite
and PostgreSQL, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from api_testkit import RecordingEngine, Seeded, bot_payload, snapshot
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.api.errors import NOT_JSON, UNREADABLE_BODY
from tradefleet.api.schemas.common import (
    DATE_TIME_MESSAGE,
    PLAIN_DECIMAL_MESSAGE,
    UTC_RANGE_MESSAGE,
)

NOT_PLAIN = ["1_000", "١٠٠", "1e3", " 1", "1 ", "+1", "-1", ".5", "5.", "0x10", "1,5", "∞", ""]


def _error(loc: list[str], msg: str, kind: str) -> dict[str, Any]:
    return {"detail": [{"loc": loc, "msg": msg, "type": kind}]}


def test_budgets_take_plain_decimal_strings_and_json_numbers(api: TestClient) -> None:
    sent: list[Any] = ["100", "0.05", 100, 0.05, 1e-05, "007", "0.1000000000000000000000"]
    answers = [api.post("/api/bots", json=bot_payload(name=str(i), budget=b)) for i, b in
               enumerate(sent)]  # fmt: skip
    assert [(a.status_code, a.json()["budget"]) for a in answers] == [
        (201, "100"), (201, "0.05"), (201, "100"), (201, "0.05"), (201, "0.00001"),
        (201, "7"), (201, "0.1"),
    ]  # fmt: skip


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_a_budget_in_any_other_string_form_is_refused_on_create_and_update(
    api: TestClient, seeded: Seeded, session_factory: sessionmaker[Session], text: str
) -> None:
    with session_factory() as session:
        before = snapshot(session)
    expected = _error(["body", "budget"], PLAIN_DECIMAL_MESSAGE, "decimal_parsing")
    created = api.post("/api/bots", json=bot_payload(budget=text))
    updated = api.put(f"/api/bots/{seeded.eth_bot}", json={"budget": text})
    assert (created.status_code, created.json()) == (422, expected)
    assert (updated.status_code, updated.json()) == (422, expected)
    with session_factory() as session:
        assert snapshot(session) == before


def test_fees_take_the_same_forms(
    api: TestClient, session_factory: sessionmaker[Session], engine: RecordingEngine
) -> None:
    answer = api.put("/api/settings", json={"fees": {"taker": "0.005", "maker": 0.002}})
    assert answer.json()["fees"] == {"taker": "0.005", "maker": "0.002", "slippage": "0"}
    with session_factory() as session:
        before = snapshot(session)
    calls = list(engine.calls)
    for text in ["0.00_1", "٠.٠٠١", "6e-3", " 0.006", "+0.006", "-0"]:
        refused = api.put("/api/settings", json={"fees": {"taker": text}})
        expected = _error(["body", "fees", "taker"], PLAIN_DECIMAL_MESSAGE, "decimal_parsing")
        assert (refused.status_code, refused.json()) == (422, expected), text
    with session_factory() as session:
        assert snapshot(session) == before
    assert engine.calls == calls


def test_trade_filters_take_iso_date_times_only(api: TestClient, seeded: Seeded) -> None:
    """Unix numbers, dates and other spellings were read as moments ("0.5" as 1970)."""
    for text in ["0.5", "1714564800", "2024-05-01", "2024-05-01 12:00:00", "2024-05-01T12:00",
                 "2024-02-30T00:00:00Z", "2024-05-01T12:00:00+1:00", "now", ""]:  # fmt: skip
        answer = api.get("/api/trades", params={"until": text})
        expected = _error(["query", "until"], DATE_TIME_MESSAGE, "datetime_parsing")
        assert (answer.status_code, answer.json()) == (422, expected), text
    lower = api.get("/api/trades", params={"since": "2024-05-01t12:59:59.5z"}).json()
    edges = {"since": "0001-01-01T00:00:00Z", "until": "9999-12-31T23:59:59.999999Z"}
    assert (lower["count"], api.get("/api/trades", params=edges).json()["count"]) == (3, 4)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("since", "0001-01-01T00:00:00+01:00"),
        ("until", "0001-01-01T00:00:00+14:00"),
        ("since", "9999-12-31T23:59:59-10:00"),
        ("until", "9999-12-31T23:59:59-00:01"),
    ],
)
def test_moments_beyond_the_utc_years_are_422_not_500(
    api: TestClient, seeded: Seeded, name: str, text: str
) -> None:
    answer = api.get("/api/trades", params={name: text})
    expected = _error(["query", name], UTC_RANGE_MESSAGE, "datetime_range")
    assert (answer.status_code, answer.json()) == (422, expected)


def test_backtest_moments_beyond_the_utc_years_are_422(api: TestClient) -> None:
    body = {"strategy_type": "rsi", "product_id": "BTC-USD", "timeframe": "1m", "budget": "1",
            "start": "0001-01-01T00:00:00+00:01", "end": "9999-12-31T23:59:59-10:00"}  # fmt: skip
    answer = api.post("/api/backtests", json=body)
    assert (answer.status_code, answer.json()["detail"]) == (422, [
        {"loc": ["body", "start"], "msg": UTC_RANGE_MESSAGE, "type": "datetime_range"},
        {"loc": ["body", "end"], "msg": UTC_RANGE_MESSAGE, "type": "datetime_range"},
    ])  # fmt: skip
    assert api.get("/api/backtests").json()["count"] == 0


SYNTAX = "is not valid JSON: Expecting property name enclosed in double quotes at character 1"
JSON = "application/json"
OBJECT = "must be a JSON object"
BODIES = [  # content, Content-Type, msg, type
    pytest.param((b"{bad", JSON, SYNTAX, "json_invalid"), id="syntax"),
    pytest.param((b'{"name": "\xff"}', JSON, UNREADABLE_BODY, "json_invalid"), id="not-utf8"),
    pytest.param((b"[" * 100_000, JSON, UNREADABLE_BODY, "json_invalid"), id="too-deep"),
    pytest.param((b'{"name": "x"}', "text/plain", NOT_JSON, "content_type"), id="text-plain"),
    pytest.param((b"name=x", "application/x-www-form-urlencoded", NOT_JSON, "content_type"),
                 id="form"),
    pytest.param((b'{"name": "x"}', None, NOT_JSON, "content_type"), id="no-content-type"),
    pytest.param((b"", JSON, "Field required", "missing"), id="empty"),
    pytest.param((b"null", JSON, OBJECT, "model_attributes_type"), id="null"),
    pytest.param((b"[1]", JSON, OBJECT, "model_attributes_type"), id="array"),
]  # fmt: skip


@pytest.mark.parametrize("body", BODIES)
def test_a_body_that_is_not_a_json_object_is_a_422_on_the_body(
    api: TestClient,
    seeded: Seeded,
    session_factory: sessionmaker[Session],
    body: tuple[bytes, str | None, str, str],
) -> None:
    content, content_type, msg, kind = body
    headers = {} if content_type is None else {"Content-Type": content_type}
    with session_factory() as session:
        before = snapshot(session)
    paths = ["/api/bots", "/api/settings", f"/api/bots/{seeded.eth_bot}", "/api/backtests"]
    for method, path in zip(["POST", "PUT", "PUT", "POST"], paths, strict=True):
        answer = api.request(method, path, content=content, headers=headers)
        assert (answer.status_code, answer.json()) == (422, _error(["body"], msg, kind)), path
    with session_factory() as session:
        assert snapshot(session) == before
