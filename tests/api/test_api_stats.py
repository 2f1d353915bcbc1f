"""GET /bots/{id}/stats and GET /stats on the seeded deals, valued at the fixed last prices
(ETH-BTC 0.052, BTC-USD 60000)."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from api_testkit import HOUR, T0, RecordingEngine, Seeded, add_bot, add_position
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.market.base import MarketUnavailable


def test_bot_stats_are_exact(api: TestClient, seeded: Seeded) -> None:
    answer = api.get(f"/api/bots/{seeded.eth_bot}/stats")
    assert answer.status_code == 200
    assert answer.json() == {
        "bot_id": seeded.eth_bot,
        "account": "paper",
        "quote_currency": "BTC",
        "budget": "1",
        "open_deals": 1,
        "closed_deals": 1,
        "realized_pnl": "0.00896",  # 0.11 - 0.00044 - 0.1 - 0.0006
        "realized_pnl_pct": "0.896",
        "unrealized_pnl": "0.003712",  # 1 ETH x 0.052 - (0.048 + 0.000288)
        "win_rate_pct": "100",
        "average_deal_pnl": "0.00896",
        "average_deal_seconds": 3600,
        "fees_paid": "0.001328",  # 0.0006 + 0.00044 + 0.000288
        "max_drawdown_pct": "0",
        "funds_in_use": "0.048288",
        "budget_available": "1",  # a profit is not reinvested without compound_profits
        "budget_free": "0.951712",  # 1 - 0.048288
        "dust": {},
    }


def test_totals_are_keyed_by_quote_currency(
    api: TestClient, seeded: Seeded, engine: RecordingEngine
) -> None:
    api.post(f"/api/bots/{seeded.usd_bot}/start")
    assert api.get("/api/stats").json() == {
        "bots": 2,
        "active_bots": 1,
        "totals": {
            "BTC": {
                "quote_currency": "BTC",
                "bots": 1,
                "budget": "1",
                "open_deals": 1,
                "closed_deals": 1,
                "realized_pnl": "0.00896",
                "unrealized_pnl": "0.003712",
                "fees_paid": "0.001328",
                "funds_in_use": "0.048288",
            },
            "USD": {
                "quote_currency": "USD",
                "bots": 1,
                "budget": "1000",
                "open_deals": 1,
                "closed_deals": 0,
                "realized_pnl": "0",
                "unrealized_pnl": "-3.6",  # 0.01 BTC x 60000 - (600 + 3.6)
                "fees_paid": "3.6",
                "funds_in_use": "603.6",
            },
        },
    }


def test_without_last_prices_unrealized_is_null_not_wrong(
    api: TestClient, seeded: Seeded, engine: RecordingEngine
) -> None:
    engine.market.down = True
    body = api.get(f"/api/bots/{seeded.eth_bot}/stats").json()
    assert (body["unrealized_pnl"], body["realized_pnl"]) == (None, "0.00896")
    totals = api.get("/api/stats").json()["totals"]
    assert (totals["BTC"]["unrealized_pnl"], totals["USD"]["unrealized_pnl"]) == (None, None)


def test_an_exchange_outage_is_one_log_line_per_price_not_a_traceback(
    api: TestClient, seeded: Seeded, engine: RecordingEngine, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    async def unavailable(product_id: str) -> Decimal:
        raise MarketUnavailable(f"ExchangeNotAvailable: coinbase ticker {product_id} 503")

    monkeypatch.setattr(engine.market, "last_price", unavailable)
    caplog.set_level(logging.WARNING, logger="tradefleet.api.routers.stats")
    assert api.get(f"/api/bots/{seeded.eth_bot}/stats").json()["unrealized_pnl"] is None
    [record] = [r for r in caplog.records if r.name == "tradefleet.api.routers.stats"]
    assert record.getMessage() == (
        "no last price for ETH-BTC: ExchangeNotAvailable: coinbase ticker ETH-BTC 503"
    )
    assert record.exc_info is None


def test_stats_with_no_bots(api: TestClient) -> None:
    assert api.get("/api/stats").json() == {"bots": 0, "active_bots": 0, "totals": {}}


def test_a_deleted_bots_closed_deals_still_count_in_the_totals(
    api: TestClient, seeded: Seeded, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        old = add_bot(session, "old", budget=Decimal("0.5"))
        add_position(
            session, old, 1, status="closed", opened_at=T0, closed_at=T0 + HOUR,
            bought_base=Decimal(1), bought_quote=Decimal("0.05"), buy_fees=Decimal("0.0003"),
            sold_base=Decimal(1), sold_quote=Decimal("0.049"), sell_fees=Decimal("0.0002"),
            realized_pnl=Decimal("-0.0015"),
        )  # fmt: skip
        old_id = old.id
    before = api.get("/api/stats").json()
    assert before["bots"] == 3
    assert before["totals"]["BTC"]["bots"] == 2
    assert before["totals"]["BTC"]["budget"] == "1.5"
    assert api.delete(f"/api/bots/{old_id}").status_code == 204
    after = api.get("/api/stats").json()
    assert (after["bots"], after["active_bots"]) == (2, 0)
    assert after["totals"]["BTC"] == {
        "quote_currency": "BTC",
        "bots": 1,
        "budget": "1",  # the deleted bot's 0.5 is gone
        "open_deals": 1,
        "closed_deals": 2,
        "realized_pnl": "0.00746",  # 0.00896 - 0.0015
        "unrealized_pnl": "0.003712",
        "fees_paid": "0.001828",  # 0.001328 + 0.0003 + 0.0002
        "funds_in_use": "0.048288",
    }
    assert after["totals"]["BTC"] == {**before["totals"]["BTC"], "bots": 1, "budget": "1"}
