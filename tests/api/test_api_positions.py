"""Deals, their orders and fills, manual close, trade history and the signal log."""

from __future__ import annotations

from decimal import Decimal

import pytest
from api_testkit import RecordingEngine, Seeded, add_signal, snapshot
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.db.models import Bot


def _ids(answer: dict[str, object]) -> list[int]:
    data = answer["data"]
    assert isinstance(data, list)
    return [row["id"] for row in data]


def test_positions_are_listed_newest_first_with_filters(api: TestClient, seeded: Seeded) -> None:
    everything = api.get("/api/positions").json()
    assert (_ids(everything), everything["count"]) == (
        [seeded.open_usd, seeded.open_eth, seeded.closed],
        3,
    )
    assert _ids(api.get(f"/api/positions?bot_id={seeded.eth_bot}").json()) == [
        seeded.open_eth,
        seeded.closed,
    ]
    assert _ids(api.get("/api/positions?status=closed").json()) == [seeded.closed]
    page = api.get("/api/positions?status=open&limit=1&offset=1").json()
    assert (_ids(page), page["count"]) == ([seeded.open_eth], 2)
    own = api.get(f"/api/bots/{seeded.usd_bot}/positions").json()
    assert (_ids(own), own["count"]) == ([seeded.open_usd], 1)


def test_bad_position_filters_are_422(api: TestClient, subtests: pytest.Subtests) -> None:
    for query, field in [
        ("status=pending", "status"),
        ("limit=501", "limit"),
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
        ("bot_id=one", "bot_id"),
    ]:
        with subtests.test(query):
            answer = api.get(f"/api/positions?{query}")
            assert answer.status_code == 422
            assert answer.json()["detail"][0]["loc"] == ["query", field]


def test_position_detail_has_its_orders_and_fills(api: TestClient, seeded: Seeded) -> None:
    answer = api.get(f"/api/positions/{seeded.closed}")
    assert answer.status_code == 200
    body = answer.json()
    orders = body.pop("orders")
    assert body == {
        "id": seeded.closed, "bot_id": seeded.eth_bot, "seq": 1, "product_id": "ETH-BTC",
        "status": "closed", "opened_at": "2024-05-01T12:00:00Z",
        "closed_at": "2024-05-01T13:00:00Z", "close_reason": "take_profit", "base_price": "0.05",
        "base_amount": "0", "bought_base": "2", "bought_quote": "0.1", "buy_fees": "0.0006",
        "sold_base": "2", "sold_quote": "0.11", "sell_fees": "0.00044",
        "average_entry_price": "0.05", "safety_orders_filled": 0, "adds_filled": 0,
        "take_profit_price": None, "stop_price": None, "trailing_active": False,
        "trailing_peak": None, "realized_pnl": "0.00896", "grid_level": None,
    }  # fmt: skip
    assert [(o["client_order_id"], o["side"], o["status"], o["fee"]) for o in orders] == [
        (f"tf-{seeded.eth_bot}-1-0", "buy", "filled", "0.0006"),
        (f"tf-{seeded.eth_bot}-1-1", "sell", "filled", "0.00044"),
    ]
    sell_fill = orders[1]["fills"][0]
    assert {k: sell_fill[k] for k in ("side", "time", "price", "base_amount", "quote_amount")} == {
        "side": "sell",
        "time": "2024-05-01T13:00:00Z",
        "price": "0.055",
        "base_amount": "2",
        "quote_amount": "0.11",
    }
    assert api.get("/api/positions/99").json() == {"detail": "position 99 not found"}


def test_close_asks_the_engine_and_a_closed_deal_is_a_409(
    api: TestClient,
    seeded: Seeded,
    engine: RecordingEngine,
    session_factory: sessionmaker[Session],
) -> None:
    answer = api.post(f"/api/positions/{seeded.open_eth}/close")
    assert answer.status_code == 200
    assert (answer.json()["id"], answer.json()["status"]) == (seeded.open_eth, "open")
    assert engine.calls == [("close_position", seeded.open_eth)]
    with session_factory() as session:
        before = snapshot(session)
    again = api.post(f"/api/positions/{seeded.closed}/close")
    assert again.status_code == 409
    assert again.json() == {"detail": f"position {seeded.closed} is already closed"}
    assert api.post("/api/positions/99/close").status_code == 404
    assert engine.calls == [("close_position", seeded.open_eth)]
    with session_factory() as session:
        assert snapshot(session) == before


