"""A day of 5 m candles played through the fake exchange with four live bots (MACD DCA,
RSI with safety orders and a stop loss, Bollinger with a trailing take profit, a grid),
each step through the engine's live code (``live_step``, the stop watch) and the real
ccxt client. At the end the database, the fake's book and ledger and its balances agree
to the smallest increment: every order once, every fill once, every deal's figures the
sum of its fills, the account holding exactly what the open deals and their dust hold.

Each candle is traded on the fake in the order a market could: its open, its low (where
the stop watch looks), its high, its close; resting limits fill where the price reaches
them, market orders at the price of the moment. The bots then decide on the closed
candle, as the engine does at its close.
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

from sqlalchemy import select
from tests.brokers.live_kit import BTC_USD, Live

from tradefleet.db.models import Bot, Fill, Order, Position
from tradefleet.db.session import transaction
from tradefleet.deals.protocol import manager_for
from tradefleet.domain import Candle, CandleArrays
from tradefleet.engine.cycle import signal_at
from tradefleet.engine.live_step import LiveContext, live_step
from tradefleet.engine.live_stops import watch
from tradefleet.engine.loader import build_runtime
from tradefleet.engine.runtime import BotRuntime

D = Decimal
FIVE_MINUTES = 300
WARMUP, DAY = 120, 288
START = 1_700_000_000 // 86400 * 86400
STATUS = {"OPEN": "open", "FILLED": "filled", "CANCELLED": "cancelled", "EXPIRED": "expired"}
BOTS = {
    "macd": ("macd_dca", {"initial_buy_pct": 10, "dca_buy_pct": 5, "min_profit_pct": 0.5}),
    "rsi": ("rsi", {"rsi_period": 7, "oversold": 40, "overbought": 65, "buy_amount_pct": 10,
                    "safety_order_count": 2, "safety_order_pct": 5,
                    "safety_order_deviation_pct": 0.8, "take_profit_pct": 1.0,
                    "stop_loss_pct": 2.5}),
    "bollinger": ("bollinger", {"bb_period": 20, "bb_std": 1.5, "buy_pct": 10,
                                "take_profit_pct": 0.8, "trailing_deviation_pct": 0.3}),
    "grid": ("grid", {"lower_price": 48000, "upper_price": 52000, "levels": 9,
                      "quote_per_level": 50}),
}  # fmt: skip


def _candles(seed: int = 11) -> list[Candle]:
    """A seeded walk around 50,000: about 0.35 % a candle, with wicks."""
    rng = random.Random(seed)
    price, out = 50000.0, []
    for i in range(WARMUP + DAY):
        open_ = price
        close = max(40000.0, open_ * (1 + rng.gauss(0, 0.0035)))
        high = max(open_, close) * (1 + abs(rng.gauss(0, 0.0015)))
        low = min(open_, close) * (1 - abs(rng.gauss(0, 0.0015)))
        r = lambda x: round(x, 2)  # noqa: E731 - prices on the 0.01 increment
        out.append(Candle(START + i * FIVE_MINUTES, r(open_), r(high), r(low), r(close), 1.0))
        price = close
    return out


def _bots(live: Live) -> list[BotRuntime]:
    runtimes = []
    with transaction(live.sessions) as session:
        for name, (strategy, config) in BOTS.items():
            bot = Bot(name=name, strategy_type=strategy, strategy_config=config,
                      product_id="BTC-USD", timeframe="5m", budget=D(2000), is_active=True,
                      account="live")  # fmt: skip
            session.add(bot)
            session.flush()
            runtimes.append(build_runtime(session, bot, BTC_USD, live=True))
    return runtimes


async def test_a_day_of_four_live_bots_agrees_with_the_exchange_exactly(live: Live) -> None:
    fake = live.exchange
    fake.account.set_balance("USD", "100000")
    fake.account.set_balance("BTC", "0")
    candles = _candles()
    arrays = CandleArrays.from_candles(candles)
    orders = live.broker()
    fees = await orders.gateway.fees()
    runtimes = _bots(live)
    contexts = {r.bot_id: LiveContext(live.sessions, orders, fees, manager_for(r.settings))
                for r in runtimes}  # fmt: skip
    fake.trade("BTC-USD", f"{candles[WARMUP - 1].close:.2f}")
    for index in range(WARMUP, WARMUP + DAY):
        candle = candles[index]
        for price in (candle.open, candle.low):
            fake.trade("BTC-USD", f"{price:.2f}")
        for runtime in runtimes:  # the watch sees the low
            await watch(runtime, D(f"{candle.low:.2f}"), contexts[runtime.bot_id], candle.time)
        for price in (candle.high, candle.close):
            fake.trade("BTC-USD", f"{price:.2f}")
        for runtime in runtimes:
            signal = signal_at(runtime, arrays, index, runtime.strategy.warmup(), candle)
            closed = replace(candle, time=candle.time)
            report = await live_step(runtime, closed, signal, contexts[runtime.bot_id])
            assert report.problems == [], (runtime.name, candle.time, report.problems)
    _agrees_with_the_exchange(live)


def _agrees_with_the_exchange(live: Live) -> None:
    fake = live.exchange
    with transaction(live.sessions) as session:
        rows = session.scalars(select(Order).order_by(Order.id)).all()
        fills = session.scalars(select(Fill)).all()
        deals = session.scalars(select(Position)).all()
        # every order the exchange holds is stored once, with the exchange's figures
        sent = {row.client_order_id: row for row in rows if row.exchange_order_id}
        assert set(sent) == set(fake.by_client_id)
        assert fake.repeats == 0 and fake.creates == len(sent)
        for cid, row in sent.items():
            order = fake.by_client(cid)
            assert (row.exchange_order_id, row.status) == (order.order_id, STATUS[order.status])
            assert (row.filled_base, row.filled_quote, row.fee) == (
                order.filled_size, order.filled_value, order.total_fees), cid  # fmt: skip
        # every fill once, exactly the ledger's
        ledger = sorted((f["order_id"], D(f["size"]), D(f["price"]), D(f["commission"]))
                        for f in fake.fills)  # fmt: skip
        stored = sorted((sent_row(rows, f.order_id).exchange_order_id, f.base_amount, f.price,
                         f.fee) for f in fills)  # fmt: skip
        assert stored == ledger and len(fills) >= 20
        # the account: starting funds and the stored fills, to the last digit
        buys = [f for f in fills if f.side == "buy"]
        sells = [f for f in fills if f.side == "sell"]
        usd = D(100000) - sum(f.quote_amount + f.fee for f in buys) + sum(
            f.quote_amount - f.fee for f in sells)  # fmt: skip
        btc = sum(f.base_amount for f in buys) - sum(f.base_amount for f in sells)
        assert sum(fake.account.balances["USD"]) == usd
        assert sum(fake.account.balances["BTC"]) == btc
        # what the deals hold (open ones and the dust of closed ones) is the account's BTC
        assert sum(deal.base_amount for deal in deals) == btc
        for deal in deals:
            mine = [f for f in fills if f.position_id == deal.id]
            bought = sum(f.quote_amount for f in mine if f.side == "buy")
            sold = sum(f.quote_amount for f in mine if f.side == "sell")
            assert (deal.bought_quote, deal.sold_quote) == (bought, sold), deal.id
            if deal.status == "closed":
                assert deal.realized_pnl == (sold - deal.sell_fees) - (bought + deal.buy_fees)
        closed = {deal.bot_id for deal in deals if deal.status == "closed"}
        assert len(closed) >= 3, "the day traded too little to show anything"


def sent_row(rows: list[Order], order_id: int | None) -> Order:
    return next(row for row in rows if row.id == order_id)
