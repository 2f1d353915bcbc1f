"""The bot list is encoded without pydantic (``api.fast_json``); each of its entries must
be exactly what the one-bot route, encoded by pydantic through ``BotPublic``, answers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.api.fast_json import encode
from tradefleet.db.models import Bot

CONFIG = {"rsi_period": 9, "oversold": 27.5, "overbought": 70, "take_profit_pct": 1.25}


def test_every_listed_bot_is_what_the_one_bot_route_answers(
    api: TestClient, session_factory: sessionmaker[Session]
) -> None:
    budgets = ["0.05", "100", "1.500", "99999999999999999999", "0.000000000000000001"]
    ids = []
    for n, budget in enumerate(budgets):
        body = {
            "name": f"bot {n}",
            "description": 'ünïcode ✓ "quoted"' if n % 2 else "",
            "strategy_type": "rsi",
            "strategy_config": CONFIG if n % 2 else {},
            "product_id": "ETH-BTC",
            "timeframe": "1m",
            "budget": budget,
        }
        answer = api.post("/api/bots", json=body)
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    moments = [
        datetime(2026, 12, 2, 7, 0, 0, tzinfo=UTC),  # no fraction: pydantic writes none
        datetime(2026, 12, 2, 7, 0, 0, 120000, tzinfo=UTC),
        datetime(2026, 12, 2, 7, 0, 0, 7, tzinfo=UTC),
    ]
    with session_factory() as session:
        for bot_id, moment in zip(ids, moments, strict=False):
            values = {"last_signal_check": moment, "last_error": f"failed at {moment}"}
            session.execute(update(Bot).where(Bot.id == bot_id).values(**values))
        session.commit()
    api.post(f"/api/bots/{ids[0]}/start").raise_for_status()

    listed = api.get("/api/bots")
    assert listed.status_code == 200
    assert listed.headers["content-type"] == "application/json"
    body = listed.json()
    assert body["count"] == len(ids) == len(body["data"])
    for entry in body["data"]:
        one = api.get(f"/api/bots/{entry['id']}")
        assert entry == one.json()
    by_id = {entry["id"]: entry for entry in body["data"]}
    assert by_id[ids[0]]["last_signal_check"] == "2026-12-02T07:00:00Z"
    assert by_id[ids[1]]["last_signal_check"] == "2026-12-02T07:00:00.120000Z"
    assert by_id[ids[2]]["budget"] == "1.5"  # money text: no trailing zeros
    assert by_id[ids[3]]["budget"] == "99999999999999999999"
    assert by_id[ids[4]]["budget"] == "0.000000000000000001"  # no exponent


def test_the_encoder_writes_money_text_and_refuses_what_it_does_not_know() -> None:
    assert encode({"a": Decimal("1E+2"), "b": Decimal("0.10"), "n": float("nan")}) == (
        b'{"a":"100","b":"0.1","n":null}'
    )
    with pytest.raises(orjson.JSONEncodeError):
        encode({"a": object()})
