"""The update route skips its first read when ``may_need_product`` says no: that must
never skip a product ``product_to_check`` would have asked for, for any bot."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tradefleet.db.models import Bot
from tradefleet.services.bots import BotChanges, may_need_product, product_to_check

changes = st.builds(
    BotChanges,
    name=st.none() | st.just("renamed"),
    description=st.none() | st.just("note"),
    strategy_type=st.none() | st.sampled_from(["grid", "rsi"]),
    strategy_config=st.none() | st.just({"take_profit_pct": 2}),
    product_id=st.none() | st.sampled_from(["ETH-BTC", "BTC-USD"]),
    timeframe=st.none() | st.just("5m"),
    budget=st.none() | st.just(Decimal("0.2")),
)


@given(changes, st.sampled_from(["grid", "rsi"]), st.sampled_from(["ETH-BTC", "BTC-USD"]))
def test_no_product_is_ever_skipped(change: BotChanges, strategy: str, product: str) -> None:
    bot = Bot(strategy_type=strategy, product_id=product)
    if not may_need_product(change):
        assert product_to_check(bot, change) is None


def test_a_rename_or_a_new_budget_needs_no_product_but_a_new_pair_does() -> None:
    assert not may_need_product(BotChanges(name="x", budget=Decimal(1), timeframe="1h"))
    assert may_need_product(BotChanges(product_id="BTC-USD"))
    assert may_need_product(BotChanges(strategy_config={}))