def _trade_rows(answer: dict[str, object]) -> list[tuple[str, str, str]]:
    data = answer["data"]
    assert isinstance(data, list)
    return [(row["product_id"], row["side"], row["price"]) for row in data]


def test_trades_are_fills_newest_first_with_filters(api: TestClient, seeded: Seeded) -> None:
    everything = api.get("/api/trades").json()
    assert everything["count"] == 4
    assert _trade_rows(everything) == [
        ("BTC-USD", "buy", "60000"),
        ("ETH-BTC", "buy", "0.048"),
        ("ETH-BTC", "sell", "0.055"),
        ("ETH-BTC", "buy", "0.05"),
    ]
    first = everything["data"][0]
    assert (first["base_amount"], first["quote_amount"], first["fee"], first["fee_currency"]) == (
        "0.01",
        "600",
        "3.6",
        "USD",
    )
    sells = api.get(f"/api/trades?bot_id={seeded.eth_bot}&side=sell").json()
    assert _trade_rows(sells) == [("ETH-BTC", "sell", "0.055")]
    of_deal = api.get(f"/api/trades?position_id={seeded.closed}").json()
    assert _trade_rows(of_deal) == [("ETH-BTC", "sell", "0.055"), ("ETH-BTC", "buy", "0.05")]


def test_trade_time_window_is_inclusive_and_takes_iso_date_times(
    api: TestClient, seeded: Seeded
) -> None:
    iso = api.get("/api/trades?since=2024-05-01T13:00:00Z&until=2024-05-01T14:00:00Z").json()
    assert _trade_rows(iso) == [("ETH-BTC", "buy", "0.048"), ("ETH-BTC", "sell", "0.055")]
    offset = api.get("/api/trades", params={"since": "2024-05-01T15:00:00+02:00"}).json()
    assert offset["count"] == 3  # 13:00 UTC
    naive = api.get("/api/trades?until=2024-05-01T12:00:00").json()
    assert _trade_rows(naive) == [("ETH-BTC", "buy", "0.05")]
    paged = api.get("/api/trades?limit=2&offset=1").json()
    assert (len(paged["data"]), paged["count"]) == (2, 4)
    assert _trade_rows(paged)[0] == ("ETH-BTC", "buy", "0.048")


def test_bad_trade_filters_are_422(api: TestClient, subtests: pytest.Subtests) -> None:
    for query, field in [
        ("side=short", "side"),
        ("limit=501", "limit"),
        ("since=yesterday", "since"),
        ("until=2024-13-01", "until"),
    ]:
        with subtests.test(query):
            answer = api.get(f"/api/trades?{query}")
            assert answer.status_code == 422
            assert answer.json()["detail"][0]["loc"] == ["query", field]


def test_signals_are_listed_recent_first(
    api: TestClient, seeded: Seeded, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        eth = session.get(Bot, seeded.eth_bot)
        usd = session.get(Bot, seeded.usd_bot)
        add_signal(session, eth, 1714564800, "hold", price=Decimal("0.05"), reason="")
        add_signal(
            session, eth, 1714565100, "buy", price=Decimal("0.0495"),
            reason="RSI crossed below oversold 30", indicators={"rsi": 28.5},
        )  # fmt: skip
        add_signal(session, usd, 1714564900, "sell", price=Decimal("61000"), reason="x")
    own = api.get(f"/api/bots/{seeded.eth_bot}/signals").json()
    assert own["count"] == 2
    assert own["data"][0] == {
        "id": own["data"][0]["id"],
        "bot_id": seeded.eth_bot,
        "candle_time": 1714565100,
        "created_at": "2024-05-01T12:00:00Z",
        "action": "buy",
        "price": "0.0495",
        "reason": "RSI crossed below oversold 30",
        "indicators": {"rsi": 28.5},
    }
    everything = api.get("/api/signals?limit=2").json()
    assert everything["count"] == 3
    assert [(s["candle_time"], s["action"]) for s in everything["data"]] == [
        (1714565100, "buy"),
        (1714564900, "sell"),
    ]
