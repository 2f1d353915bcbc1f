"""The engine's live side: live bots' steps at their candle closes, their stops watched
between closes, the reconciliation, their manual closes and emergency stop.

It runs under the engine's lock, so a live bot's orders are only ever worked on by one
of these at a time. Each cycle, before any live bot steps:

1. the account is asked about again (``LiveAccount.connect``: the key's permissions, the
   fee rates, read again daily); while it cannot be used, live bots do not step and say
   why in their ``last_error``;
2. every working order of every live bot is reconciled with the exchange
   (``reconcile``): what happened meanwhile is stored; what cannot be explained (an
   unknown ``tf-`` order, less base on the account than the open deals bought) stops
   the bots concerned from opening deals, with the reason in ``last_error``, the signal
   log and ``/api/health``.

A live bot decides on the newest closed candle only: a candle missed while the server
was down is past, and trading it late with real money would act on old prices.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial

from sqlalchemy import insert, update
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.brokers.live.reconcile import reconcile
from tradefleet.db.models import Bot, Signal
from tradefleet.db.session import transaction
from tradefleet.deals.protocol import manager_for
from tradefleet.domain import Candle, CandleArrays, OrderIntent
from tradefleet.engine.cycle import error_row, reload_runtime, signal_at
from tradefleet.engine.emergency import BotHalt, EmergencyReport
from tradefleet.engine.live_account import LiveAccount
from tradefleet.engine.live_step import LiveContext, live_settle, live_step
from tradefleet.engine.live_stops import watch, watched_stops
from tradefleet.engine.registry import RuntimeRegistry
from tradefleet.engine.runtime import BotRuntime
from tradefleet.engine.threads import in_thread
from tradefleet.market.service import MarketService
from tradefleet.redact import said

log = logging.getLogger(__name__)

WATCH_SECONDS = 5.0  # how often live stops are compared with the last traded price
OUR_ORDER = re.compile(r"^tf-(\d+)-")  # deals.book.client_order_id: tf-{bot}-{deal}-…

Key = tuple[str, str]


class LiveDesk:
    def __init__(
        self, account: LiveAccount, sessions: sessionmaker[Session], market: MarketService
    ) -> None:
        """``sessions``: the engine's writer's factory."""
        self.account = account
        self._sessions = sessions
        self._market = market

    def context(self, runtime: BotRuntime) -> LiveContext:
        orders, fees = self.account.orders, self.account.fees
        assert orders is not None and fees is not None  # only called once usable
        return LiveContext(self._sessions, orders, fees, manager_for(runtime.settings))

    async def cycle(
        self,
        registry: RuntimeRegistry,
        due: Sequence[BotRuntime],
        candles: dict[Key, list[Candle] | str],
    ) -> tuple[int, int]:
        """Step the ``due`` live bots; (bots stepped, bots that failed)."""
        loaded = [runtime for runtime in registry.runtimes() if runtime.is_live]
        if not await self.account.connect():  # asked every cycle: a revoked key shows
            message = f"live account unusable: {self.account.problem}"
            await in_thread(lambda: self._say({r.bot_id: message for r in due}, stop=False))
            return 0, len(due)
        if not loaded:
            return 0, 0
        moved = await self._reconcile(loaded)
        stepped = failed = 0
        decided: set[int] = set()
        for runtime in due:
            outcome = await self._step(registry, runtime, candles.get(runtime.key))
            stepped += outcome is True
            failed += outcome is False
            if outcome is not None:
                decided.add(runtime.bot_id)
        now = int(datetime.now(UTC).timestamp())
        for runtime in loaded:  # what happened while nobody looked, told now
            if runtime.bot_id in moved - decided:
                settle = partial(live_settle, runtime, self.context(runtime), now)
                failed += not await self._guarded(registry, runtime, settle)
        return stepped, failed

    async def _step(
        self, registry: RuntimeRegistry, runtime: BotRuntime, data: list[Candle] | str | None
    ) -> bool | None:
        """True: stepped; False: failed; None: nothing new."""
        if not isinstance(data, list) or not data:
            message = data if isinstance(data, str) and data else "no market data"
            await in_thread(lambda: self._say({runtime.bot_id: message}, stop=False))
            return False
        candle = data[-1]
        if runtime.last_candle_time is not None and candle.time <= runtime.last_candle_time:
            return None
        arrays = CandleArrays.from_candles(data)
        signal = signal_at(runtime, arrays, len(data) - 1, runtime.strategy.warmup(), candle)
        return await self._guarded(
            registry, runtime, lambda: live_step(runtime, candle, signal, self.context(runtime))
        )

    async def _guarded(
        self,
        registry: RuntimeRegistry,
        runtime: BotRuntime,
        work: Callable[[], Awaitable[object]],
    ) -> bool:
        """Run a live bot's work; a failure reloads the bot as stored and is shown (the
        orders it stored are settled with the exchange at its next step)."""
        try:
            await work()
        except Exception as error:  # one bot's failure must not stop the others
            log.exception("live bot %s failed", runtime.bot_id)
            registry.replace(await in_thread(lambda: self._reload(runtime)))
            message = f"{type(error).__name__}: {said(error)}"
            await in_thread(lambda: self._say({runtime.bot_id: message}, stop=False))
            return False
        return True

    async def _reconcile(self, loaded: Sequence[BotRuntime]) -> set[int]:
        """Reconcile the live bots' orders; the bots whose orders moved."""
        orders = self.account.orders
        assert orders is not None
        products = {runtime.product.product_id: runtime.product for runtime in loaded}
        try:
            found = await reconcile(self._sessions, orders, products, [r.bot_id for r in loaded])
        except Exception as error:  # the exchange failed mid-way: each step settles its own
            log.warning("reconciliation failed: %s", said(error))
            return set()
        self.account.reconciled = found
        stops: dict[int, str] = {}
        strays = [(cid, f"order {cid} is open on the exchange but unknown here")
                  for cid in found.unknown_orders]  # fmt: skip
        strays += [(cid, f"order {cid} is open on the exchange but stored as {status}")
                   for cid, status in found.stray_orders]  # fmt: skip
        for client_order_id, message in strays:
            match = OUR_ORDER.match(client_order_id)
            bot_id = int(match.group(1)) if match else None
            if bot_id in {r.bot_id for r in loaded}:
                assert bot_id is not None
                stops[bot_id] = message
        for shortfall in found.shortfalls:
            currency = shortfall.split(":", 1)[0]
            for runtime in loaded:
                if runtime.product.base_currency == currency:
                    stops[runtime.bot_id] = f"reconciliation: {shortfall}"
        if stops:
            await in_thread(lambda: self._say(stops, stop=True))
            for bot_id in stops:
                runtime = next(r for r in loaded if r.bot_id == bot_id)
                runtime.is_active = False
                runtime.state.entries_paused = True
        return found.moved_bots

    async def watch(self, registry: RuntimeRegistry, now: int) -> None:
        """Compare every live bot's watched stops with its product's last traded price."""
        if not self.account.usable:
            return
        prices: dict[str, Decimal | None] = {}
        for runtime in registry.runtimes():
            if not runtime.is_live or not watched_stops(runtime):
                continue
            product_id = runtime.product.product_id
            if product_id not in prices:
                try:
                    prices[product_id] = await self._market.last_price(product_id)
                except Exception as error:  # a missed poll; the next one asks again
                    log.warning("no price for %s: %s", product_id, said(error))
                    prices[product_id] = None
            price = prices[product_id]
            if price is not None:
                ctx = self.context(runtime)
                await self._guarded(registry, runtime, partial(watch, runtime, price, ctx, now))

    async def edited(
        self, registry: RuntimeRegistry, reads: sessionmaker[Session], due: list[BotRuntime]
    ) -> set[int]:
        """Of the due live bots, those edited since they were loaded (one the API just
        stopped must not open a deal: it sits out, and the next cycle reloads it)."""
        if not due:
            return set()

        def changed() -> set[int]:
            with transaction(reads) as session:
                return registry.changed_since_load(session, [r.bot_id for r in due])

        return await in_thread(changed)

    async def close(
        self, registry: RuntimeRegistry, runtime: BotRuntime, seq: int, now: int
    ) -> None:
        """A live deal sold at market now, once its orders are up to date and cancelled;
        raises ValueError when it cannot be (a failure midway reloads the bot as stored:
        what it stored is settled with the exchange at its next step)."""
        if not self.account.usable:
            raise ValueError(f"the live account cannot be used: {self.account.problem}")
        fees = self.account.fees
        assert fees is not None
        manager = manager_for(runtime.settings)

        def close() -> list[OrderIntent]:
            if runtime.state.deal(seq) is None:
                return []  # it closed meanwhile (its take profit filled)
            return manager.close_deal(runtime.state, seq, runtime.product, fees)

        try:
            report = await live_settle(runtime, self.context(runtime), now, close)
        except Exception as error:
            log.exception("manual close of live bot %s failed", runtime.bot_id)
            registry.replace(await in_thread(lambda: self._reload(runtime)))
            raise ValueError(f"the exchange did not let it finish: {said(error)}") from None
        if report.problems:
            raise ValueError("; ".join(report.problems))

    async def halt(
        self, registry: RuntimeRegistry, stop: EmergencyReport, sell_all: bool, now: int
    ) -> None:
        """The emergency stop of live bots (already marked halted in the database):
        every order cancelled on the exchange and confirmed, and with ``sell_all`` every
        deal's holding sold at market."""
        halts = {halt.bot_id: halt for halt in stop.bots}
        runtimes = [r for r in registry.runtimes() if r.is_live and r.bot_id in halts]
        for runtime in runtimes:
            runtime.halted = True
            runtime.is_active = False
        if not self.account.usable and not await self.account.connect():
            for runtime in runtimes:
                halts[runtime.bot_id].problems.append(
                    f"live account unusable ({self.account.problem}): its orders are still "
                    "on the exchange; cancel them there"
                )
            return
        for runtime in runtimes:
            halt = halts[runtime.bot_id]
            withdraw = partial(self._withdraw, runtime, halt, sell_all)
            try:
                report = await live_settle(runtime, self.context(runtime), now, withdraw)
            except Exception as error:
                log.exception("emergency stop of live bot %s failed", runtime.bot_id)
                halt.problems.append(f"its orders could not all be withdrawn: {said(error)}")
                continue
            halt.orders_cancelled = len(report.cancelled)
            halt.sells_placed = len(report.sent)
            halt.problems += report.problems + report.notes

    def _withdraw(self, runtime: BotRuntime, halt: BotHalt, sell: bool) -> list[OrderIntent]:
        """The deal machine's emergency stop of one bot, once it knows what ended."""
        fees = self.account.fees
        assert fees is not None
        manager = manager_for(runtime.settings)
        intents, problems = manager.halt(runtime.state, runtime.product, fees, sell=sell)
        halt.problems += problems
        return intents

    def _reload(self, runtime: BotRuntime) -> BotRuntime:
        with transaction(self._sessions) as session:
            return reload_runtime(session, runtime)

    def _say(self, messages: dict[int, str], *, stop: bool) -> None:
        """Each bot's message in its ``last_error`` and, when it changed, the signal
        log; ``stop``: the bot opens no new deal until a user starts it again."""
        if not messages:
            return
        now = datetime.now(UTC)
        with transaction(self._sessions) as session:
            for bot_id, message in sorted(messages.items()):
                bot = session.get(Bot, bot_id)
                if bot is None:
                    continue
                if bot.last_error != message:
                    row = error_row(bot_id, int(now.timestamp()), message)
                    session.execute(insert(Signal), [row])
                values: dict[str, object] = {"last_error": message}
                if stop and bot.is_active:
                    values["is_active"] = False
                session.execute(update(Bot).where(Bot.id == bot_id).values(**values))
