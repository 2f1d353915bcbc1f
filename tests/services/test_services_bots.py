"""The bot service as the CLI uses it: typed errors naming fields, nothing written on failure."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradefleet.db.models import Bot, Position
from tradefleet.domain import ProductSpec
from tradefleet.services.bots import (
    BotChanges,
    BotInput,
    create_bot,
    delete_bot,
    get_bot,
    list_bots,
    open_position_counts,
    set_active,
    update_bot,
)
from tradefleet.services.errors import ConflictError, InvalidInputError, NotFoundError

ETH_BTC = ProductSpec(
    product_id="ETH-BTC", base_currency="ETH", quote_currency="BTC",
    base_increment=Decimal("0.00000001"), quote_increment=Decimal("0.00001"),
    price_increment=Decimal("0.00001"), base_min_size=Decimal("0.00000001"),
    quote_min_size=Decimal("0.00001"),
)  # fmt: skip
SOL_BTC = ProductSpec(
    product_id="SOL-BTC", base_currency="SOL", quote_currency="BTC",
    base_increment=Decimal("0.001"), quote_increment=Decimal("0.0000001"),
    price_increment=Decimal("0.0000001"), base_min_size=Decimal("0.001"),
    quote_min_size=Decimal("0.00001"),
)  # fmt: skip


def _input(**overrides: object) -> BotInput:
    values: dict[str, object] = {
        "name": "cli bot",
        "strategy_type": "simple_dca",
        "product_id": "ETH-BTC",
        "timeframe": "1h",
        "budget": Decimal("0.2"),
        "strategy_config": {"buy_amount": 0.01},
    }
    values.update(overrides)
    return BotInput(**values)  # type: ignore[arg-type]


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Bot)) or 0


def test_create_stores_a_validated_inactive_bot(db_session: Session) -> None:
    bot = create_bot(db_session, _input(name="  padded  "), ETH_BTC)
    assert (bot.name, bot.budget, bot.is_active, bot.timeframe) == (
        "padded",
        Decimal("0.2"),
        False,
        "1h",
    )
    assert bot.strategy_config["buy_amount"] == 0.01
    assert bot.strategy_config["interval_minutes"] == 60  # default filled in
    assert [b.id for b in list_bots(db_session)] == [bot.id]


INVALID_INPUTS: list[tuple[dict[str, object], ProductSpec | None, list[tuple[str, str]]]] = [
    ({"budget": Decimal(0)}, ETH_BTC, [("budget", "must be a number greater than 0")]),
    ({"budget": Decimal("-1")}, ETH_BTC, [("budget", "must be a number greater than 0")]),
    ({"budget": Decimal("NaN")}, ETH_BTC, [("budget", "must be a number greater than 0")]),
    ({"budget": Decimal("1E+20")}, ETH_BTC, [("budget", "is too large")]),
    (
        {"budget": Decimal("1E-19")},
        ETH_BTC,
        [("budget", "must have at most 18 decimal places")],
    ),
    ({"name": " "}, ETH_BTC, [("name", "must be 1 to 100 characters")]),
    (
        {"description": "d" * 2001},
        ETH_BTC,
        [("description", "must be at most 2000 characters")],
    ),
    ({}, None, [("product_id", "unknown product 'ETH-BTC'")]),
    ({}, SOL_BTC, [("product_id", "unknown product 'ETH-BTC'")]),
    (
        {"strategy_config": {"buy_amount": 0, "interval_minutes": 0}},
        ETH_BTC,
        [
            ("strategy_config.buy_amount", "must be at least 1e-08"),
            ("strategy_config.interval_minutes", "must be at least 1"),
        ],
    ),
]


def test_invalid_input_names_every_bad_field_and_writes_nothing(
    db_session: Session, subtests: pytest.Subtests
) -> None:
    for overrides, product, problems in INVALID_INPUTS:
        with subtests.test(problems[0][0], overrides=overrides):
            with pytest.raises(InvalidInputError) as caught:
                create_bot(db_session, _input(**overrides), product)
            assert caught.value.problems == problems
            assert caught.value.field == problems[0][0]
            assert _count(db_session) == 0


def test_trailing_zeros_beyond_18_places_are_not_extra_precision(db_session: Session) -> None:
    bot = create_bot(db_session, _input(budget=Decimal("0.50000000000000000000000")), ETH_BTC)
    assert bot.budget == Decimal("0.5")


def test_the_message_lists_every_problem_for_the_cli(db_session: Session) -> None:
    with pytest.raises(InvalidInputError) as caught:
        create_bot(db_session, _input(timeframe="2m", strategy_type="martingale"), ETH_BTC)
    assert str(caught.value) == (
        "timeframe: must be one of: 1m, 5m, 15m, 30m, 1h, 2h, 6h, 1d; "
        "strategy_type: unknown strategy 'martingale'; known strategies: "
        "bollinger, ema_cross, grid, macd_dca, rsi, simple_dca"
    )


def test_update_keeps_unchanged_fields_and_checks_the_product_only_when_it_changes(
    db_session: Session,
) -> None:
    bot = create_bot(db_session, _input(), ETH_BTC)
    updated = update_bot(db_session, bot.id, BotChanges(description="nightly"), None)
    assert (updated.description, updated.product_id, updated.budget) == (
        "nightly",
        "ETH-BTC",
        Decimal("0.2"),
    )
    moved = update_bot(db_session, bot.id, BotChanges(product_id="SOL-BTC"), SOL_BTC)
    assert moved.product_id == "SOL-BTC"
    with pytest.raises(InvalidInputError) as caught:
        update_bot(db_session, bot.id, BotChanges(product_id="ETH-BTC"), None)
    assert caught.value.problems == [("product_id", "unknown product 'ETH-BTC'")]
    db_session.expire_all()
    assert get_bot(db_session, bot.id).product_id == "SOL-BTC"


GRID_CONFIG = {"levels": 5, "quote_per_level": 0.05, "lower_price": 0.04, "upper_price": 0.06}


def test_a_budget_cut_that_breaks_the_config_is_rejected(db_session: Session) -> None:
    grid = create_bot(
        db_session,
        _input(strategy_type="grid", strategy_config=GRID_CONFIG),
        ETH_BTC,
    )
    with pytest.raises(InvalidInputError) as caught:
        update_bot(db_session, grid.id, BotChanges(budget=Decimal("0.1")), None)
    assert caught.value.problems == [
        ("strategy_config.quote_per_level", "4 buy levels need 0.2, more than the budget 0.1")
    ]
    db_session.expire_all()
    assert get_bot(db_session, grid.id).budget == Decimal("0.2")


def test_conflicts_and_missing_bots(db_session: Session) -> None:
    first = create_bot(db_session, _input(name="one"), ETH_BTC)
    with pytest.raises(ConflictError, match="a bot named 'one' already exists"):
        create_bot(db_session, _input(name="one"), ETH_BTC)
    db_session.add(
        Position(bot_id=first.id, seq=1, product_id="ETH-BTC", opened_at=datetime.now(UTC))
    )
    db_session.commit()
    assert open_position_counts(db_session) == {first.id: 1}
    with pytest.raises(ConflictError, match="close its positions first"):
        delete_bot(db_session, first.id)
    with pytest.raises(ConflictError, match="close them before changing strategy_type"):
        update_bot(db_session, first.id, BotChanges(strategy_type="rsi"), None)
    with pytest.raises(NotFoundError, match="bot 404 not found"):
        delete_bot(db_session, 404)
    with pytest.raises(NotFoundError, match="bot 404 not found"):
        update_bot(db_session, 404, BotChanges(name="x"), None)
    assert _count(db_session) == 1


def test_set_active_and_delete(db_session: Session) -> None:
    bot = create_bot(db_session, _input(), ETH_BTC)
    assert set_active(db_session, bot.id, True).is_active is True
    delete_bot(db_session, bot.id)
    assert list_bots(db_session) == []
    with pytest.raises(NotFoundError, match=f"bot {bot.id} not found"):
        get_bot(db_session, bot.id)
    assert _count(db_session) == 1  # soft-deleted: the row stays for its history
