"""Stepping one bot through its new candles inside a cycle's transaction.

Each candle with changes is written in its own savepoint, so a failure rolls back only
that bot's step: the bot's in-memory state is rebuilt from the database, the error is
recorded in ``last_error`` and the signal log, and the other bots carry on.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from tradefleet.db.models import Bot, Signal
from tradefleet.deals.book import BUDGET_EXHAUSTED
from tradefleet.domain import Candle, CandleArrays, Side, SignalAction
from tradefleet.domain import Signal as SignalEvent
from tradefleet.engine.events import StepEvents
from tradefleet.engine.loader import build_runtime
from tradefleet.engine.runtime import BotRuntime
from tradefleet.engine.stepper import StepContext, run_step
from tradefleet.engine.store import persist_step
from tradefleet.money import to_decimal

log = logging.getLogger(__name__)


class CycleWriter:
    """Collects per-bot bookkeeping of a cycle and writes it in two bulk statements."""

    def __init__(self) -> None:
        self.bot_rows: dict[int, dict[str, Any]] = {}
        self.signal_rows: list[dict[str, Any]] = []
        self.traded: set[str] = set()  # products with fills this cycle
        self._problems: dict[int, list[str]] = {}
        self._arrays: dict[tuple[str, str], tuple[list[Candle], CandleArrays]] = {}

    def arrays_for(self, key: tuple[str, str], candles: list[Candle]) -> CandleArrays:
        """Column arrays of a key's candles, built once per cycle for all its bots."""
        cached = self._arrays.get(key)
        if cached is None or cached[0] is not candles:
            cached = (candles, CandleArrays.from_candles(candles))
            self._arrays[key] = cached
        return cached[1]

    def stepped(self, runtime: BotRuntime, signal: SignalEvent, problems: list[str]) -> None:
        """A step done; ``problems`` (rejected orders, skipped candles) stay visible in
        ``last_error`` and the signal log, though they do not stop the bot."""
        row = self._row(runtime)
        seen = self._problems.setdefault(runtime.bot_id, [])
        seen += problems
        # this cycle's newest problems, else a budget still exhausted
        row["last_error"] = "; ".join(seen[-3:]) if seen else runtime.budget_note
        for problem in problems:
            self.signal_rows.append(error_row(runtime.bot_id, signal.time, problem))
        row["last_indicators"] = _finite(signal.indicators or {})
        if signal.action is not SignalAction.HOLD:
            self.signal_rows.append(signal_row(runtime.bot_id, signal))

    def failed(self, runtime: BotRuntime, message: str, candle_time: int | None) -> None:
        row = self._row(runtime)
        row["last_error"] = message
        self.signal_rows.append(error_row(runtime.bot_id, candle_time or 0, message))

    def _row(self, runtime: BotRuntime) -> dict[str, Any]:
        row = self.bot_rows.setdefault(runtime.bot_id, {"id": runtime.bot_id})
        row["last_candle_time"] = runtime.last_candle_time
        row["last_signal_check"] = datetime.now(UTC)
        row["manager_state"] = runtime.state.to_manager_state()
        return row

    def flush(self, session: Session) -> None:
        """Write the bookkeeping of bots that still exist (one may have been deleted
        between the cycle's start and now; its rows are simply dropped)."""
        ids = set(self.bot_rows) | {row["bot_id"] for row in self.signal_rows}
        live = select(Bot.id).where(Bot.id.in_(ids), Bot.deleted_at.is_(None))
        existing = set(session.scalars(live)) if ids else set()
        self.bot_rows = {k: v for k, v in self.bot_rows.items() if k in existing}
        self.signal_rows = [row for row in self.signal_rows if row["bot_id"] in existing]
        if self.bot_rows:
            rows = list(self.bot_rows.values())
            columns = set().union(*(row.keys() for row in rows))
            for row in rows:  # executemany needs the same keys in every row
                for column in columns - row.keys():
                    row[column] = None
            session.execute(update(Bot), rows)
        if self.signal_rows:
            session.execute(insert(Signal), self.signal_rows)
        self.bot_rows.clear()
        self.signal_rows.clear()


def _finite(values: dict[str, float]) -> dict[str, float]:
    return {name: value for name, value in values.items() if math.isfinite(value)}


def error_row(bot_id: int, candle_time: int, message: str) -> dict[str, Any]:
    return {
        "bot_id": bot_id,
        "candle_time": candle_time,
        "created_at": datetime.now(UTC),
        "action": "error",
        "price": None,
        "reason": message,
        "indicators": None,
    }


