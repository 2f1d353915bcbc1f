"""``tradefleet serve`` trading live (``TRADEFLEET_MODE=live``) on the fake exchange with a
freshly generated CDP-style key: the real ccxt client signs every request (the fake
checks each JWT), a bot with the live account buys, rests its take profit, is stopped
out by the engine's price watch or by the emergency stop, and the database agrees with
the exchange to the last increment. The key's material never reaches the log or the
database.

The deal is worked by hand in tests/brokers/test_live_stops.py: a 100 USD market buy at
50,000 fills 0.0019762845 BTC for 98.814225 USD + a 1.2 % fee of 1.1857707; its take
profit rests at 51,000 for 0.00197628 and its stop is watched at 47,500.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.test_e2e_serve_proxies import PASSWORD, serving
from tests.fakes.coinbase_orders import FakeOrders, running_fake_exchange
from tests.fakes.coinbase_private import in_thread
from tradefleet.domain import Candle

D = Decimal
MINUTE = 60
DCA = {  # one 100 USD buy a minute, at most 100 USD a deal: one buy per deal
    "buy_amount": 100, "interval_minutes": 1, "max_position_pct": 10,
    "take_profit_pct": 2, "stop_loss_pct": 5,
}  # fmt: skip


@dataclass
class LiveExchange:
    exchange: FakeOrders
    settings: dict[str, str]  # TRADEFLEET_* that point a live server at it
    secret: str  # the key's private key (PEM)
    on_exchange: Callable[[Callable[[], None]], None]  # run a change on the fake's loop


@dataclass
class LiveServer:
    live: LiveExchange
    client: httpx.Client
    log: Path

    @property
    def exchange(self) -> FakeOrders:
        return self.live.exchange


def _flat_candles(price: float) -> list[Candle]:
    """1 m candles at ``price`` from five hours ago to an hour ahead (the fake serves
    those the engine asks for: up to the last closed minute on its clock)."""
    now = int(time.time()) // MINUTE * MINUTE
    return [
        Candle(time=t, open=price, high=price, low=price, close=price, volume=1.0)
        for t in range(now - 300 * MINUTE, now + 60 * MINUTE, MINUTE)
    ]


@contextmanager
def fake_live_exchange() -> Iterator[LiveExchange]:
    """BTC-USD at 50,000 on an account of 10,000 USD, with a new EC key."""
    with in_thread(running_fake_exchange) as (exchange, loop):
        account = exchange.account
        account.fake.add_product(
            "BTC-USD", price="50000", base_min_size="0.0001", quote_min_size="1"
        )
        account.fake.set_candles("BTC-USD", MINUTE, _flat_candles(50000.0))
        account.set_balance("USD", "10000")
        account.set_balance("BTC", "0")
        name, pem = account.add_ec_key()
        settings = {
            "TRADEFLEET_MODE": "live",
            "TRADEFLEET_MARKET": "exchange",
            "TRADEFLEET_EXCHANGE_API_URL": account.fake.url,
            "TRADEFLEET_API_KEY": name,
            "TRADEFLEET_API_SECRET": pem.replace("\n", "\\n"),  # pasted on one line
        }

        def on_exchange(change: Callable[[], None]) -> None:
            loop.call_soon_threadsafe(change)

        yield LiveExchange(exchange, settings, pem, on_exchange)
        assert account.refusals == []  # every request carried a valid JWT


@contextmanager
def live_server(tmp_path: Path, live: LiveExchange | None = None) -> Iterator[LiveServer]:
    """A logged-in live server (on a new fake exchange unless ``live``)."""
    with ExitStack() as stack:
        if live is None:
            live = stack.enter_context(fake_live_exchange())
        client, log = stack.enter_context(serving(tmp_path, **live.settings))
        token = client.post(
            "/api/auth/login", json={"username": "admin", "password": PASSWORD}
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        _until(lambda: client.get("/api/health").json()["engine"]["live"]["usable"], log)
        yield LiveServer(live, client, log)


def _until(condition: Callable[[], Any], log: Path, seconds: float = 90.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out; the server's log:\n{log.read_text()[-4000:]}")


BOT = {
    "name": "live dca", "strategy_type": "simple_dca", "product_id": "BTC-USD",
    "timeframe": "1m", "budget": "1000", "account": "live", "strategy_config": DCA,
}  # fmt: skip


def _started_bot(server: LiveServer) -> int:
    answer = server.client.post("/api/bots", json=BOT)
    assert answer.status_code == 201, answer.text
    bot_id = int(answer.json()["id"])
    assert answer.json()["account"] == "live"
    assert server.client.post(f"/api/bots/{bot_id}/start").status_code == 200
    return bot_id


def _exchange_orders(server: LiveServer, bot_id: int) -> dict[str, tuple[str, str]]:
    prefix = f"tf-{bot_id}-1-"
    return {
        o.client_order_id.removeprefix(prefix): (o.status, f"{o.quote_size or o.base_size}")
        for o in list(server.exchange.orders.values())
        if o.client_order_id.startswith(prefix)
    }


def _bought(server: LiveServer, bot_id: int) -> None:
    """Wait for the first deal's buy and take profit; the stop is not on the exchange."""
    _until(lambda: "tp2" in _exchange_orders(server, bot_id), server.log)
    assert _exchange_orders(server, bot_id) == {
        "b1": ("FILLED", "100.00"), "tp2": ("OPEN", "0.00197628")}  # fmt: skip


def _first_deal(server: LiveServer, bot_id: int) -> dict[str, Any]:
    deals = server.client.get("/api/positions", params={"bot_id": bot_id}).json()["data"]
    return next(deal for deal in deals if deal["seq"] == 1)


