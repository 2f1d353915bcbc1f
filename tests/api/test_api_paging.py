"""Cursor paging of the lists that grow with history: rows inserted between two page
requests neither shift nor repeat rows (offset paging repeated 156 rows in one pass).

Each walk pages with a small limit and inserts rows between pages: some newer than every
row (the pass started before them: not listed), some that sort after the cursor (listed,
where they belong), some with the cursor's own time but a higher id (before the cursor:
not listed). Every row present at the start comes exactly once, in (time, id) order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import pytest
from api_testkit import HOUR, T0, add_bot, add_order_with_fill, add_position, add_signal
from backtests_testkit import backtest_payload
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.api.schemas.backtests import BacktestCreate
from tradefleet.db.models import Backtest, Bot, Position
from tradefleet.domain import FeeSchedule

MINUTE = HOUR / 60


def _walk(
    api: TestClient, path: str, limit: int, between: Callable[[int], None] = lambda _: None
) -> tuple[list[int], list[dict[str, object]]]:
    """Ids of a whole cursor pass; ``between(n)`` runs after page n (1-based)."""
    ids: list[int] = []
    pages = []
    cursor = None
    joiner = "&" if "?" in path else "?"
    while True:
        query = f"{path}{joiner}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        answer = api.get(query)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages.append(body)
        ids += [row["id"] for row in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return ids, pages
        between(len(pages))


class Fills:
    """One deal whose fills are added at chosen times; each call returns the fill's id."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.sessions = session_factory
        with session_factory() as session:
            bot = add_bot(session, "fills")
            self.position = add_position(session, bot, 1)
        self.step = 0

    def add(self, at: datetime) -> int:
        with self.sessions() as session:
            position = session.get(Position, self.position.id)
            assert position is not None
            order = add_order_with_fill(
                session, position, self.step, side="buy", price="0.05", base="1",
                fee="0.0003", time=at,
            )  # fmt: skip
            self.step += 1
            return order.fills[0].id


def test_a_cursor_pass_over_trades_lists_every_fill_once(
    api: TestClient, session_factory: sessionmaker[Session]
) -> None:
    fills = Fills(session_factory)
    f1 = fills.add(T0)
    f2, f3, f4 = (fills.add(T0 + HOUR) for _ in range(3))  # one time, three ids
    f5 = fills.add(T0 + 2 * HOUR)
    f6 = fills.add(T0 + 3 * HOUR)
    f7 = fills.add(T0)  # older than f2..f6 but inserted after them
    late: list[int] = []

    def arrive(page: int) -> None:
        if page == 1:  # cursor (2h, f5)
            fills.add(T0 + 5 * HOUR)  # newest of all: the pass started before it
            late.append(fills.add(T0 + HOUR))  # after the cursor: listed, first of 1h
        if page == 2:  # cursor (1h, f4)
            fills.add(T0 + HOUR)  # the cursor's time, a higher id: before it
            late.append(fills.add(T0 + 30 * MINUTE))  # after the cursor: listed

    ids, pages = _walk(api, "/api/trades", 2, arrive)
    g2, g4 = late
    assert ids == [f6, f5, g2, f4, f3, f2, g4, f7, f1]
    assert [len(p["data"]) for p in pages] == [2, 2, 2, 2, 1]
    assert [p["count"] for p in pages] == [7, 9, 11, 11, 11]  # every matching fill
    times = [row["time"] for p in pages for row in p["data"]]
    assert times == sorted(times, reverse=True)


def test_trade_filters_hold_across_pages(
    api: TestClient, session_factory: sessionmaker[Session]
) -> None:
    fills = Fills(session_factory)
    ids = [fills.add(T0 + n * HOUR) for n in range(5)]
    since = (T0 + HOUR).isoformat().replace("+00:00", "Z")
    walked, pages = _walk(api, f"/api/trades?since={since}&side=buy", 3)
    assert walked == [ids[4], ids[3], ids[2], ids[1]]
    assert [p["count"] for p in pages] == [4, 4]
    offset = api.get("/api/trades?limit=2&offset=3").json()  # still served, deprecated
    assert [row["id"] for row in offset["data"]] == [ids[1], ids[0]]


def _open(session_factory: sessionmaker[Session], bot_id: int, seq: int, at: datetime) -> int:
    with session_factory() as session:
        bot = session.get(Bot, bot_id)
        assert bot is not None
        return add_position(session, bot, seq, opened_at=at).id


