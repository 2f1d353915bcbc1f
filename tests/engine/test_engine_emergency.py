"""The emergency stop on a real engine over the simulated market: every bot halted, every
working order cancelled with its funds released, the deals sold at the next open when
asked, nothing placed while halted, and the exits back once a bot is started again."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.engine.engine_testkit import (
    Harness,
    create_bot,
    fill_rows,
    ledger_mismatches,
    make_harness,
)
from tradefleet.db.models import Bot, Order, PaperBalance, Position
from tradefleet.money import fee_for
from tradefleet.services import bots as bot_service

# Deals open on RSI dips and stay open: the take profit is far away and a signal exit
# needs 1 % profit at an RSI of 99; each deal rests two safety buys and a take profit.
HOLDER = {
    "rsi_period": 7,
    "oversold": 45,
    "overbought": 99,
    "take_profit_pct": 50,
    "safety_order_count": 2,
    "safety_order_deviation_pct": 0.3,
}
RESTING = ("safety", "take_profit")


def _working(sessions: sessionmaker[Session]) -> list[tuple[int, str, str]]:
    with sessions() as session:
        rows = session.scalars(
            select(Order).where(Order.status.in_(("pending", "open"))).order_by(Order.id)
        )
        return [(row.bot_id, row.purpose, row.client_order_id) for row in rows]


def _held(sessions: sessionmaker[Session]) -> dict[str, Decimal]:
    """What the paper account holds back, per currency (none left at zero)."""
    with sessions() as session:
        return {row.currency: row.hold for row in session.scalars(select(PaperBalance)) if row.hold}


def _deal_base(sessions: sessionmaker[Session]) -> dict[str, Decimal]:
    """The base the open deals hold, per base currency: the account holds exactly that
    back once no order works (a deal's base is kept for its own sell)."""
    held: dict[str, Decimal] = {}
    with sessions() as session:
        for deal in session.scalars(select(Position).where(Position.status == "open")):
            base = deal.product_id.split("-")[0]
            held[base] = held.get(base, Decimal(0)) + deal.base_amount
    return held


async def _two_bots_with_deals(harness: Harness) -> tuple[int, int]:
    """Two bots on two products, each with an open deal resting its safety buys and take
    profit, and no market order in flight."""
    first = await create_bot(harness, "rsi one", "rsi", HOLDER)
    second = await create_bot(harness, "rsi two", "rsi", HOLDER, product_id="BTC-USD",
                              budget="1000")  # fmt: skip
    for _ in range(600):
        await harness.run(1)
        working = _working(harness.sessions)
        resting = {(bot, purpose) for bot, purpose, _ in working}
        if resting == {(bot, kind) for bot in (first, second) for kind in RESTING}:
            break
    else:
        raise AssertionError(f"no deals resting their orders: {working}")
    held = _held(harness.sessions)  # the resting safety buys hold quote too
    assert held["USD"] > 0 and held["BTC"] > _deal_base(harness.sessions)["BTC"]
    return first, second


async def test_emergency_stop_cancels_everything_and_halts_every_bot(migrated_url: str) -> None:
    harness = await make_harness(migrated_url)
    first, second = await _two_bots_with_deals(harness)
    stopped_idle = await create_bot(harness, "idle", "rsi", {}, start=False)
    working = _working(harness.sessions)
    with harness.sessions() as session:
        deals_before = {
            row.bot_id: row.base_amount
            for row in session.scalars(select(Position).where(Position.status == "open"))
        }
    report = await harness.engine.emergency_stop(sell_all=False)
    assert [(bot.bot_id, bot.sells_placed, bot.problems) for bot in report.bots] == [
        (first, 0, []),
        (second, 0, []),
    ]  # the stopped bot without deals had nothing to halt
    assert report.orders_cancelled == len(working), (report, working)
    assert _working(harness.sessions) == []
    assert _held(harness.sessions) == _deal_base(harness.sessions)  # buys' quote released
    with harness.sessions() as session:
        bots = {bot.id: bot for bot in session.scalars(select(Bot))}
        assert [bots[i].is_active for i in (first, second, stopped_idle)] == [False] * 3
        assert bots[first].halted_at is not None and bots[second].halted_at is not None
        assert bots[stopped_idle].halted_at is None
        assert bots[first].manager_state.get("halted") is True
    fills_before = fill_rows(harness.sessions)
    await harness.run(90)  # an hour and a half: the DCA would have bought again
    assert fill_rows(harness.sessions) == fills_before
    assert _working(harness.sessions) == []
    with harness.sessions() as session:
        deals_after = {
            row.bot_id: row.base_amount
            for row in session.scalars(select(Position).where(Position.status == "open"))
        }
    assert deals_after == deals_before
    assert ledger_mismatches(harness.sessions) == []


async def test_starting_a_halted_bot_puts_its_exits_back(migrated_url: str) -> None:
    harness = await make_harness(migrated_url)
    first, _second = await _two_bots_with_deals(harness)
    before = sorted((bot, purpose) for bot, purpose, _ in _working(harness.sessions))
    assert {purpose for _, purpose in before} == set(RESTING)
    await harness.engine.emergency_stop(sell_all=False)
    await harness.run(2)
    with harness.sessions() as session:
        bot_service.set_active(session, first, True)
        assert session.get(Bot, first).halted_at is None  # type: ignore[union-attr]
    harness.engine.bot_changed(first)
    await harness.run(1)
    after = sorted((bot, purpose) for bot, purpose, _ in _working(harness.sessions))
    assert after == [entry for entry in before if entry[0] == first]
    with harness.sessions() as session:
        bot = session.get(Bot, first)
        assert bot is not None and "halted" not in bot.manager_state
    assert ledger_mismatches(harness.sessions) == []


async def test_sell_all_sells_every_deal_at_the_next_open(migrated_url: str) -> None:
    harness = await make_harness(migrated_url)
    first, second = await _two_bots_with_deals(harness)
    with harness.sessions() as session:
        held = {
            row.bot_id: row.base_amount
            for row in session.scalars(select(Position).where(Position.status == "open"))
        }
    report = await harness.engine.emergency_stop(sell_all=True)
    assert report.sells_placed == 2 and report.problems == []
    assert {purpose for _, purpose, _ in _working(harness.sessions)} == {"manual_close"}
    await harness.run(1)
    sells = [row for row in fill_rows(harness.sessions) if row[2] == "sell"]
    assert len(sells) == 2
    for product_id, bot_id in (("ETH-BTC", first), ("BTC-USD", second)):
        candles = await harness.market.candles(product_id, "1m", 1)
        [sell] = [row for row in sells if row[1] == bot_id]
        _trade, _bot, _side, time, price, base, quote, fee = sell
        # at the candle's open (no slippage set), the whole holding, the taker fee
        assert (time.timestamp(), price) == (candles[-1].time, Decimal(str(candles[-1].open)))
        assert base == held[bot_id] and quote == price * base
        assert fee == fee_for(quote, Decimal("0.006"))
    with harness.sessions() as session:
        deals = session.scalars(select(Position)).all()
        assert {(d.status, d.close_reason) for d in deals} == {("closed", "manual")}
    await harness.run(5)
    assert harness.engine.registry.get(first) is None  # halted, nothing held: unloaded
    assert _working(harness.sessions) == []
    assert ledger_mismatches(harness.sessions) == []
