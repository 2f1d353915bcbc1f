"""Rejected bot requests: the 422/404/409 bodies, and proof that nothing was written."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
from api_testkit import (
    T0,
    RecordingEngine,
    add_bot,
    add_order_with_fill,
    add_position,
    bot_payload,
    snapshot,
)
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.api.schemas.common import PLAIN_DECIMAL_MESSAGE
from tradefleet.db.models import Bot
from tradefleet.market.base import ManualClock
from tradefleet.market.exchange import ExchangeSource
from tradefleet.market.service import MarketService

KNOWN = "bollinger, ema_cross, grid, macd_dca, rsi, simple_dca"
TIMEFRAMES = "1m, 5m, 15m, 30m, 1h, 2h, 6h, 1d"


Reject = Callable[[str, str, "dict[str, Any] | None", int], Any]


@pytest.fixture
def reject(
    api: TestClient, session_factory: sessionmaker[Session], engine: RecordingEngine
) -> Reject:
    """Send a request; assert its status, that no row changed and the engine heard nothing."""

    def send(method: str, path: str, body: dict[str, Any] | None, status: int) -> Any:
        with session_factory() as session:
            before = snapshot(session)
        calls_before = list(engine.calls)
        answer = api.request(method, path, json=body)
        assert answer.status_code == status, answer.text
        assert "Traceback" not in answer.text
        with session_factory() as session:
            assert snapshot(session) == before
        assert engine.calls == calls_before
        return answer.json()

    return send


def _error(*loc: str, msg: str, kind: str = "value_error") -> dict[str, Any]:
    return {"loc": ["body", *loc], "msg": msg, "type": kind}


INVALID_CREATES = [
    pytest.param(
        {"strategy_type": "nope"},
        [_error("strategy_type", msg=f"unknown strategy 'nope'; known strategies: {KNOWN}")],
        id="unknown-strategy",
    ),
    pytest.param(
        {"strategy_config": {"rsi_period": 1}},
        [_error("strategy_config", "rsi_period", msg="must be at least 2")],
        id="parameter-below-range",
    ),
    pytest.param(
        {"strategy_config": {"oversold": 120.0}},
        [_error("strategy_config", "oversold", msg="must be at most 99")],
        id="parameter-above-range",
    ),
    pytest.param(
        {"strategy_config": {"rsi_period": "14"}},
        [_error("strategy_config", "rsi_period", msg="must be an integer")],
        id="parameter-wrong-type",
    ),
    pytest.param(
        {"strategy_config": {"oversold": 75.0, "overbought": 70.0}},
        [_error("strategy_config", "oversold", msg="must be less than overbought")],
        id="cross-field-rule",
    ),
    pytest.param(
        {
            "strategy_type": "grid",
            "strategy_config": {
                "levels": 11,
                "quote_per_level": 0.1,
                "lower_price": 0.04,
                "upper_price": 0.06,
            },
            "budget": "0.5",
        },
        [
            _error(
                "strategy_config",
                "quote_per_level",
                msg="10 buy levels need 1, more than the budget 0.5",
            )
        ],
        id="budget-dependent-rule",
    ),
    pytest.param(
        {"product_id": "DOGE-EUR"},
        [_error("product_id", msg="unknown product 'DOGE-EUR'")],
        id="unknown-product",
    ),
    pytest.param(
        {"timeframe": "7m"},
        [_error("timeframe", msg=f"must be one of: {TIMEFRAMES}")],
        id="bad-timeframe",
    ),
    pytest.param(
        {"product_id": "DOGE-EUR", "timeframe": "7m"},
        [
            _error("product_id", msg="unknown product 'DOGE-EUR'"),
            _error("timeframe", msg=f"must be one of: {TIMEFRAMES}"),
        ],
        id="every-bad-field-reported",
    ),
    pytest.param(
        {"budget": "0"},
        [_error("budget", msg="Input should be greater than 0", kind="greater_than")],
        id="budget-zero",
    ),
    pytest.param(
        {"budget": -5},
        [_error("budget", msg="Input should be greater than 0", kind="greater_than")],
        id="budget-negative",
    ),
    *[
        pytest.param(
            {"budget": text},
            [_error("budget", msg=PLAIN_DECIMAL_MESSAGE, kind="decimal_parsing")],
            id=f"budget-{name}",
        )
        for name, text in [
            ("not-a-number", "lots"),
            ("nan", "NaN"),
            ("underscores", "1_000"),
            ("arabic-indic-digits", "١٠٠"),
            ("exponent", "1e3"),
            ("blanks", " 1 "),
            ("plus-sign", "+1"),
            ("no-leading-digit", ".5"),
            ("empty", ""),
        ]
    ],
    pytest.param(
        {"budget": "0.0000000000000000001"},
        [
            _error(
                "budget",
                msg="Decimal input should have no more than 18 decimal places",
                kind="decimal_max_places",
            )
        ],
        id="budget-too-precise",
    ),
    pytest.param(
        {"name": "   "},
        [
            _error(
                "name",
                msg="String should have at least 1 character",
                kind="string_too_short",
            )
        ],
        id="blank-name",
    ),
    pytest.param(
        {"name": "x" * 101},
        [
            _error(
                "name",
                msg="String should have at most 100 characters",
                kind="string_too_long",
            )
        ],
        id="long-name",
    ),
    pytest.param(
        {"colour": "red"},
        [_error("colour", msg="Extra inputs are not permitted", kind="extra_forbidden")],
        id="unknown-field",
    ),
]


def test_invalid_create_is_a_422_naming_the_field(
    reject: Reject, subtests: pytest.Subtests
) -> None:
    for case in INVALID_CREATES:
        change, detail = case.values
        with subtests.test(case.id):
            body = reject("POST", "/api/bots", bot_payload(**change), 422)
            assert body == {"detail": detail}


def test_unknown_parameter_names_the_parameter(reject: Reject) -> None:
    payload = bot_payload(strategy_config={"rsi_periodd": 14})
    body = reject("POST", "/api/bots", payload, 422)
    [error] = body["detail"]
    assert error["loc"] == ["body", "strategy_config", "rsi_periodd"]
    assert error["msg"].startswith("unknown parameter; expected one of: rsi_period, oversold,")


def test_missing_required_fields_are_named(reject: Reject) -> None:
    body = reject("POST", "/api/bots", {"name": "x"}, 422)
    assert [e["loc"] for e in body["detail"]] == [
        ["body", "strategy_type"],
        ["body", "product_id"],
        ["body", "timeframe"],
        ["body", "budget"],
    ]
    assert {e["type"] for e in body["detail"]} == {"missing"}


def test_invalid_update_is_a_422_and_changes_nothing(
    api: TestClient, reject: Reject, subtests: pytest.Subtests
) -> None:
    bot_id = api.post("/api/bots", json=bot_payload(budget="0.5")).json()["id"]
    for case in INVALID_CREATES:
        change, detail = case.values
        with subtests.test(case.id):
            body = reject("PUT", f"/api/bots/{bot_id}", change, 422)
            assert body == {"detail": detail}


def test_duplicate_name_is_a_409_on_create_and_on_rename(api: TestClient, reject: Reject) -> None:
    api.post("/api/bots", json=bot_payload(name="taken"))
    other = api.post("/api/bots", json=bot_payload(name="other")).json()["id"]
    expected = {"detail": "a bot named 'taken' already exists"}
    create = bot_payload(name=" taken ")
    assert reject("POST", "/api/bots", create, 409) == expected
    rename = {"name": "taken"}
    path = f"/api/bots/{other}"
    assert reject("PUT", path, rename, 409) == expected


def test_renaming_a_bot_to_its_own_name_is_fine(api: TestClient) -> None:
    bot_id = api.post("/api/bots", json=bot_payload(name="same")).json()["id"]
    assert api.put(f"/api/bots/{bot_id}", json={"name": "same"}).status_code == 200


def test_strategy_or_product_change_with_open_positions_is_a_409(
    session_factory: sessionmaker[Session], reject: Reject, subtests: pytest.Subtests
) -> None:
    with session_factory() as session:
        bot = add_bot(session, "holder")
        add_position(session, bot, 1)
        bot_id = bot.id
    for change, moved in [
        ({"strategy_type": "bollinger"}, "strategy_type"),
        ({"product_id": "BTC-USD"}, "product_id"),
        ({"strategy_type": "bollinger", "product_id": "BTC-USD"}, "strategy_type and product_id"),
    ]:
        with subtests.test(moved):
            body = reject("PUT", f"/api/bots/{bot_id}", change, 409)
            assert body == {
                "detail": f"bot {bot_id} has open positions: close them before changing {moved}"
            }


def test_delete_with_an_open_position_is_a_409(
    session_factory: sessionmaker[Session], reject: Reject
) -> None:
    with session_factory() as session:
        bot = add_bot(session, "holder")
        add_position(session, bot, 1)
        bot_id = bot.id
    body = reject("DELETE", f"/api/bots/{bot_id}", None, 409)
    assert body == {
        "detail": f"bot {bot_id} has open positions: stop the bot and close its positions first"
    }


def test_delete_with_a_live_order_but_no_open_position_is_a_409(
    session_factory: sessionmaker[Session], reject: Reject
) -> None:
    with session_factory() as session:
        bot = add_bot(session, "holder")
        closed = add_position(session, bot, 1, status="closed", closed_at=T0)
        order = add_order_with_fill(
            session, closed, 0, side="buy", price="0.05", base="1", fee="0.0003", time=T0
        )
        order.status = "open"
        session.commit()
        bot_id = bot.id
    reject("DELETE", f"/api/bots/{bot_id}", None, 409)


def test_unknown_bot_is_a_404(
    session_factory: sessionmaker[Session], reject: Reject, subtests: pytest.Subtests
) -> None:
    with session_factory() as session:
        add_bot(session, "bystander")
    for method, path, body in [
        ("GET", "/api/bots/99", None),
        ("PUT", "/api/bots/99", {"name": "x"}),
        ("DELETE", "/api/bots/99", None),
        ("POST", "/api/bots/99/start", None),
        ("POST", "/api/bots/99/stop", None),
        ("GET", "/api/bots/99/positions", None),
        ("GET", "/api/bots/99/signals", None),
        ("GET", "/api/bots/99/stats", None),
    ]:
        with subtests.test(f"{method} {path}"):
            assert reject(method, path, body, 404) == {"detail": "bot 99 not found"}


def test_a_non_numeric_bot_id_is_a_422(reject: Reject) -> None:
    body = reject("GET", "/api/bots/seven", None, 422)
    assert body["detail"][0]["loc"] == ["path", "bot_id"]


def test_market_outage_on_create_is_a_503_and_writes_nothing(
    session_factory: sessionmaker[Session], engine: RecordingEngine, reject: Reject
) -> None:
    engine.market.down = True
    body = reject("POST", "/api/bots", bot_payload(), 503)
    assert body == {"detail": "could not look up product ETH-BTC; see the server log"}
    with session_factory() as session:
        assert session.query(Bot).count() == 0


async def test_an_unreachable_exchange_is_a_503_saying_how_to_try_offline(
    session_factory: sessionmaker[Session], engine: RecordingEngine, reject: Reject
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://user:PASS@127.0.0.1:{port}/"
    source = ExchangeSource("coinbase", url, attempts=1, rate_limit=False)
    engine.market = MarketService(source, ManualClock(1_750_000_000))  # type: ignore[assignment]
    try:
        body = reject("POST", "/api/bots", bot_payload(), 503)
        assert body == {
            "detail": "could not look up product ETH-BTC: the exchange's market data is "
            "unreachable; to try tradefleet offline set TRADEFLEET_MARKET=simulated"
        }
    finally:
        await source.close()


def test_a_live_account_is_refused_on_a_paper_server(api: TestClient, reject: Reject) -> None:
    unavailable = (
        "live needs the server started with TRADEFLEET_MODE=live and working exchange keys "
        "(check them with tradefleet check-exchange); this server trades on paper"
    )
    body = reject("POST", "/api/bots", bot_payload(account="live"), 422)
    assert [(e["loc"], e["msg"]) for e in body["detail"]] == [(["body", "account"], unavailable)]
    body = reject("POST", "/api/bots", bot_payload(account="demo"), 422)
    assert body["detail"][0]["loc"] == ["body", "account"]
    bot_id = api.post("/api/bots", json=bot_payload()).json()["id"]
    body = reject("PUT", f"/api/bots/{bot_id}", {"account": "live"}, 422)
    assert [(e["loc"], e["msg"]) for e in body["detail"]] == [(["body", "account"], unavailable)]
    assert api.get(f"/api/bots/{bot_id}").json()["account"] == "paper"


def test_the_account_changes_only_without_open_deals(
    api: TestClient, session_factory: sessionmaker[Session], reject: Reject
) -> None:
    with session_factory() as session:  # as a later release (or a hand edit) stores them
        holder, idle = add_bot(session, "holder"), add_bot(session, "idle", product_id="BTC-USD")
        add_position(session, holder, 1)
        holder.account = idle.account = "live"
        session.commit()
        holder_id, idle_id = holder.id, idle.id
    body = reject("PUT", f"/api/bots/{holder_id}", {"account": "paper"}, 409)
    assert body == {
        "detail": f"bot {holder_id} has open positions: close them before changing account"
    }
    moved = api.put(f"/api/bots/{idle_id}", json={"account": "paper"})
    assert (moved.status_code, moved.json()["account"]) == (200, "paper")