def _closed_deal(server: LiveServer, bot_id: int) -> dict[str, Any]:
    return _until(
        lambda: (deal := _first_deal(server, bot_id))["status"] == "closed" and deal, server.log
    )


def _no_secret_anywhere(server: LiveServer, tmp_path: Path) -> None:
    body = "".join(line for line in server.live.secret.splitlines() if "-----" not in line)
    for chunk in (body[i : i + 24] for i in range(0, len(body) - 24, 24)):
        for path in (server.log, tmp_path / "tradefleet.db"):
            assert chunk.encode() not in path.read_bytes(), path


def test_a_live_bot_is_stopped_out_by_the_price_watch(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        bot_id = _started_bot(server)
        _bought(server, bot_id)
        deal = _first_deal(server, bot_id)
        assert (D(deal["base_amount"]), D(deal["stop_price"])) == (
            D("0.0019762845"), D("47500.00"))  # fmt: skip
        fake = server.exchange.account.fake
        server.live.on_exchange(lambda: fake.prices.__setitem__("BTC-USD", "47400"))
        deal = _closed_deal(server, bot_id)  # within a few seconds, not at the next close
        assert (deal["close_reason"], D(deal["realized_pnl"])) == ("stop_loss", D("-7.448431764"))
        orders = _exchange_orders(server, bot_id)
        assert orders == {"b1": ("FILLED", "100.00"), "tp2": ("CANCELLED", "0.00197628"),
                          "st3": ("FILLED", "0.00197628")}  # fmt: skip
        balances = server.exchange.account.balances
        # 0.0019762845 - 0.00197628 = 0.0000000045 BTC of dust; USD: 10,000 - 99.9999957
        # + 0.00197628 x 47,400 x (1 - 1.2 %)
        assert balances["BTC"] == (D("0.0000000045"), 0)
        assert balances["USD"][0] == D("9992.551568236") or _opened_again(server, bot_id)
        stats = server.client.get(f"/api/bots/{bot_id}/stats").json()
        assert stats["account"] == "live" and stats["dust"] == {"BTC": "0.0000000045"}
    _no_secret_anywhere(server, tmp_path)


def _opened_again(server: LiveServer, bot_id: int) -> bool:
    """A minute passed and the bot bought again (its second deal): fine, shown here."""
    return any(o.client_order_id.startswith(f"tf-{bot_id}-2-")
               for o in list(server.exchange.orders.values()))  # fmt: skip


def test_the_emergency_stop_cancels_on_the_exchange_and_sells(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        bot_id = _started_bot(server)
        _bought(server, bot_id)
        answer = server.client.post("/api/emergency-stop", json={"sell_all": True})
        assert answer.status_code == 200, answer.text
        report = answer.json()
        assert (report["orders_cancelled"], report["sells_placed"], report["problems"]) == (
            1, 1, [])  # fmt: skip
        orders = _exchange_orders(server, bot_id)
        assert orders == {"b1": ("FILLED", "100.00"), "tp2": ("CANCELLED", "0.00197628"),
                          "m4": ("FILLED", "0.00197628")}  # fmt: skip
        deal = _closed_deal(server, bot_id)
        # 0.00197628 x 50,000 = 98.814, 1.2 % fee 1.185768: 97.628232 back for 99.9999957
        assert (deal["close_reason"], D(deal["realized_pnl"])) == ("manual", D("-2.3717637"))
        bot = server.client.get(f"/api/bots/{bot_id}").json()
        assert bot["is_active"] is False and bot["halted_at"] is not None
        assert server.exchange.account.balances["USD"] == (D("9997.6282363"), 0)
    _no_secret_anywhere(server, tmp_path)


def test_an_unknown_tradefleet_order_on_the_exchange_stops_the_bot(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        bot_id = int(server.client.post("/api/bots", json=BOT).json()["id"])
        # an order with the bot's own id prefix that this database never made
        unknown = f"tf-{bot_id}-9-b1"
        server.live.on_exchange(lambda: server.exchange.place_by_hand(
            unknown, "BTC-USD", "BUY", "0.001", "40000"))  # fmt: skip
        assert server.client.post(f"/api/bots/{bot_id}/start").status_code == 200
        message = f"order {unknown} is open on the exchange but unknown here"
        bot = _until(
            lambda: (b := server.client.get(f"/api/bots/{bot_id}").json())["last_error"] and b,
            server.log,
        )
        assert (bot["last_error"], bot["is_active"]) == (message, False)
        assert list(_exchange_orders(server, bot_id)) == []  # it opened nothing
        health = server.client.get("/api/health").json()
        assert health["engine"]["live"]["reconciliation"]["problems"] == [message]
        signals = server.client.get(f"/api/bots/{bot_id}/signals").json()["data"]
        assert [s["reason"] for s in signals if s["action"] == "error"] == [message]


def test_a_manual_close_cancels_the_take_profit_and_sells_at_once(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        bot_id = _started_bot(server)
        _bought(server, bot_id)
        deal = _first_deal(server, bot_id)
        answer = server.client.post(f"/api/positions/{deal['id']}/close")
        assert answer.status_code in (200, 202, 204), answer.text
        deal = _first_deal(server, bot_id)  # closed before the answer, not at the next candle
        # as the emergency stop's sell: 97.628232 back for 99.9999957
        assert (deal["status"], deal["close_reason"], D(deal["realized_pnl"])) == (
            "closed", "manual", D("-2.3717637"))  # fmt: skip
        assert _exchange_orders(server, bot_id) == {
            "b1": ("FILLED", "100.00"), "tp2": ("CANCELLED", "0.00197628"),
            "m4": ("FILLED", "0.00197628")}  # fmt: skip
        again = server.client.post(f"/api/positions/{deal['id']}/close")
        assert (again.status_code, again.json()["detail"]) == (409, "position 1 is already closed")
