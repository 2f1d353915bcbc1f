"""A live ``tradefleet serve`` killed with SIGKILL while its order is at the exchange:
the exchange made the order, its answer never came back, and the database holds the
order as ``sent``. The restarted server looks the order up by its client order id
(never sends it again), takes its fill, and carries on: one order per client order id
on the exchange, every fill once, the deal as worked by hand in test_e2e_live."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from tests.e2e.test_e2e_live import (
    _bought,
    _exchange_orders,
    _first_deal,
    _started_bot,
    _until,
    fake_live_exchange,
    live_server,
)

D = Decimal
ORDERS = "/api/v3/brokerage/orders"


def _stored(tmp_path: Path, client_order_id: str) -> list[tuple[str, str | None]]:
    with sqlite3.connect(tmp_path / "tradefleet.db") as db:
        rows = db.execute(
            "SELECT status, exchange_order_id FROM orders WHERE client_order_id = ?",
            (client_order_id,),
        ).fetchall()
    return [(row[0], row[1]) for row in rows]


def test_a_kill_between_sending_and_storing_loses_and_repeats_nothing(tmp_path: Path) -> None:
    with fake_live_exchange() as live:
        exchange = live.exchange
        with live_server(tmp_path, live) as server:
            # the exchange acts on the next order and holds its answer past the kill
            live.on_exchange(lambda: exchange.account.fake.hang(20, path=ORDERS, method="POST"))
            bot_id = _started_bot(server)
            _until(lambda: "b1" in _exchange_orders(server, bot_id), server.log)
        # SIGKILL: the order was made, the server never heard back
        assert _stored(tmp_path, f"tf-{bot_id}-1-b1") == [("sent", None)]
        assert _exchange_orders(server, bot_id) == {"b1": ("FILLED", "100.00")}
        with live_server(tmp_path, live) as again:
            _bought(again, bot_id)  # found by its client order id, its take profit rests
            deal = _first_deal(again, bot_id)
        status, exchange_order_id = _stored(tmp_path, f"tf-{bot_id}-1-b1")[0]
        assert status == "filled"
        assert exchange_order_id == exchange.by_client(f"tf-{bot_id}-1-b1").order_id
        assert exchange.repeats == 0  # looked up, never sent again
        assert sum(1 for o in exchange.orders.values() if o.client_order_id.endswith("-b1")) == 1
        assert (D(deal["base_amount"]), D(deal["buy_fees"])) == (
            D("0.0019762845"), D("1.1857707"))  # fmt: skip
        with sqlite3.connect(tmp_path / "tradefleet.db") as db:
            fills = db.execute("SELECT COUNT(*) FROM fills").fetchone()[0]
        assert fills == 1  # the buy's one fill, once