def test_a_cursor_pass_over_positions_lists_every_deal_once(
    api: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        a, b = add_bot(session, "a").id, add_bot(session, "b").id
    p1 = _open(session_factory, a, 1, T0)
    p2 = _open(session_factory, b, 1, T0 + HOUR)
    p3 = _open(session_factory, a, 2, T0 + HOUR)  # same time as p2, higher id
    p4 = _open(session_factory, b, 2, T0 + 2 * HOUR)
    newest: list[int] = []
    late: list[int] = []

    def arrive(page: int) -> None:
        if page == 1:  # cursor (1h, p3)
            newest.append(_open(session_factory, a, 3, T0 + 4 * HOUR))  # not in this pass
            late.append(_open(session_factory, b, 3, T0 + 30 * MINUTE))  # after: listed

    ids, _ = _walk(api, "/api/positions", 2, arrive)
    assert ids == [p4, p3, p2, late[0], p1]
    own, pages = _walk(api, f"/api/bots/{a}/positions", 1)
    assert own == [newest[0], p3, p1]
    assert [p["count"] for p in pages] == [3, 3, 3]
    opened, _ = _walk(api, f"/api/positions?bot_id={b}&status=open", 2)
    assert opened == [p4, p2, late[0]]


def test_a_cursor_pass_over_signals_lists_every_signal_once(
    api: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        bot = add_bot(session, "signals")
        bot_id = bot.id
        first = [add_signal(session, bot, t, "hold").id for t in (100, 200, 200, 300)]
    newest: list[int] = []
    late: list[int] = []

    def arrive(page: int) -> None:
        with session_factory() as session:
            bot = session.get(Bot, bot_id)
            assert bot is not None
            if page == 1:  # cursor (200, first[2])
                newest.append(add_signal(session, bot, 400, "buy").id)  # not in this pass
                late.append(add_signal(session, bot, 150, "sell").id)  # after: listed

    ids, _ = _walk(api, "/api/signals", 2, arrive)
    assert ids == [first[3], first[2], first[1], late[0], first[0]]
    own, pages = _walk(api, f"/api/bots/{bot_id}/signals", 4)
    assert own == [newest[0], *ids]
    assert [p["count"] for p in pages] == [6, 6]


def test_a_cursor_pass_over_backtests_lists_every_run_once(
    api: TestClient, session_factory: sessionmaker[Session]
) -> None:
    request = BacktestCreate.model_validate(backtest_payload()).to_request(FeeSchedule())

    def run() -> int:
        with session_factory() as session:
            row = Backtest(request=request.to_json(), status="done", progress=1.0)
            session.add(row)
            session.commit()
            return row.id

    first = [run() for _ in range(5)]
    ids, pages = _walk(api, "/api/backtests", 2, lambda page: run())
    assert ids == first[::-1]
    assert [p["count"] for p in pages] == [5, 6, 7]


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("/api/trades", "abc"),
        ("/api/trades", "1_0"),  # ids start at 1
        ("/api/trades", "1_2147483648"),  # above a 32-bit id
        ("/api/trades", "9999999999999999999_1"),  # past year 9999
        ("/api/positions", "-9999999999999999999_1"),  # before year 1
        ("/api/signals", "2147483648_1"),  # candle times are 32-bit
        ("/api/backtests", "1_1_1"),
        ("/api/backtests", "1" * 41),
        ("/api/trades", "١_١"),  # Arabic-Indic digits: \d took them, int() read them as 1_1
    ],
)
def test_a_cursor_this_server_did_not_give_is_a_422(
    api: TestClient, path: str, cursor: str
) -> None:
    answer = api.get(f"{path}?cursor={cursor}")
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_a_cursor_at_the_oldest_row_gives_an_empty_last_page(
    api: TestClient, session_factory: sessionmaker[Session]
) -> None:
    fills = Fills(session_factory)
    only = fills.add(T0)
    micros = int(T0.timestamp()) * 1_000_000
    assert api.get(f"/api/trades?cursor={micros}_{only}").json() == {
        "data": [],
        "count": 1,
        "next_cursor": None,
    }
    assert Decimal(api.get("/api/trades").json()["data"][0]["price"]) == Decimal("0.05")
