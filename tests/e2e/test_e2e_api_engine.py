"""The REST API on the real engine and a simulated market: what a user does, end to end."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from tests.engine.engine_testkit import BUSY_CONFIGS, Harness, ledger_mismatches, make_harness
from tradefleet.api.app import create_app
from tradefleet.config import MarketKind, Settings

PASSWORD = "a long enough test password"


@pytest.fixture
async def platform(migrated_url: str) -> AsyncIterator[tuple[Harness, httpx.AsyncClient]]:
    harness = await make_harness(migrated_url)
    settings = Settings(
        database_url=migrated_url,
        market=MarketKind.SIMULATED,
        admin_password=SecretStr(PASSWORD),
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(settings, harness.sessions, harness.engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        login = await client.post(
            "/api/auth/login", json={"username": "admin", "password": PASSWORD}
        )
        assert login.status_code == 200
        client.cookies.clear()
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        yield harness, client


async def _create(client: httpx.AsyncClient, name: str, strategy: str, config: Any) -> int:
    answer = await client.post(
        "/api/bots",
        json={
            "name": name,
            "strategy_type": strategy,
            "strategy_config": config,
            "product_id": "ETH-BTC",
            "timeframe": "1m",
            "budget": "0.1",
        },
    )
    assert answer.status_code == 201, answer.text
    bot_id = int(answer.json()["id"])
    started = await client.post(f"/api/bots/{bot_id}/start")
    assert started.status_code == 200, started.text
    return bot_id


async def _all(client: httpx.AsyncClient, path: str, **query: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        params = {**query, "limit": "500", "offset": str(len(rows))}
        page = (await client.get(path, params=params)).json()
        rows.extend(page["data"])
        if len(rows) >= page["count"]:
            return rows


async def test_bots_made_through_the_api_trade_and_the_numbers_add_up(
    platform: tuple[Harness, httpx.AsyncClient],
) -> None:
    harness, client = platform
    ids = {s: await _create(client, f"{s} bot", s, c) for s, c in BUSY_CONFIGS.items()}
    await harness.run(300)

    for strategy, bot_id in ids.items():
        stats = (await client.get(f"/api/bots/{bot_id}/stats")).json()
        assert stats["closed_deals"] >= 1, (strategy, stats)
        bot = (await client.get(f"/api/bots/{bot_id}")).json()
        assert bot["last_error"] is None
        assert bot["last_signal_check"] is not None

    trades = await _all(client, "/api/trades")
    balances = {b["currency"]: b for b in (await client.get("/api/market/balances")).json()["data"]}
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for currency, row in balances.items():
        expected[currency] = Decimal(row["starting"])
    for trade in trades:
        quote, fee = Decimal(trade["quote_amount"]), Decimal(trade["fee"])
        if trade["side"] == "buy":
            expected["ETH"] += Decimal(trade["base_amount"])
            expected["BTC"] -= quote + fee
        else:
            expected["ETH"] -= Decimal(trade["base_amount"])
            expected["BTC"] += quote - fee
    assert {c: Decimal(b["total"]) for c, b in balances.items()} == dict(expected)

    closed = await _all(client, "/api/positions", status="closed")
    realized = sum((Decimal(p["realized_pnl"]) for p in closed), Decimal(0))
    totals = (await client.get("/api/stats")).json()
    assert Decimal(totals["totals"]["BTC"]["realized_pnl"]) == realized
    assert totals["totals"]["BTC"]["closed_deals"] == len(closed)


async def test_stop_close_and_delete_a_bot(platform: tuple[Harness, httpx.AsyncClient]) -> None:
    harness, client = platform
    config = {"buy_amount": 0.01, "interval_minutes": 60, "take_profit_pct": 50}
    bot_id = await _create(client, "dca", "simple_dca", config)
    await harness.run(3)
    positions = (await client.get(f"/api/bots/{bot_id}/positions")).json()["data"]
    assert [p["status"] for p in positions] == ["open"]

    assert (await client.post(f"/api/bots/{bot_id}/stop")).status_code == 200
    refused = await client.delete(f"/api/bots/{bot_id}")
    assert refused.status_code == 409
    assert "close its positions first" in refused.json()["detail"]

    closing = await client.post(f"/api/positions/{positions[0]['id']}/close")
    assert closing.status_code == 200, closing.text
    await harness.run(1)
    position = (await client.get(f"/api/positions/{positions[0]['id']}")).json()
    assert (position["status"], position["close_reason"]) == ("closed", "manual")
    assert [o["purpose"] for o in position["orders"]] == ["base", "take_profit", "manual_close"]
    assert [o["status"] for o in position["orders"]] == ["filled", "cancelled", "filled"]

    again = await client.post(f"/api/positions/{positions[0]['id']}/close")
    assert again.status_code == 409
    assert (await client.delete(f"/api/bots/{bot_id}")).status_code == 204
    assert (await client.get(f"/api/bots/{bot_id}")).status_code == 404
    await harness.engine.run_cycle()  # the delete woke the engine: its next sync drops it
    assert harness.engine.registry.get(bot_id) is None


async def test_an_edit_takes_effect_without_a_restart(
    platform: tuple[Harness, httpx.AsyncClient],
) -> None:
    harness, client = platform
    bot_id = await _create(client, "edited", "rsi", {})
    await harness.run(2)
    runtime = harness.engine.registry.get(bot_id)
    assert runtime is not None and runtime.strategy.params["oversold"] == 30
    answer = await client.put(f"/api/bots/{bot_id}", json={"strategy_config": {"oversold": 25}})
    assert answer.status_code == 200, answer.text
    await harness.run(1)  # the next cycle reloads the bot, then steps it
    runtime = harness.engine.registry.get(bot_id)
    assert runtime is not None and runtime.strategy.params["oversold"] == 25
    assert harness.engine.last_cycle.bots_stepped == 1


async def test_closing_a_deal_with_a_buy_in_flight_is_a_conflict(
    platform: tuple[Harness, httpx.AsyncClient],
) -> None:
    harness, client = platform
    config = {"buy_amount": 0.01, "interval_minutes": 1, "take_profit_pct": 50}
    bot_id = await _create(client, "dca", "simple_dca", config)
    await harness.run(3)  # a new add is decided on every candle
    [position] = (await client.get(f"/api/bots/{bot_id}/positions")).json()["data"]
    answer = await client.post(f"/api/positions/{position['id']}/close")
    assert answer.status_code == 409
    assert "has a market buy in flight" in answer.json()["detail"]
    huge = await client.get("/api/positions/99999999999999999999999")
    assert huge.status_code == 422
    assert huge.json()["detail"][0]["loc"] == ["path", "position_id"]


async def test_deleting_a_bot_that_traded_keeps_its_history_and_the_ledger(
    platform: tuple[Harness, httpx.AsyncClient],
) -> None:
    harness, client = platform
    busy = await _create(client, "busy", "rsi", BUSY_CONFIGS["rsi"])
    other = await _create(client, "other", "ema_cross", BUSY_CONFIGS["ema_cross"])
    await harness.run(120)
    assert (await client.post(f"/api/bots/{busy}/stop")).status_code == 200
    for deal in await _all(client, "/api/positions", bot_id=str(busy), status="open"):
        assert (await client.post(f"/api/positions/{deal['id']}/close")).status_code == 200
    await harness.run(2)
    assert await _all(client, "/api/positions", bot_id=str(busy), status="open") == []
    trades = await _all(client, "/api/trades", bot_id=str(busy))
    deals = await _all(client, "/api/positions", bot_id=str(busy))
    assert len([d for d in deals if d["status"] == "closed"]) >= 2
    stats_before = (await client.get("/api/stats")).json()

    assert (await client.delete(f"/api/bots/{busy}")).status_code == 204
    assert ledger_mismatches(harness.sessions) == []
    assert await _all(client, "/api/trades", bot_id=str(busy)) == trades
    assert await _all(client, "/api/positions", bot_id=str(busy)) == deals
    assert (await client.get(f"/api/bots/{busy}")).status_code == 404
    assert (await client.get(f"/api/bots/{busy}/positions")).status_code == 404
    assert [b["id"] for b in (await client.get("/api/bots")).json()["data"]] == [other]
    assert harness.engine.registry.get(busy) is None
    stats_after = (await client.get("/api/stats")).json()
    assert (stats_after["bots"], stats_after["active_bots"]) == (1, 1)
    btc_before, btc_after = stats_before["totals"]["BTC"], stats_after["totals"]["BTC"]
    assert (btc_after["bots"], btc_after["budget"]) == (1, "0.1")  # budget was 0.2
    for key in ("realized_pnl", "closed_deals", "fees_paid", "open_deals", "funds_in_use"):
        assert btc_after[key] == btc_before[key], key

    reused = await _create(client, "busy", "rsi", BUSY_CONFIGS["rsi"])
    assert reused != busy
    await harness.run(60)
    assert harness.engine.registry.get(busy) is None
    assert await _all(client, "/api/trades", bot_id=str(busy)) == trades
    assert await _all(client, "/api/trades", bot_id=str(reused)) != []
    assert ledger_mismatches(harness.sessions) == []
