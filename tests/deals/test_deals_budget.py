"""The budget rule's corners in the reference deal machine (found by review, issue 7)."""

from __future__ import annotations

import random
from decimal import Decimal

from deals_testkit import FEES, PRODUCT

from tradefleet.deals.protocol import manager_for
from tradefleet.deals.settings import DealSettings, GridSettings, GridSpacing
from tradefleet.deals.simulate import Simulator
from tradefleet.deals.state import BotState
from tradefleet.domain import Candle, FeeSchedule, Side, Signal, SignalAction
from tradefleet.market.products import default_spec

D = Decimal


def test_a_higher_maker_fee_cancels_the_resting_safety_order_before_it_fills() -> None:
    """Budget 100, taker 0: the base order buys 0.5 at 100 (50); its safety order of 49.5
    at 99 (0.5 base) holds 49.5 + 0.4 % = 49.698, so 99.698 fits. The maker fee then goes
    to 2 %: the order would cost 50.49 and the bot would pay out 100.49. It is cancelled
    at the start of the next candle, before that candle (low 98) can fill it."""
    settings = DealSettings(
        budget=D(100), base_order_quote=D(50), safety_order_count=1,
        safety_order_quote=D("49.5"), safety_deviation_pct=D(1), take_profit_pct=D(50),
    )  # fmt: skip
    sim = Simulator(manager_for(settings), BotState(1), PRODUCT, FeeSchedule(D(0), D("0.004")))
    bars = [Candle(i * 60, 100, 100, 100, 100, 1.0) for i in range(2)]
    bars.append(Candle(120, 100, 100, 98, 99, 1.0))
    for index, bar in enumerate(bars):
        if index == 2:
            sim.fees = FeeSchedule(D(0), D("0.02"))
        action = SignalAction.BUY if index == 0 else SignalAction.HOLD
        sim.step(bar, Signal(bar.time, action, bar.close), bar.time + 60)
    assert [(f.side, f.price, f.base_amount) for f in sim.fills] == [(Side.BUY, D(100), D("0.5"))]
    assert sim.notes == [
        (120, "order tf-1-1-s2 cancelled: at the current fees the resting buys exceed what "
         "the bot may commit (100 of budget 100)"),
    ]  # fmt: skip
    assert list(sim.state.deals[0].open_orders) == ["tf-1-1-tp3"]  # its take profit stays


def test_a_losing_grid_keeps_no_notes_in_its_state() -> None:
    """A 41-level grid from 0.046 to 0.0515 (0.024 a level) spaced below twice the maker
    fee loses on every cycle, until it cannot re-arm its levels: each refusal makes a
    note, which the simulator collects per candle instead of piling them up in the
    state."""
    rng = random.Random(1)
    price, bars = 0.05, []
    for i in range(3_000):
        close = min(max(price * (1 + rng.gauss(0, 0.002)), 0.046), 0.054)
        high = max(price, close) * (1 + abs(rng.gauss(0, 0.001)))
        low = min(price, close) * (1 - abs(rng.gauss(0, 0.001)))
        o, h, lo, c = round(price, 5), round(high, 5), round(low, 5), round(close, 5)
        bars.append(Candle(i * 60, o, max(o, h, c), min(o, lo, c), c, 1.0))
        price = close
    grid = GridSettings(
        D(1), D("0.046"), D("0.0515"), 41, GridSpacing.ARITHMETIC, D("0.024"),
    )  # fmt: skip
    sim = Simulator(manager_for(grid), BotState(1), default_spec("ETH-BTC"), FEES)
    for bar in bars:
        sim.step(bar, Signal(bar.time, SignalAction.HOLD, bar.close), bar.time + 60)
    assert sim.state.notes == []
    assert sim.state.realized_pnl < 0 and len(sim.notes) > 0
    assert all(note.startswith("budget exhausted: realised loss ") for _, note in sim.notes)
