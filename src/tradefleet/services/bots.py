"""Bot CRUD shared by the REST API and the CLI.

Each operation validates everything first and writes only when the whole request is valid,
then commits; so a rejected request never changes stored data. Market look-ups are async
and belong to the caller: it passes the ``ProductSpec`` the market knows for the requested
``product_id`` (or None when the market does not know it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import orjson
from sqlalchemy import JSON, Text, cast, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tradefleet.db.models import Bot, Order, Position, Signal, utcnow
from tradefleet.domain import WORKING_STATUSES, ProductSpec
from tradefleet.money import canonical
from tradefleet.services import bot_rules, grid_rules
from tradefleet.services.errors import ConflictError, InvalidInputError, NotFoundError

OPEN = "open"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BotInput:
    """Everything a new bot needs; ``strategy_config`` may omit parameters (defaults apply)."""

    name: str
    strategy_type: str
    product_id: str
    timeframe: str
    budget: Decimal
    strategy_config: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    account: str = "paper"


@dataclass(frozen=True, slots=True)
class BotChanges:
    """A partial update: None leaves a field as it is.

    A given ``strategy_config`` is merged into the stored one: the parameters it names take
    the values it gives, a parameter given as None goes back to its default, and the others
    keep their stored values. A new ``strategy_type`` starts from its own defaults instead
    (the old strategy's parameters mean nothing to it), with the given config on top.
    """

    name: str | None = None
    description: str | None = None
    strategy_type: str | None = None
    strategy_config: Mapping[str, Any] | None = None
    product_id: str | None = None
    timeframe: str | None = None
    budget: Decimal | None = None
    account: str | None = None


def get_bot(session: Session, bot_id: int, *, lock: bool = False) -> Bot:
    """The bot; a deleted one is not found, like one that never existed.

    With ``lock`` its row stays locked until the transaction ends (``FOR UPDATE`` on
    PostgreSQL; on SQLite a writer's ``BEGIN IMMEDIATE`` holds the whole database): a
    change waits for an engine cycle that is stepping the bot, and the cycle for it.
    """
    if lock:
        bot = session.get(Bot, bot_id, with_for_update=True, populate_existing=True)
    else:
        bot = session.get(Bot, bot_id)
    if bot is None or bot.deleted_at is not None:
        raise NotFoundError(f"bot {bot_id} not found")
    return bot


def list_bots(session: Session, *, include_deleted: bool = False) -> list[Bot]:
    """Bots by id; deleted ones only on request (for totals over the trading history)."""
    query = select(Bot).order_by(Bot.id)
    if not include_deleted:
        query = query.where(Bot.deleted_at.is_(None))
    return list(session.scalars(query))


def live_bot_rows(session: Session, columns: Sequence[Any]) -> list[dict[str, Any]]:
    """``columns`` of every live bot by id, as plain dicts: a list of a thousand bots is
    served without building (and tracking) a thousand ORM objects. Read through the
    connection (no ORM result layer) and JSON columns read as text and decoded by orjson,
    which together took half the time of the plain ORM query."""
    names = [column.key for column in columns]
    json_names = [column.key for column in columns if isinstance(column.type, JSON)]
    selected = [
        cast(column, Text).label(column.key) if column.key in json_names else column
        for column in columns
    ]
    query = select(*selected).where(Bot.deleted_at.is_(None)).order_by(Bot.id)
    rows = [dict(zip(names, row, strict=True)) for row in session.connection().execute(query)]
    for row in rows:
        for name in json_names:
            text = row[name]
            row[name] = None if text is None else orjson.loads(text)
    return rows


def open_position_counts(session: Session) -> dict[int, int]:
    """Bot id -> number of open deals (bots without open deals are absent)."""
    rows = session.execute(
        select(Position.bot_id, func.count())
        .where(Position.status == OPEN)
        .group_by(Position.bot_id)
    )
    return {bot_id: count for bot_id, count in rows}


def open_position_count(session: Session, bot_id: int) -> int:
    query = select(func.count()).where(Position.bot_id == bot_id, Position.status == OPEN)
    return session.scalar(query) or 0


def create_bot(
    session: Session,
    data: BotInput,
    product: ProductSpec | None,
    live_problem: str | None = bot_rules.LIVE_OFF,
) -> Bot:
    """Validate and store a new, inactive bot; ``live_problem``: why the live account
    cannot be chosen now, None when it can."""
    name, problems = bot_rules.clean_name(data.name)
    problems += bot_rules.description_problems(data.description)
    problems += bot_rules.product_problems(data.product_id, product)
    problems += bot_rules.timeframe_problems(data.timeframe)
    problems += bot_rules.account_problems(data.account, live_problem)
    budget_problems = bot_rules.budget_problems(data.budget)
    config, config_problems = bot_rules.strategy_config_problems(
        data.strategy_type, data.strategy_config, None if budget_problems else data.budget
    )
    problems += budget_problems + config_problems
    problems += grid_rules.range_problems(data.strategy_type, data.strategy_config, data.product_id)
    if not problems and product is not None:
        problems += grid_rules.product_problems(data.strategy_type, config, data.budget, product)
    _raise_if(problems)
    _check_name_free(session, name, None)
    bot = Bot(
        name=name,
        description=data.description,
        strategy_type=data.strategy_type,
        strategy_config=config,
        product_id=data.product_id,
        timeframe=data.timeframe,
        budget=canonical(data.budget),
        account=data.account,
        is_active=False,
        manager_state={},
    )
    session.add(bot)
    _commit(session, name)
    return bot


def update_bot(
    session: Session,
    bot_id: int,
    changes: BotChanges,
    product: ProductSpec | None,
    live_problem: str | None = bot_rules.LIVE_OFF,
) -> Bot:
    """Apply a partial update. ``product`` is what the market knows of
    ``product_to_check``'s answer: a new product (which must exist), or the bot's own one
    when a grid's settings change (they are checked against it)."""
    bot = get_bot(session, bot_id, lock=True)
    wanted = product_to_check(bot, changes)
    if product is not None and wanted is not None and product.product_id != wanted:
        raise ConflictError(f"bot {bot_id} changed while it was being edited; try again")
    name, problems = bot_rules.clean_name(_given(changes.name, bot.name))
    if changes.description is not None:
        problems += bot_rules.description_problems(changes.description)
    if changes.product_id is not None and changes.product_id != bot.product_id:
        problems += bot_rules.product_problems(changes.product_id, product)
    if changes.timeframe is not None:
        problems += bot_rules.timeframe_problems(changes.timeframe)
    if changes.account is not None and changes.account != bot.account:
        problems += bot_rules.account_problems(changes.account, live_problem)
    budget = _given(changes.budget, bot.budget)
    budget_problems = bot_rules.budget_problems(budget)
    strategy_type = _given(changes.strategy_type, bot.strategy_type)
    product_id = _given(changes.product_id, bot.product_id)
    given = _next_config(bot, changes)
    config, config_problems = bot_rules.strategy_config_problems(
        strategy_type, given, None if budget_problems else budget
    )
    problems += budget_problems + config_problems
    problems += grid_rules.range_problems(strategy_type, given, product_id)
    if not problems and product is not None and product.product_id == product_id:
        problems += grid_rules.product_problems(strategy_type, config, budget, product)
    _raise_if(problems)
    _check_name_free(session, name, bot.id)
    _check_deal_fields_unchanged(session, bot, changes, config)
    _restart_market_position(bot, changes, strategy_type, config)
    bot.name = name
    bot.description = _given(changes.description, bot.description)
    bot.strategy_type = strategy_type
    bot.strategy_config = config
    bot.product_id = product_id
    bot.timeframe = _given(changes.timeframe, bot.timeframe)
    bot.budget = canonical(budget)
    bot.account = _given(changes.account, bot.account)
    bot.updated_at = utcnow()
    _commit(session, name)
    return bot


def may_need_product(changes: BotChanges) -> bool:
    """False when ``product_to_check`` is None whatever the bot: the caller need not read
    the bot first (a rename or a new budget is one trip to the database, not two)."""
    return any(
        value is not None
        for value in (changes.product_id, changes.strategy_type, changes.strategy_config)
    )


def product_to_check(bot: Bot, changes: BotChanges) -> str | None:
    """The product whose spec ``update_bot`` needs for ``changes``: a new product id, or
    the bot's own when it is (or becomes) a grid whose settings change; None: none."""
    if changes.product_id is not None and changes.product_id != bot.product_id:
        return changes.product_id
    grid = _given(changes.strategy_type, bot.strategy_type) == grid_rules.GRID
    if grid and (changes.strategy_config is not None or changes.strategy_type is not None):
        return bot.product_id
    return None


def delete_bot(session: Session, bot_id: int) -> None:
    """Soft-delete a bot: it disappears from every listing, its name is freed and its
    signals go, but its closed deals, orders and fills stay (they explain the account's
    balances and keep showing in trades, positions and stats totals).

    Refused while the bot has an open deal or a live order: deleting those would lose
    track of coins or of an order still working at the broker.
    """
    bot = get_bot(session, bot_id, lock=True)
    live_orders = session.scalar(
        select(func.count()).where(Order.bot_id == bot_id, Order.status.in_(WORKING_STATUSES))
    )
    if open_position_count(session, bot_id) or live_orders:
        raise ConflictError(
            f"bot {bot_id} has open positions: stop the bot and close its positions first"
        )
    session.execute(delete(Signal).where(Signal.bot_id == bot_id))
    bot.name = _deleted_name(session, bot)
    bot.is_active = False
    bot.deleted_at = utcnow()
    bot.updated_at = bot.deleted_at
    _commit(session, bot.name)


def _deleted_name(session: Session, bot: Bot) -> str:
    """A free name that still says which bot it was, so the old name can be reused."""
    attempt = 1
    while True:
        suffix = f" (deleted {bot.id})" if attempt == 1 else f" (deleted {bot.id}-{attempt})"
        name = bot.name[: bot_rules.NAME_MAX_LENGTH - len(suffix)] + suffix
        if session.scalar(select(Bot.id).where(Bot.name == name)) is None:
            return name
        attempt += 1


def set_active(session: Session, bot_id: int, active: bool) -> Bot:
    """Record whether the bot trades; the engine is told by the caller.

    A stopped bot without deals is not followed by the engine, so when it starts again it
    starts at the newest candle: it never trades the candles of the time it was stopped.
    Starting a bot halted by an emergency stop resumes it: its deals get their exits back.
    """
    bot = get_bot(session, bot_id, lock=True)
    if active and not bot.is_active and not open_position_count(session, bot_id):
        bot.last_candle_time = None
    if active:
        bot.halted_at = None  # started again after an emergency stop: it resumes
    bot.is_active = active
    bot.updated_at = utcnow()
    session.commit()
    return bot


def halt_bots(session: Session, also: Sequence[int]) -> list[tuple[int, str]]:
    """Mark halted (and stopped) every bot that is active, holds an open deal or is in
    ``also``; (id, name) of each, by id. Written in the caller's transaction."""
    holding = select(Position.bot_id).where(Position.status == OPEN)
    chosen = or_(Bot.is_active, Bot.id.in_(holding), Bot.id.in_(list(also)))
    bots = session.scalars(
        select(Bot).where(Bot.deleted_at.is_(None), chosen).order_by(Bot.id).with_for_update()
    ).all()
    now = utcnow()
    for bot in bots:
        bot.is_active = False
        bot.halted_at = now
        bot.updated_at = now
    session.flush()
    return [(bot.id, bot.name) for bot in bots]


def _given(new: T | None, old: T) -> T:
    return old if new is None else new


def _next_config(bot: Bot, changes: BotChanges) -> Mapping[str, Any]:
    """The config to validate: the stored one (or none, for a new strategy) with the
    given parameters merged in (``BotChanges``)."""
    new_strategy = changes.strategy_type not in (None, bot.strategy_type)
    config = {} if new_strategy else dict(bot.strategy_config)
    for name, value in (changes.strategy_config or {}).items():
        if value is None:
            config.pop(name, None)  # validation fills in the default
        else:
            config[name] = value
    return config


def _check_deal_fields_unchanged(
    session: Session, bot: Bot, changes: BotChanges, config: Mapping[str, Any]
) -> None:
    """Open deals were opened by this strategy on this product and timeframe (their exits
    are checked on its candles) with this account's money; they must keep all four, and
    a grid its levels."""
    moved = [
        what
        for what, new, old in (
            ("strategy_type", changes.strategy_type, bot.strategy_type),
            ("product_id", changes.product_id, bot.product_id),
            ("timeframe", changes.timeframe, bot.timeframe),
            ("account", changes.account, bot.account),
        )
        if new is not None and new != old
    ]
    if bot.strategy_type == "grid" and dict(config) != dict(bot.strategy_config):
        moved.append("the grid's settings")
    if moved and open_position_count(session, bot.id):
        raise ConflictError(
            f"bot {bot.id} has open positions: close them before changing {' and '.join(moved)}"
        )


def _restart_market_position(
    bot: Bot, changes: BotChanges, strategy_type: str, config: Mapping[str, Any]
) -> None:
    """With no open deals (checked before), a new product or timeframe starts the bot
    afresh at the newest candle, and a changed grid draws its levels anew."""
    market_moved = (changes.product_id not in (None, bot.product_id)) or (
        changes.timeframe not in (None, bot.timeframe)
    )
    if market_moved:
        bot.last_candle_time = None
    strategy_moved = strategy_type != bot.strategy_type or dict(config) != bot.strategy_config
    if (market_moved or strategy_moved) and bot.manager_state.get("grid") is not None:
        bot.manager_state = {**bot.manager_state, "grid": None}


def _check_name_free(session: Session, name: str, own_id: int | None) -> None:
    query = select(Bot.id).where(Bot.name == name)
    if own_id is not None:
        query = query.where(Bot.id != own_id)
    if session.scalar(query) is not None:
        raise ConflictError(f"a bot named {name!r} already exists")


def _commit(session: Session, name: str) -> None:
    """Commit; a concurrent insert of the same name surfaces as a conflict, not a 500."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ConflictError(f"a bot named {name!r} already exists") from None


def _raise_if(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise InvalidInputError.of(problems)
