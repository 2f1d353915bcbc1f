"""A bot's account decides its broker: paper bots trade on the paper account; a bot
stored with a live account (a hand edit: the API and the CLI refuse it in this release)
is not run, and says why in its ``last_error``."""

from __future__ import annotations

from sqlalchemy import select

from tests.engine.engine_testkit import create_bot, fill_rows, make_harness
from tradefleet.db.models import Bot, Order


async def test_a_live_bot_is_not_run_in_this_release(migrated_url: str) -> None:
    harness = await make_harness(migrated_url)
    config = {"buy_amount": 0.01, "interval_minutes": 1, "take_profit_pct": 50}
    paper = await create_bot(harness, "paper dca", "simple_dca", config)
    live = await create_bot(harness, "live dca", "simple_dca", config)
    with harness.sessions() as session:
        bot = session.get(Bot, live)
        assert bot is not None
        bot.account = "live"
        session.commit()
    await harness.run(5)
    with harness.sessions() as session:
        bot = session.get(Bot, live)
        assert bot is not None and bot.last_error == (
            "cannot load bot: account 'live': live needs the server started with "
            "TRADEFLEET_MODE=live and working exchange keys (check them with tradefleet "
            "check-exchange); this server trades on paper"
        )
        owners = set(session.scalars(select(Order.bot_id)))
    assert owners == {paper}  # the paper bot traded, the live one placed nothing
    assert {row[1] for row in fill_rows(harness.sessions)} == {paper}
    assert harness.engine.registry.get(live) is None
