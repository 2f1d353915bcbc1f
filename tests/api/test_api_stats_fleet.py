"""GET /api/stats from per-bot sums (``services.deal_figures``) against the per-deal
computation it replaced, on deals worked out by hand, on SQLite (text summed in Python)
and PostgreSQL (NUMERIC summed in SQL).

The bots: A (ETH-BTC, budget 1) closed a win, a loss whose ``realized_pnl`` is empty (so
it is computed), a deal of 1e-18 with 18-place fees, and before that a deal on ETH-USD;
it holds one open deal. B (BTC-USD, budget 1000) closed a computed loss and holds one
deal. C (ETH-BTC, budget 0.5) closed a loss and was deleted. D (SOL-USDC) never traded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from api_testkit import HOUR, LAST_PRICES, T0, add_bot, add_position
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.db.models import Bot, Position
from tradefleet.services import deal_figures
from tradefleet.stats import (
    ClosedSums,
    QuoteTotals,
    bot_share,
    bot_stats,
    quote_currency_of,
    sum_by_quote,
    totals_by_quote,
)

D = Decimal


@dataclass(frozen=True)
class Fleet:
    a: int
    b: int
    c: int
    d: int


def _closed(session: Session, bot: Bot, seq: int, **amounts: str | None) -> None:
    values = {k: None if v is None else D(v) for k, v in amounts.items()}
    add_position(
        session, bot, seq, status="closed", opened_at=T0 + seq * HOUR,
        closed_at=T0 + (seq + 1) * HOUR, **values,
    )  # fmt: skip


@pytest.fixture
def fleet(session_factory: sessionmaker[Session]) -> Fleet:
    with session_factory() as session:
        a = add_bot(session, "a")
        b = add_bot(session, "b", product_id="BTC-USD", budget=D(1000))
        c = add_bot(session, "c", budget=D("0.5"))
        d = add_bot(session, "d", product_id="SOL-USDC", budget=D(200))
        add_position(
            session, a, 1, product_id="ETH-USD", status="closed", opened_at=T0,
            closed_at=T0 + HOUR, bought_quote=D(100), buy_fees=D("0.6"), sold_quote=D("106.7"),
            sell_fees=D("0.6"), realized_pnl=D("5.5"),
        )  # fmt: skip
        _closed(session, a, 2, bought_quote="0.1", buy_fees="0.0006", sold_quote="0.11",
                sell_fees="0.00044", realized_pnl="0.00896")  # fmt: skip
        # 0.18 - 0.00072 - 0.2 - 0.0012 = -0.02192
        _closed(session, a, 3, bought_quote="0.2", buy_fees="0.0012", sold_quote="0.18",
                sell_fees="0.00072", realized_pnl=None)  # fmt: skip
        _closed(session, a, 4, buy_fees="0.123456789012345678", sell_fees="0.000000000000000002",
                realized_pnl="0.000000000000000001")  # fmt: skip
        add_position(
            session, a, 5, opened_at=T0 + 9 * HOUR, base_amount=D(1), bought_base=D(1),
            bought_quote=D("0.048"), buy_fees=D("0.000288"),
        )  # fmt: skip
        # 493.66 - 1.97464 - 500 - 3 = -11.31464
        _closed(session, b, 1, bought_quote="500", buy_fees="3", sold_quote="493.66",
                sell_fees="1.97464", realized_pnl=None)  # fmt: skip
        add_position(
            session, b, 2, opened_at=T0 + 9 * HOUR, base_amount=D("0.01"),
            bought_base=D("0.01"), bought_quote=D(600), buy_fees=D("3.6"),
        )  # fmt: skip
        _closed(session, c, 1, bought_quote="0.05", buy_fees="0.0003", sold_quote="0.049",
                sell_fees="0.0002", realized_pnl="-0.0015")  # fmt: skip
        c.deleted_at = datetime(2024, 6, 1, tzinfo=UTC)
        session.commit()
        return Fleet(a.id, b.id, c.id, d.id)


def test_closed_sums_per_bot_and_product(
    fleet: Fleet, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        sums = deal_figures.closed_sums(session)
        assert sums == {
            fleet.a: {
                "ETH-USD": ClosedSums(1, D("5.5"), D("1.2")),
                # 0.00896 - 0.02192 + 1e-18; 0.0006 + 0.00044 + 0.0012 + 0.00072
                # + 0.123456789012345678 + 2e-18
                "ETH-BTC": ClosedSums(3, D("-0.012959999999999999"), D("0.12641678901234568")),
            },
            fleet.b: {"BTC-USD": ClosedSums(1, D("-11.31464"), D("4.97464"))},
            fleet.c: {"ETH-BTC": ClosedSums(1, D("-0.0015"), D("0.0005"))},
        }
        assert deal_figures.closed_sums(session, [fleet.b, fleet.d]) == {fleet.b: sums[fleet.b]}


def test_the_engine_reads_each_bots_realized_pnl_in_its_own_quote(
    fleet: Fleet, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        bots = [session.get(Bot, bot_id) for bot_id in (fleet.a, fleet.b, fleet.c, fleet.d)]
        assert deal_figures.realized_by_bot(session, [bot for bot in bots if bot]) == {
            fleet.a: D("-0.012959999999999999"),  # its ETH-USD deal is in another currency
            fleet.b: D("-11.31464"),
            fleet.c: D("-0.0015"),
            fleet.d: D(0),
        }


def _per_deal_totals(session: Session) -> dict[str, QuoteTotals]:
    """What GET /api/stats computed before: bot_stats over each bot's deals."""
    positions = list(session.scalars(select(Position).order_by(Position.id)))
    everyone = []
    for bot in session.query(Bot).order_by(Bot.id):
        own = [p for p in positions if p.bot_id == bot.id]
        stats = bot_stats(bot.budget, quote_currency_of(bot.product_id), own, LAST_PRICES)
        everyone.append(stats if bot.deleted_at is None else replace(stats, budget=D(0)))
    return totals_by_quote(everyone)


