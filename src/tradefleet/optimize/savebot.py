"""``--save-bot NAME``: store the chosen config as a new, inactive bot.

The bot goes through ``services.bots.create_bot``, the same validation as the API and
``tradefleet bots create``. The name, budget and product are checked before the search
starts as well, so a long search never ends on a name that was taken all along. Each
database use opens its own engine and disposes of it afterwards: worker processes are
forked in between and must not inherit a live connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradefleet.db.migrate import upgrade_database
from tradefleet.db.models import Bot
from tradefleet.db.session import make_engine, make_session_factory
from tradefleet.domain import ProductSpec
from tradefleet.services import bot_rules
from tradefleet.services.bots import BotInput, create_bot
from tradefleet.services.errors import InvalidInputError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BotPlan:
    """The bot to create once the search has chosen its config."""

    database_url: str
    name: str
    strategy_id: str
    product: ProductSpec
    timeframe: str
    budget: Decimal


def _in_session(url: str, work: Callable[[Session], T]) -> T:
    """``work`` in a session on the (migrated) database; the engine is disposed after."""
    upgrade_database(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return work(session)
    finally:
        engine.dispose()


def precheck(plan: BotPlan) -> None:
    """Raise ``InvalidInputError`` for a bad name, budget or product, or a taken name."""
    name, problems = bot_rules.clean_name(plan.name)
    problems += bot_rules.budget_problems(plan.budget)
    problems += bot_rules.product_problems(plan.product.product_id, plan.product)
    if problems:
        raise InvalidInputError.of([(f"save-bot {field}", text) for field, text in problems])

    def taken(session: Session) -> bool:
        return session.scalar(select(Bot.id).where(Bot.name == name)) is not None

    if _in_session(plan.database_url, taken):
        raise InvalidInputError("save-bot name", f"a bot named {name!r} already exists")


def save_bot(plan: BotPlan, config: dict[str, Any], description: str) -> tuple[int, str]:
    """Create the inactive bot; its (id, name). Raises ``ServiceError`` subclasses."""
    data = BotInput(
        name=plan.name,
        strategy_type=plan.strategy_id,
        product_id=plan.product.product_id,
        timeframe=plan.timeframe,
        budget=plan.budget,
        strategy_config=config,
        description=description[: bot_rules.DESCRIPTION_MAX_LENGTH],
    )

    def create(session: Session) -> tuple[int, str]:
        bot = create_bot(session, data, plan.product)
        return bot.id, bot.name

    return _in_session(plan.database_url, create)
