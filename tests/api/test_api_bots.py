"""Bot CRUD and start/stop: exact answers, stored rows and the engine calls they cause."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from api_testkit import (
    T0,
    RecordingEngine,
    add_bot,
    add_order_with_fill,
    add_position,
    add_signal,
    bot_payload,
)
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.db.models import Bot, Fill, Order, Position, Signal
from tradefleet.strategies import StrategyRegistry

RSI_DEFAULTS = StrategyRegistry.get("rsi").definition.defaults()


def _expected_bot(bot_id: int, **overrides: object) -> dict[str, object]:
    expected: dict[str, object] = {
        "id": bot_id,
        "name": "rsi eth",
        "description": "dips on ETH-BTC",
        "strategy_type": "rsi",
        "strategy_config": {**RSI_DEFAULTS, "rsi_period": 10, "take_profit_pct": 2.5},
        "product_id": "ETH-BTC",
        "timeframe": "5m",
        "budget": "0.5",
        "account": "paper",
        "is_active": False,
        "last_signal_check": None,
        "last_error": None,
        "halted_at": None,
        "open_positions": 0,
    }
    expected.update(overrides)
    return expected


def _without_times(body: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in body.items() if k not in ("created_at", "updated_at")}


def test_create_answers_the_stored_bot_with_config_defaults(
    api: TestClient, session_factory: sessionmaker[Session], engine: RecordingEngine
) -> None:
    answer = api.post("/api/bots", json=bot_payload())
    assert answer.status_code == 201
    body = answer.json()
    assert _without_times(body) == _expected_bot(body["id"])
    assert body["strategy_config"]["oversold"] == 30.0  # a default filled in
    assert datetime.fromisoformat(body["created_at"]) <= datetime.fromisoformat(body["updated_at"])
    with session_factory() as session:
        bot = session.get(Bot, body["id"])
        assert bot is not None
        assert bot.budget == Decimal("0.5")
        assert bot.strategy_config == body["strategy_config"]
        assert bot.is_active is False
    assert engine.calls == []


def test_budget_may_be_a_json_number_and_is_answered_as_a_plain_string(api: TestClient) -> None:
    first = api.post("/api/bots", json=bot_payload(name="a", budget=0.25))
    second = api.post("/api/bots", json=bot_payload(name="b", budget="0.00000001"))
    third = api.post("/api/bots", json=bot_payload(name="c", budget=12))
    assert [r.json()["budget"] for r in (first, second, third)] == ["0.25", "0.00000001", "12"]


def test_name_is_trimmed(api: TestClient) -> None:
    assert api.post("/api/bots", json=bot_payload(name="  spaced  ")).json()["name"] == "spaced"


def test_list_and_get_count_only_open_positions(
    api: TestClient, session_factory: sessionmaker[Session]
) -> None:
    first = api.post("/api/bots", json=bot_payload()).json()
    second = api.post("/api/bots", json=bot_payload(name="usd", product_id="BTC-USD")).json()
    with session_factory() as session:
        bot = session.get(Bot, first["id"])
        assert bot is not None
        add_position(session, bot, 1)
        add_position(session, bot, 2)
        add_position(session, bot, 3, status="closed", closed_at=T0)
    listed = api.get("/api/bots").json()
    assert listed["count"] == 2
    assert [(b["id"], b["name"], b["open_positions"]) for b in listed["data"]] == [
        (first["id"], "rsi eth", 2),
        (second["id"], "usd", 0),
    ]
    single = api.get(f"/api/bots/{first['id']}").json()
    assert _without_times(single) == _expected_bot(first["id"], open_positions=2)


def test_update_changes_only_given_fields_and_reloads_the_bot(
    api: TestClient, engine: RecordingEngine
) -> None:
    created = api.post("/api/bots", json=bot_payload()).json()
    answer = api.put(f"/api/bots/{created['id']}", json={"name": "renamed", "budget": "0.75"})
    assert answer.status_code == 200
    assert _without_times(answer.json()) == _expected_bot(
        created["id"], name="renamed", budget="0.75"
    )
    assert answer.json()["created_at"] == created["created_at"]
    assert answer.json()["updated_at"] >= created["updated_at"]
    assert engine.calls == [("bot_changed", created["id"])]
    assert api.get(f"/api/bots/{created['id']}").json()["name"] == "renamed"


TUNED = {"rsi_period": 10, "take_profit_pct": 1.5, "safety_order_count": 2, "stop_loss_pct": 4}


def test_a_partial_config_keeps_every_other_stored_parameter(api: TestClient) -> None:
    created = api.post("/api/bots", json=bot_payload(strategy_config=TUNED)).json()
    stored = {**RSI_DEFAULTS, "rsi_period": 10, "take_profit_pct": 1.5,
              "safety_order_count": 2, "stop_loss_pct": 4.0}  # fmt: skip
    assert created["strategy_config"] == stored
    path = f"/api/bots/{created['id']}"
    answer = api.put(path, json={"strategy_config": {"oversold": 25}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["strategy_config"] == {**stored, "oversold": 25.0}
    assert api.get(path).json()["strategy_config"] == {**stored, "oversold": 25.0}


def test_a_null_parameter_goes_back_to_its_default(api: TestClient) -> None:
    created = api.post("/api/bots", json=bot_payload(strategy_config=TUNED)).json()
    path = f"/api/bots/{created['id']}"
    answer = api.put(path, json={"strategy_config": {"take_profit_pct": None, "oversold": 20}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["strategy_config"] == {
        **RSI_DEFAULTS, "rsi_period": 10, "safety_order_count": 2, "stop_loss_pct": 4.0,
        "oversold": 20.0, "take_profit_pct": 0.0,
    }  # fmt: skip
    assert (
        api.put(path, json={"strategy_config": {}}).json()["strategy_config"]
        == (answer.json()["strategy_config"])
    )


def test_a_merged_config_is_validated_whole_and_a_rejection_keeps_it(api: TestClient) -> None:
    created = api.post("/api/bots", json=bot_payload(strategy_config=TUNED)).json()
    path = f"/api/bots/{created['id']}"
    answer = api.put(path, json={"strategy_config": {"oversold": 75}})  # stored overbought 70
    assert (answer.status_code, answer.json()["detail"]) == (
        422,
        [{"loc": ["body", "strategy_config", "oversold"],
          "msg": "must be less than overbought", "type": "value_error"}],
    )  # fmt: skip
    assert api.get(path).json()["strategy_config"] == created["strategy_config"]


def test_a_new_strategy_takes_its_defaults_under_the_given_config(api: TestClient) -> None:
    created = api.post("/api/bots", json=bot_payload(strategy_config=TUNED)).json()
    answer = api.put(
        f"/api/bots/{created['id']}",
        json={"strategy_type": "ema_cross", "strategy_config": {"fast_period": 5}},
    )
    assert answer.status_code == 200, answer.text
    defaults = StrategyRegistry.get("ema_cross").definition.defaults()
    assert answer.json()["strategy_config"] == {**defaults, "fast_period": 5}


def test_strategy_change_without_open_positions_starts_from_its_defaults(
    api: TestClient,
) -> None:
    created = api.post("/api/bots", json=bot_payload()).json()
    answer = api.put(
        f"/api/bots/{created['id']}",
        json={"strategy_type": "ema_cross", "product_id": "BTC-USD", "timeframe": "1h"},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["strategy_type"], body["product_id"], body["timeframe"]) == (
        "ema_cross",
        "BTC-USD",
        "1h",
    )
    assert body["strategy_config"] == StrategyRegistry.get("ema_cross").definition.defaults()


def test_delete_hides_the_bot_keeps_its_history_and_tells_the_engine(
    api: TestClient, session_factory: sessionmaker[Session], engine: RecordingEngine
) -> None:
    created = api.post("/api/bots", json=bot_payload()).json()
    keep = api.post("/api/bots", json=bot_payload(name="keep")).json()
    with session_factory() as session:
        bot = session.get(Bot, created["id"])
        assert bot is not None
        closed = add_position(session, bot, 1, status="closed", closed_at=T0)
        add_order_with_fill(
            session, closed, 0, side="buy", price="0.05", base="1", fee="0.0003", time=T0
        )
        add_signal(session, bot, 1714564800, "buy")
    answer = api.delete(f"/api/bots/{created['id']}")
    assert answer.status_code == 204
    assert answer.content == b""
    assert engine.calls == [("bot_changed", created["id"])]
    assert api.get(f"/api/bots/{created['id']}").json() == {
        "detail": f"bot {created['id']} not found"
    }
    assert [b["id"] for b in api.get("/api/bots").json()["data"]] == [keep["id"]]
    with session_factory() as session:
        for model in (Position, Order, Fill):
            query = select(func.count()).select_from(model).where(model.bot_id == created["id"])
            assert session.scalar(query) == 1, model.__name__
        assert session.scalar(select(func.count()).select_from(Signal)) == 0
        assert session.get(Bot, keep["id"]) is not None
    trades = api.get("/api/trades", params={"bot_id": created["id"]}).json()["data"]
    assert [(t["side"], t["price"], t["fee"]) for t in trades] == [("buy", "0.05", "0.0003")]
    positions = api.get("/api/positions", params={"bot_id": created["id"]}).json()["data"]
    assert [(p["id"], p["status"]) for p in positions] == [(closed.id, "closed")]


def test_start_and_stop_set_is_active_and_drive_the_engine(
    api: TestClient, session_factory: sessionmaker[Session], engine: RecordingEngine
) -> None:
    bot_id = api.post("/api/bots", json=bot_payload()).json()["id"]
    started = api.post(f"/api/bots/{bot_id}/start")
    assert started.status_code == 200
    assert started.json()["is_active"] is True
    with session_factory() as session:
        assert session.get(Bot, bot_id).is_active is True  # type: ignore[union-attr]
    stopped = api.post(f"/api/bots/{bot_id}/stop")
    assert stopped.json()["is_active"] is False
    assert engine.calls == [("bot_changed", bot_id), ("bot_changed", bot_id)]
    with session_factory() as session:
        assert session.get(Bot, bot_id).is_active is False  # type: ignore[union-attr]


def test_seeded_bot_is_listed_with_its_exact_budget(
    api: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        add_bot(session, "seeded", budget=Decimal("0.123456789012345678"))
    assert api.get("/api/bots").json()["data"][0]["budget"] == "0.123456789012345678"
