"""The emergency stop: every bot stopped and halted, every resting order cancelled, and
on request every open deal sold at market, in one transaction with one savepoint per bot.

A bot the engine has loaded is halted at once through its deal manager (``Manager.halt``);
one it could not load is marked halted in the database and withdraws its orders in its
first step once it loads (``engine.stepper``). What could not be done is reported, never
hidden: the caller shows it to the user.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlalchemy.orm import Session

from tradefleet.brokers.paper_account import PaperAccount
from tradefleet.db.models import Bot
from tradefleet.deals.protocol import manager_for
from tradefleet.domain import FeeSchedule
from tradefleet.engine.events import StepEvents
from tradefleet.engine.registry import RuntimeRegistry
from tradefleet.engine.runtime import BotRuntime
from tradefleet.engine.stepper import StepContext, apply_intents
from tradefleet.engine.store import persist_step
from tradefleet.services import bots as bot_service

log = logging.getLogger(__name__)


@dataclass(slots=True)
class BotHalt:
    """What the emergency stop did to one bot."""

    bot_id: int
    name: str
    orders_cancelled: int = 0
    sells_placed: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(slots=True)
class EmergencyReport:
    sell_all: bool
    bots: list[BotHalt] = field(default_factory=list)

    @property
    def orders_cancelled(self) -> int:
        return sum(bot.orders_cancelled for bot in self.bots)

    @property
    def sells_placed(self) -> int:
        return sum(bot.sells_placed for bot in self.bots)

    @property
    def problems(self) -> list[str]:
        return [f"bot {b.bot_id} ({b.name}): {p}" for b in self.bots for p in b.problems]


@dataclass(slots=True)
class Halter:
    """The engine's parts the stop works on (it holds the engine's lock meanwhile)."""

    registry: RuntimeRegistry
    account: PaperAccount
    fees: FeeSchedule

    def halt_all(
        self, session: Session, sell_all: bool, next_open: dict[int, int]
    ) -> EmergencyReport:
        """Halt every bot in ``session``'s transaction; ``next_open``: bot id -> when an
        order placed now may first fill (the next candle's open)."""
        report = EmergencyReport(sell_all)
        loaded = {runtime.bot_id: runtime for runtime in self.registry.runtimes()}
        for bot_id, name in bot_service.halt_bots(session, sorted(loaded)):
            halt = BotHalt(bot_id, name)
            runtime = loaded.get(bot_id)
            if runtime is None:
                problem = self.registry.load_errors.get(bot_id)
                if problem is not None:
                    halt.problems.append(
                        f"not loaded ({problem}): its orders are withdrawn once it loads"
                    )
            elif not runtime.is_live:  # a live bot's orders are the exchange's: LiveDesk
                self._halt_one(session, runtime, sell_all, next_open[bot_id], halt)
            report.bots.append(halt)
        self.account.flush(session)
        return report

    def _halt_one(
        self, session: Session, runtime: BotRuntime, sell: bool, active_from: int, halt: BotHalt
    ) -> None:
        manager = manager_for(runtime.settings)
        snapshot = self.account.snapshot()
        events = StepEvents()
        try:
            with session.begin_nested():
                state = runtime.state
                intents, problems = manager.halt(state, runtime.product, self.fees, sell=sell)
                ctx = StepContext(self.account, self.fees, manager)
                apply_intents(runtime, intents, ctx, events, active_from)
                persist_step(session, runtime, events)
                session.execute(
                    update(Bot)
                    .where(Bot.id == runtime.bot_id)
                    .values(manager_state=state.to_manager_state())
                )
        except Exception as error:  # one bot's failure must not keep the others trading
            log.exception("emergency stop of bot %s failed", runtime.bot_id)
            self.account.restore(snapshot)
            halt.problems.append(
                f"its orders could not be withdrawn ({type(error).__name__}: {error}); it is "
                "stopped and withdraws them when it loads again"
            )
            return
        halt.orders_cancelled = len(events.cancelled)
        halt.sells_placed = len(events.placed)
        halt.problems += problems
        halt.problems += [
            f"order {r.intent.client_order_id} rejected: {r.reason}" for r in events.rejected
        ]