def signal_row(bot_id: int, signal: SignalEvent) -> dict[str, Any]:
    return {
        "bot_id": bot_id,
        "candle_time": signal.time,
        "created_at": datetime.now(UTC),
        "action": signal.action.value,
        "price": to_decimal(signal.price),
        "reason": signal.reason,
        "indicators": _finite(signal.indicators or {}),
    }


def hold(candle: Candle, reason: str) -> SignalEvent:
    return SignalEvent(
        time=candle.time, action=SignalAction.HOLD, price=candle.close, reason=reason
    )


def new_candle_indices(runtime: BotRuntime, candles: list[Candle]) -> list[int]:
    """Candles the bot has not processed; a bot that never ran starts at the newest one."""
    last = runtime.last_candle_time
    if last is None:
        return [len(candles) - 1] if candles else []
    return [i for i, candle in enumerate(candles) if candle.time > last]


def advance_bot(
    session: Session,
    runtime: BotRuntime,
    data: list[Candle] | str | None,
    ctx: StepContext,
    writer: CycleWriter,
) -> tuple[int, BotRuntime]:
    """Step the bot through its new candles: (candles stepped or -1 on error, runtime)."""
    if not isinstance(data, list):
        writer.failed(runtime, data or "no market data", None)
        return -1, runtime
    arrays = writer.arrays_for(runtime.key, data)
    warmup = runtime.strategy.warmup()
    stepped = 0
    problems = _missed(runtime, data)
    for index in new_candle_indices(runtime, data):
        candle = data[index]
        snapshot = ctx.account.snapshot()
        try:
            signal = signal_at(runtime, arrays, index, warmup, candle)
            events = run_step(runtime, candle, signal, ctx)
            if events.fills:
                writer.traded.add(runtime.product.product_id)
            if events.changed_orders or events.touched_deals:
                with session.begin_nested():  # balances: written once, at the cycle's end
                    persist_step(session, runtime, events)
        except Exception as error:  # one bot's failure must not stop the others
            log.exception("bot %s failed on candle %s", runtime.bot_id, candle.time)
            ctx.account.restore(snapshot)
            runtime = reload_runtime(session, runtime)
            runtime.last_candle_time = candle.time
            writer.failed(runtime, f"{type(error).__name__}: {error}", candle.time)
            return -1, runtime
        runtime.last_candle_time = candle.time
        problems += [
            f"order {r.intent.client_order_id} rejected: {r.reason}" for r in events.rejected
        ]
        problems += _notes_to_show(runtime, events)
        writer.stepped(runtime, signal, problems)
        problems = []
        stepped += 1
    return stepped, runtime


def _notes_to_show(runtime: BotRuntime, events: StepEvents) -> list[str]:
    """The deal manager's notes for the signal log: a "budget exhausted" note only when
    its text changed (a bot that cannot pay would repeat it on every BUY), and it stays
    in ``last_error`` until the bot places a buy again."""
    shown: list[str] = []
    for note in events.notes:
        if note.startswith(BUDGET_EXHAUSTED):
            if note == runtime.budget_note:
                continue
            runtime.budget_note = note
        shown.append(note)
    if any(placed.intent.side is Side.BUY for placed in events.placed):
        runtime.budget_note = None
    return shown


def _missed(runtime: BotRuntime, candles: list[Candle]) -> list[str]:
    """Candles older than the market source still serves cannot be caught up: say so."""
    last = runtime.last_candle_time
    if last is None or not candles or candles[0].time <= last + runtime.tf_seconds:
        return []
    first, gap = candles[0].time, (candles[0].time - last) // runtime.tf_seconds - 1
    return [f"{gap} candles after {last} are no longer available; resumed at {first}"]


def signal_at(
    runtime: BotRuntime, arrays: CandleArrays, index: int, warmup: int, candle: Candle
) -> SignalEvent:
    """The bot's signal on ``candle`` (``arrays[index]``), or why it holds."""
    if runtime.halted:
        return hold(candle, "bot halted by an emergency stop: start it to resume")
    if not runtime.is_active:
        return hold(candle, "bot stopped: managing open deals only")
    start = max(0, index + 1 - warmup)
    window = CandleArrays(
        time=arrays.time[start : index + 1],
        open=arrays.open[start : index + 1],
        high=arrays.high[start : index + 1],
        low=arrays.low[start : index + 1],
        close=arrays.close[start : index + 1],
        volume=arrays.volume[start : index + 1],
    )
    return runtime.strategy.signal_at(window)


def reload_runtime(session: Session, runtime: BotRuntime) -> BotRuntime:
    """The runtime as the database has it (the failed step's changes were rolled back)."""
    bot = session.get(Bot, runtime.bot_id)
    if bot is None:
        return runtime
    fresh = build_runtime(session, bot, runtime.product, live=runtime.is_live)
    fresh.updated_marker = runtime.updated_marker
    return fresh