def test_sums_give_the_per_deal_figures(
    fleet: Fleet, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        snapshot = deal_figures.fleet(session)
        shares = [
            bot_share(
                quote_currency_of(bot.product_id),
                D(0) if bot.deleted else bot.budget,
                snapshot.closed.get(bot.id, {}).values(),
                snapshot.open_deals.get(bot.id, []),
                LAST_PRICES,
            )
            for bot in snapshot.bots
        ]
        assert sum_by_quote(shares) == _per_deal_totals(session)


def test_totals_worked_out_by_hand(api: TestClient, fleet: Fleet) -> None:
    body = api.get("/api/stats").json()
    assert (body["bots"], body["active_bots"]) == (3, 0)
    assert body["totals"] == {
        "BTC": {
            "quote_currency": "BTC",
            "bots": 1,  # A; the deleted C's closed deal counts, its budget does not
            "budget": "1",
            "open_deals": 1,
            "closed_deals": 5,
            # A's 5.5 USD from its ETH-USD days counts in its current quote (see stats)
            "realized_pnl": "5.485540000000000001",  # 5.5 - 0.012959999999999999 - 0.0015
            "unrealized_pnl": "0.003712",  # 1 x 0.052 - 0.048288
            # 1.2 + 0.12641678901234568 + 0.000288 + 0.0005
            "fees_paid": "1.32720478901234568",
            "funds_in_use": "0.048288",
        },
        "USD": {
            "quote_currency": "USD",
            "bots": 1,
            "budget": "1000",
            "open_deals": 1,
            "closed_deals": 1,
            "realized_pnl": "-11.31464",
            "unrealized_pnl": "-3.6",  # 0.01 x 60000 - 603.6
            "fees_paid": "8.57464",  # 4.97464 + 3.6
            "funds_in_use": "603.6",
        },
        "USDC": {
            "quote_currency": "USDC",
            "bots": 1,
            "budget": "200",
            "open_deals": 0,
            "closed_deals": 0,
            "realized_pnl": "0",
            "unrealized_pnl": "0",
            "fees_paid": "0",
            "funds_in_use": "0",
        },
    }


def test_bot_stats_read_the_deal_columns(api: TestClient, fleet: Fleet) -> None:
    body = api.get(f"/api/bots/{fleet.a}/stats").json()
    assert {k: body[k] for k in ("closed_deals", "realized_pnl", "budget_available")} == {
        "closed_deals": 4,
        "realized_pnl": "5.487040000000000001",  # every closed deal, 5.5 USD included
        "budget_available": "0.987040000000000001",  # 1 - 0.012959999999999999 (BTC only)
    }
