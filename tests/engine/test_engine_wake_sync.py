"""Between candle closes a wake-up reads only the bots the API said it changed; every
bot is read again at the next close, so an edit made elsewhere (the CLI) shows then."""

from __future__ import annotations

from typing import Any

from tests.engine.engine_testkit import create_bot, make_harness
from tradefleet.engine.registry import RuntimeRegistry
from tradefleet.services import bots as bot_service
from tradefleet.services.bots import BotChanges

DCA = {"buy_amount": 0.01, "interval_minutes": 60, "take_profit_pct": 50}


async def test_a_wake_up_reads_the_told_bots_and_a_close_reads_them_all(
    migrated_url: str,
) -> None:
    harness = await make_harness(migrated_url)
    first = await create_bot(harness, "first", "simple_dca", DCA)
    await harness.run_one()
    told = await create_bot(harness, "told", "simple_dca", DCA)
    untold = await create_bot(harness, "untold", "simple_dca", DCA)  # as the CLI would
    harness.engine.bot_changed(told)
    report = await harness.run_one(step=10)  # the same 1m candle: a wake-up
    registry = harness.engine.registry
    assert registry.get(told) is not None and registry.get(untold) is None
    assert report.bots_stepped == 1  # the told bot's first candle
    with harness.sessions() as session:
        bot_service.set_active(session, first, False)  # stopped elsewhere, not told
    await harness.run_one(step=10)
    loaded = registry.get(first)
    assert loaded is not None and loaded.is_active  # not read again before the close
    await harness.run_one(step=60)  # the next close: every bot read again
    assert registry.get(untold) is not None
    reread = registry.get(first)
    assert reread is not None and not reread.is_active  # stopped, managing its deal


async def test_a_bot_edited_elsewhere_during_a_cycle_is_read_again_at_once(
    migrated_url: str,
) -> None:
    """It sits out the cycle (its row changed since it was loaded); the next cycle, right
    after, must read it again though nobody told, or it would sit out every cycle."""
    harness = await make_harness(migrated_url)
    bot_id = await create_bot(harness, "dca", "simple_dca", DCA)
    await harness.run_one()
    real_sync = RuntimeRegistry.sync
    edits = [BotChanges(name="renamed elsewhere")]

    async def sync_then_edit(self: RuntimeRegistry, *args: Any, **kwargs: Any) -> str | None:
        unavailable = await real_sync(self, *args, **kwargs)
        if edits:
            with harness.sessions() as session:
                bot_service.update_bot(session, bot_id, edits.pop(), None)
        return unavailable

    RuntimeRegistry.sync = sync_then_edit  # type: ignore[method-assign]
    try:
        first = await harness.run_one()  # loaded, then edited: it sits the cycle out
        again = await harness.engine.run_cycle()  # at once, as the loop does
    finally:
        RuntimeRegistry.sync = real_sync  # type: ignore[method-assign]
    assert (first.changed, first.bots_stepped) == (1, 0)
    assert (again.changed, again.bots_stepped) == (0, 1)
