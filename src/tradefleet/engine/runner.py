"""The multi-bot engine: one asyncio loop that wakes at every candle close.

Each cycle fetches every (product, timeframe) that has a newly closed candle ONCE, then
steps each bot watching it through the candles it has not seen yet (so a restart
catches up instead of skipping). One bot's failure is recorded in its ``last_error``
and the signal log and never stops the others. Control calls (start, stop, edit,
delete, manual close) take effect at once; changes made directly in the database (the
CLI) are picked up at the next candle close, when every bot is read again.

The event loop never waits on the database: every read and write runs in a worker
thread (``in_thread``) while the loop keeps serving the API. The API writes bots in its
own transactions, without waiting for the engine: a cycle locks the rows of the bots it
steps and skips any edited since it loaded them (``RuntimeRegistry.changed_since_load``),
so an edit lands either before the cycle, which then reloads the bot at once, or after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tradefleet.brokers.paper_account import PaperAccount
from tradefleet.config import Settings
from tradefleet.db.session import transaction
from tradefleet.deals.protocol import manager_for
from tradefleet.domain import Candle, FeeSchedule
from tradefleet.engine.cycle import CycleWriter, advance_bot
from tradefleet.engine.emergency import EmergencyReport, Halter
from tradefleet.engine.events import StepEvents
from tradefleet.engine.live_account import LiveAccount
from tradefleet.engine.live_desk import WATCH_SECONDS, LiveDesk
from tradefleet.engine.registry import Catalog, RuntimeRegistry
from tradefleet.engine.runtime import BotRuntime
from tradefleet.engine.stepper import StepContext, apply_intents
from tradefleet.engine.store import persist_step
from tradefleet.engine.threads import in_thread
from tradefleet.market.base import Clock, MarketUnavailable, last_closed_open_time
from tradefleet.market.service import PROBE_TIMEOUT, MarketService
from tradefleet.services.bot_rules import LIVE_OFF
from tradefleet.services.errors import ConflictError
from tradefleet.services.fees import load_fees

log = logging.getLogger(__name__)

MAX_CANDLES = 1000  # the most candles one fetch asks for (catch-up + warm-up)
RETRY_SECONDS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0)
# How long a cycle waits for one (product, timeframe)'s candles before it steps the bots
# of the others: a slow product goes on fetching in the background, and its bots step
# in the cycle that follows its answer (which wakes the engine).
FETCH_WAIT_SECONDS = 5.0
PROBE_SECONDS = 30.0  # between candle closes, how often the exchange is asked if it is up


@dataclass(slots=True)
class CycleReport:
    """What one cycle did; the benchmark and the health endpoint read it."""

    started_at: float = 0.0
    seconds: float = 0.0
    fetches: int = 0
    keys: int = 0
    bots_stepped: int = 0  # bots that processed at least one candle without failing
    candles_stepped: int = 0
    errors: int = 0  # bots whose step failed (or that had no market data)
    late: list[str] = field(default_factory=list)  # still fetching: stepped when it answers
    changed: int = 0  # bots edited since the sync: they sit out, the next cycle runs now
    unavailable: list[str] = field(default_factory=list)


class Engine:
    """Runs every active bot (and every stopped bot that still holds deals)."""

    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        market: MarketService,
        clock: Clock,
        *,
        read_sessions: sessionmaker[Session] | None = None,
        grace_seconds: float = 0.0,
        live: LiveAccount | None = None,
    ) -> None:
        """``session_factory`` writes (on SQLite its transactions take the write lock when
        they begin); ``read_sessions`` (default: the same) only read, and take no lock."""
        self._settings = settings
        self._sessions = session_factory
        self._reads = read_sessions or session_factory
        self._market = market
        self._clock = clock
        self._grace = grace_seconds
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._told: set[int] = set()  # bots the API changed since the last sync
        self._full_sync_due = 0.0  # a candle close: every bot is read again from then on
        self._task: asyncio.Task[None] | None = None
        self._retry_index = 0
        self._fetching: dict[tuple[str, str], asyncio.Future[list[Candle]]] = {}
        self.account = PaperAccount({})
        self.fees = FeeSchedule()
        self.registry = RuntimeRegistry(market)
        self.registry.live = live is not None
        self.live = None if live is None else LiveDesk(live, session_factory, market)
        self._watcher: asyncio.Task[None] | None = None
        self.last_cycle = CycleReport()
        self.cycles = 0

    @property
    def market(self) -> MarketService:
        return self._market

    async def load(self) -> None:
        """Read balances, fees and bots from the database (``start`` does this first)."""

        def read() -> tuple[PaperAccount, FeeSchedule]:
            # a writer's session: the load seeds the currencies never seen before
            with transaction(self._sessions) as session:
                account = PaperAccount.load(session, self._settings.paper_balances)
                return account, load_fees(session, self._settings)

        self.account, self.fees = await in_thread(read)
        await self._sync()

    async def _reload_all(self) -> None:
        """Forget everything held in memory and read it again from the database."""
        self.registry.clear()
        self._full_sync_due = 0.0
        await self.load()

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Hold the engine between cycles while the caller changes bots in the database;
        the next cycle starts by reloading whatever changed."""
        async with self._lock:
            yield

    async def start(self) -> None:
        """Load, then run the loop in the background."""
        await self.load()
        if self.live is not None:  # before the API takes a bot for the live account
            await self.live.account.connect()
        self._task = asyncio.create_task(self._loop(), name="tradefleet-engine")
        if self.live is not None:
            self._watcher = asyncio.create_task(self._watch_stops(), name="tradefleet-stops")

    async def stop(self) -> None:
        for name in ("_watcher", "_task"):
            task = getattr(self, name)
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                setattr(self, name, None)
        if self.live is not None:
            await self.live.account.close()
        for fetch in self._fetching.values():
            fetch.cancel()
        self._fetching.clear()

    async def _loop(self) -> None:
        while True:
            self._wake.clear()  # a change told during the cycle wakes the next one
            try:
                report = await self.run_cycle()
            except Exception:  # the loop must survive anything a cycle does
                log.exception("engine cycle failed")
            else:
                if report.changed and not report.unavailable:
                    continue  # reload the edited bots and step them now
            await self._sleep_until_next_close()

    async def _watch_stops(self) -> None:
        """Live stops, every ``WATCH_SECONDS`` of the market's clock (``live_stops``)."""
        assert self.live is not None
        while True:
            await self._clock.sleep_until(self._clock.now() + WATCH_SECONDS)
            try:
                async with self._lock:
                    await self.live.watch(self.registry, int(self._clock.now()))
            except Exception:  # the watcher must survive anything a poll does
                log.exception("watching live stops failed")

    async def _sleep_until_next_close(self) -> None:
        now = self._clock.now()
        wake_at = self.registry.next_close(now) + self._grace
        late = self._market.next_late_retry()
        if late is not None and late > now:  # a candle published late: ask again then
            wake_at = min(wake_at, late)
        if self.last_cycle.unavailable:
            delay = RETRY_SECONDS[min(self._retry_index, len(RETRY_SECONDS) - 1)]
            self._retry_index += 1
            wake_at = min(wake_at, now + delay)
        else:
            self._retry_index = 0
        while True:  # between closes, the exchange is probed so health shows an outage
            probe_at = now + PROBE_SECONDS if self._market.can_probe else wake_at
            sleeper = asyncio.create_task(self._clock.sleep_until(min(wake_at, probe_at)))
            waker = asyncio.create_task(self._wake.wait())
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            for task in (sleeper, waker):
                task.cancel()
            if waker.done() or probe_at >= wake_at:
                return
            # never past the close it is waiting for (clock seconds, as wall seconds: at
            # most the probe's own timeout on an accelerated clock)
            left = wake_at - self._clock.now()
            await self._market.probe(timeout=min(PROBE_TIMEOUT, max(left, 0.1)))
            now = self._clock.now()

    async def run_cycle(self) -> CycleReport:
        """Step every bot through its newly closed candles; returns what was done."""
        started = time.perf_counter()
        report = CycleReport(started_at=self._clock.now())
        fetches_before = self._market.fetch_count
        # Market I/O first, with the engine not held: API writes go on meanwhile.
        catalog = await self.registry.catalog()
        first = self.registry.due(report.started_at)
        candles = await self._fetch_all(first, report)
        async with self._lock:
            unavailable = await self._sync(catalog)
            if unavailable is not None:
                report.unavailable.append("products")
            due = self.registry.due(report.started_at)
            missing = {key: group for key, group in due.items() if key not in first}
            if missing:  # bots loaded or changed since the fetch above
                candles.update(await self._fetch_all(missing, report))
            due = {key: group for key, group in due.items() if key in candles}  # not the late
            report.fetches = self._market.fetch_count - fetches_before
            traded: set[str] = set()
            if due:  # a wake-up with nothing due (an edit mid-candle) writes nothing
                try:
                    traded = await in_thread(lambda: self._step_all(due, candles, report))
                except Exception:
                    await self._reload_all()  # memory ran ahead of a rolled-back transaction
                    raise
            if self.live is not None:
                live_due = [r for group in due.values() for r in group if r.is_live]
                edited = await self.live.edited(self.registry, self._reads, live_due)
                report.changed += len(edited)
                live_due = [r for r in live_due if r.bot_id not in edited]
                stepped, failed = await self.live.cycle(self.registry, live_due, candles)
                report.bots_stepped += stepped
                report.errors += failed
            if report.changed:  # they sat out: read them again, whoever edited them
                self._full_sync_due = 0.0
            for product_id in sorted(traded):
                self._market.after_trade(product_id)
            report.seconds = time.perf_counter() - started
            self.last_cycle = report
            self.cycles += 1
            return report

    async def _sync(self, catalog: Catalog | None = None) -> str | None:
        """Every bot is read again at each candle close (so an edit made elsewhere, such as
        the CLI, is picked up then); between closes, a wake-up reads only the bots the API
        told about (``bot_changed``), not all of them for each edit."""
        now = self._clock.now()
        told, self._told = self._told, set()
        if now < self._full_sync_due:
            return await self.registry.sync(self._reads, self._sessions, catalog, only=told)
        unavailable = await self.registry.sync(self._reads, self._sessions, catalog)
        self._full_sync_due = self.registry.next_close(now)
        return unavailable

    async def _fetch_all(
        self, due: dict[tuple[str, str], list[Any]], report: CycleReport
    ) -> dict[tuple[str, str], list[Candle] | str]:
        """Each (product, timeframe)'s candles, fetched independently; one still not
        answered after ``FETCH_WAIT_SECONDS`` is left out (``report.late``) and goes on."""
        for key in sorted(due):
            if key not in self._fetching:
                needed = max(runtime.window_needed(report.started_at) for runtime in due[key])
                limit = min(MAX_CANDLES, needed)
                self._fetching[key] = asyncio.ensure_future(
                    self._market.candles(key[0], key[1], limit)
                )
        waiting = [self._fetching[key] for key in due]
        if waiting:
            await asyncio.wait(waiting, timeout=FETCH_WAIT_SECONDS)
        out: dict[tuple[str, str], list[Candle] | str] = {}
        for key in sorted(due):
            report.keys += 1
            job = self._fetching[key]
            if not job.done():  # its answer wakes the engine, whose next cycle steps them
                report.late.append(f"{key[0]} {key[1]}")
                job.add_done_callback(lambda _done: self._wake.set())
                continue
            del self._fetching[key]
            result: list[Candle] | BaseException = (
                job.exception() or job.result() if not job.cancelled() else
                MarketUnavailable("the fetch was cancelled")
            )  # fmt: skip
            if isinstance(result, MarketUnavailable):
                out[key] = f"market data unavailable: {result}"
                report.unavailable.append(f"{key[0]} {key[1]}")
            elif isinstance(result, BaseException):
                out[key] = f"market data error: {result}"
                report.unavailable.append(f"{key[0]} {key[1]}")
            else:
                out[key] = result
        return out

    def _step_all(
        self,
        due: dict[tuple[str, str], list[Any]],
        candles: dict[tuple[str, str], list[Candle] | str],
        report: CycleReport,
    ) -> set[str]:
        writer = CycleWriter()
        with transaction(self._sessions) as session:
            ids = sorted(runtime.bot_id for group in due.values() for runtime in group)
            changed = self.registry.changed_since_load(session, ids)
            report.changed = len(changed)
            for key in sorted(due):
                data = candles.get(key)
                for runtime in due[key]:
                    if runtime.bot_id in changed or runtime.is_live:  # live: LiveDesk
                        continue
                    ctx = StepContext(self.account, self.fees, manager_for(runtime.settings))
                    stepped, current = advance_bot(session, runtime, data, ctx, writer)
                    if current is not runtime:
                        self.registry.replace(current)
                    report.bots_stepped += 1 if stepped > 0 else 0  # -1: the step failed
                    report.candles_stepped += max(stepped, 0)
                    report.errors += 1 if stepped < 0 else 0
            writer.flush(session)
            self.account.flush(session)
        return writer.traded

    # ---- control (EngineControl) -------------------------------------------------

    def bot_changed(self, bot_id: int) -> None:
        """A bot was created, edited, started, stopped or deleted in the database: run a
        cycle now, whose sync reloads it (call on the loop, as the API's routes do once
        their write is committed). Nothing waits: the cycle's locks keep the order."""
        self._told.add(bot_id)
        self._wake.set()

    def live_problem(self) -> str | None:
        if self.live is None:
            return LIVE_OFF
        account = self.live.account
        return None if account.usable else f"the live account cannot be used: {account.problem}"

    async def reload_settings(self) -> None:

        def read() -> FeeSchedule:
            with transaction(self._reads) as session:
                return load_fees(session, self._settings)

        async with self._lock:
            self.fees = await in_thread(read)

    async def close_position(self, position_id: int) -> None:
        """Cancel the deal's resting orders and sell its holdings at the next candle's open."""
        async with self._lock:
            try:
                runtime, seq = self.registry.find_position(position_id)
                manager = manager_for(runtime.settings)
                if runtime.is_live and self.live is not None:
                    await self.live.close(self.registry, runtime, seq, int(self._clock.now()))
                    return
                intents = manager.close_deal(runtime.state, seq, runtime.product, self.fees)
            except (LookupError, ValueError) as error:
                raise ConflictError(
                    f"position {position_id} cannot be closed now: {error}"
                ) from None
            events = StepEvents()
            ctx = StepContext(self.account, self.fees, manager)

            def write() -> None:
                with transaction(self._sessions) as session:
                    apply_intents(runtime, intents, ctx, events, self._next_open(runtime))
                    persist_step(session, runtime, events)
                    self.account.flush(session)

            try:
                await in_thread(write)
            except Exception:
                await self._reload_all()
                raise

    async def emergency_stop(self, sell_all: bool) -> EmergencyReport:
        """Stop and halt every bot, cancel every resting order, and with ``sell_all``
        sell every open deal at market (at the next candle's open on paper)."""
        async with self._lock:
            halter = Halter(self.registry, self.account, self.fees)
            opens = {
                runtime.bot_id: self._next_open(runtime) for runtime in self.registry.runtimes()
            }

            def write() -> EmergencyReport:
                with transaction(self._sessions) as session:
                    return halter.halt_all(session, sell_all, opens)

            try:
                report = await in_thread(write)
                if self.live is not None:
                    await self.live.halt(self.registry, report, sell_all, int(self._clock.now()))
            finally:
                await self._reload_all()  # every bot as stored: halted, its orders withdrawn
        log.warning(
            "emergency stop: %d bots halted, %d orders cancelled, %d sells placed, %d problems",
            len(report.bots), report.orders_cancelled, report.sells_placed, len(report.problems),
        )  # fmt: skip
        self._wake.set()
        return report

    def _next_open(self, runtime: BotRuntime) -> int:
        """When an order placed between candles may first fill: the next candle's open."""
        base_time = runtime.last_candle_time or last_closed_open_time(
            self._clock.now(), runtime.tf_seconds
        )
        return base_time + runtime.tf_seconds

    def health(self) -> dict[str, Any]:
        report = self.last_cycle
        running = self._task is not None and not self._task.done()
        market = self._market.health()
        healthy = running and not report.unavailable and bool(market.get("ok", True))
        healthy = healthy and (self.live is None or self.live.account.usable)
        return {
            "status": "ok" if healthy else "degraded",
            "running": running,
            "bots_loaded": len(self.registry),
            "cycles": self.cycles,
            "last_cycle_seconds": round(report.seconds, 4),
            "last_cycle_fetches": report.fetches,
            "market_unavailable": list(report.unavailable),
            "market_late": list(report.late),
            "bot_errors": len(self.registry.load_errors),
            "market": market,
            "clock": _clock_health(self._clock),
            "live": None if self.live is None else self.live.account.health(),
        }


def _clock_health(clock: Clock) -> dict[str, Any]:
    """The exchange clock's skew; a simulated or replayed market's time otherwise."""
    described = getattr(clock, "health", None)
    if callable(described):
        return dict(described())
    return {"clock": type(clock).__name__, "now": round(clock.now(), 3)}
