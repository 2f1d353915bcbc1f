"""Edits that land while a cycle runs: the cycle's row locks decide the order."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from tests.engine.engine_testkit import START, create_bot, make_harness
from tradefleet.db.models import Bot, Position
from tradefleet.engine.registry import Catalog, RuntimeRegistry
from tradefleet.services import bots as bot_service

DCA = {"buy_amount": 0.01, "interval_minutes": 60, "take_profit_pct": 50}


async def test_a_bot_stopped_after_the_sync_sits_the_cycle_out_and_never_buys(
    migrated_url: str,
) -> None:
    """The stop commits after the cycle loaded the bot (active) and before its step:
    the step sees the changed row, skips the bot, and the next cycle drops it. Without
    the check the step would open a deal after the API had said "stopped"."""
    harness = await make_harness(migrated_url)
    bot_id = await create_bot(harness, "dca", "simple_dca", DCA)
    other = await create_bot(harness, "other", "simple_dca", DCA)
    real_sync = RuntimeRegistry.sync

    async def sync_then_stop(
        self: RuntimeRegistry,
        reads: object,
        writes: object,
        catalog: Catalog | None = None,
        only: set[int] | None = None,
    ) -> str | None:
        unavailable = await real_sync(self, reads, writes, catalog, only)  # type: ignore[arg-type]
        with harness.sessions() as session:
            bot_service.set_active(session, bot_id, False)
        return unavailable

    RuntimeRegistry.sync = sync_then_stop  # type: ignore[method-assign]
    try:
        report = await harness.run_one()
    finally:
        RuntimeRegistry.sync = real_sync  # type: ignore[method-assign]
    assert (report.changed, report.bots_stepped) == (1, 1)  # only "other" traded
    with harness.sessions() as session:
        owners = session.scalars(select(Position.bot_id)).all()
        assert owners == [other]
        assert session.get(Bot, bot_id).last_candle_time is None  # type: ignore[union-attr]
    await harness.run_one()
    assert harness.engine.registry.get(bot_id) is None
    with harness.sessions() as session:
        count = select(func.count()).where(Position.bot_id == bot_id)
        assert session.scalar(count) == 0


async def test_a_bot_edited_after_the_sync_is_reloaded_and_stepped_next(
    migrated_url: str,
) -> None:
    """A budget edit between sync and step: the bot sits out, and the next cycle (run at
    once by the loop) reloads it with the new budget and steps the candle it skipped."""
    harness = await make_harness(migrated_url)
    bot_id = await create_bot(harness, "dca", "simple_dca", DCA)
    real_sync = RuntimeRegistry.sync
    edits = iter([True])

    async def sync_then_edit(
        self: RuntimeRegistry,
        reads: object,
        writes: object,
        catalog: Catalog | None = None,
        only: set[int] | None = None,
    ) -> str | None:
        unavailable = await real_sync(self, reads, writes, catalog, only)  # type: ignore[arg-type]
        if next(edits, False):
            with harness.sessions() as session:
                changes = bot_service.BotChanges(budget=Decimal("0.2"))
                bot_service.update_bot(session, bot_id, changes, None)
        return unavailable

    RuntimeRegistry.sync = sync_then_edit  # type: ignore[method-assign]
    try:
        skipped = await harness.run_one()
        again = await harness.engine.run_cycle()  # what the loop does after a skip
    finally:
        RuntimeRegistry.sync = real_sync  # type: ignore[method-assign]
    assert (skipped.changed, skipped.bots_stepped) == (1, 0)
    assert (again.changed, again.bots_stepped, again.candles_stepped) == (0, 1, 1)
    runtime = harness.engine.registry.get(bot_id)
    assert runtime is not None and str(runtime.settings.budget) == "0.2"
    with harness.sessions() as session:
        bot = session.get(Bot, bot_id)
        assert bot is not None and bot.last_candle_time == START
