"""Deal figures of many bots in a few column-only queries, never one ORM object per deal.

A bot's history (its closed deals) is only ever summed, so it is aggregated per bot and
product: PostgreSQL sums NUMERIC exactly in SQL (``GROUP BY``); SQLite stores money as
text, which its SUM would turn into floats, so there the text of the closed deals is read
in one pass and summed here as Decimal. Open deals are few (they are bounded by the bots'
deal limits, not by the history) and are read as rows, so their unrealized PnL and cost
are computed exactly as ``tradefleet.stats`` does for one bot.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, String, func, select, type_coerce
from sqlalchemy.orm import Session

from tradefleet.db.models import Bot, Position
from tradefleet.db.types import Money
from tradefleet.deals.state import CLOSED
from tradefleet.stats import ClosedSums, quote_currency_of

ClosedByProduct = dict[str, ClosedSums]  # product id -> sums of a bot's closed deals
IN_CHUNK = 500  # bot ids per IN list


@dataclass(frozen=True, slots=True)
class DealRow:
    """The columns of a deal the statistics read (a ``stats.DealRecord``)."""

    product_id: str
    status: str
    opened_at: datetime
    closed_at: datetime | None
    base_amount: Decimal
    bought_quote: Decimal
    buy_fees: Decimal
    sold_quote: Decimal
    sell_fees: Decimal
    realized_pnl: Decimal | None


@dataclass(frozen=True, slots=True)
class BotRow:
    """What the totals need of a bot."""

    id: int
    product_id: str
    budget: Decimal
    is_active: bool
    deleted: bool


@dataclass(frozen=True, slots=True)
class Fleet:
    """Every bot with its closed-deal sums and open deals, read from one snapshot."""

    bots: list[BotRow]
    closed: dict[int, ClosedByProduct]
    open_deals: dict[int, list[DealRow]]


DEAL_COLUMNS = tuple(getattr(Position, field.name) for field in fields(DealRow))


def fleet(session: Session) -> Fleet:
    """The three reads the totals need, seeing one state of the database: on PostgreSQL
    each statement of a READ COMMITTED transaction sees its own, so a deal closing between
    the sums and the open deals would count twice or not at all; REPEATABLE READ gives the
    transaction one snapshot (SQLite's read transaction has one already)."""
    if not session.in_transaction() and session.get_bind().dialect.name != "sqlite":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    return Fleet(bots(session), closed_sums(session), open_deals(session))


def deals_of(session: Session, bot_id: int) -> list[DealRow]:
    """Every deal of one bot, oldest first, as the columns ``stats.bot_stats`` reads."""
    query = select(*DEAL_COLUMNS).where(Position.bot_id == bot_id).order_by(Position.id)
    return [DealRow(*row) for row in session.execute(query)]


def open_deals(session: Session) -> dict[int, list[DealRow]]:
    """Bot id -> its deals that are not closed, oldest first."""
    query = select(Position.bot_id, *DEAL_COLUMNS).where(Position.status != CLOSED)
    query = query.order_by(Position.id)
    deals: dict[int, list[DealRow]] = {}
    for bot_id, *columns in session.connection().execute(query):
        deals.setdefault(bot_id, []).append(DealRow(*columns))
    return deals


def bots(session: Session) -> list[BotRow]:
    """Every bot, deleted ones included (their closed deals still count), by id."""
    deleted = Bot.deleted_at.is_not(None)
    query = select(Bot.id, Bot.product_id, Bot.budget, Bot.is_active, deleted).order_by(Bot.id)
    return [BotRow(*row) for row in session.connection().execute(query)]


def closed_sums(
    session: Session, bot_ids: Collection[int] | None = None
) -> dict[int, ClosedByProduct]:
    """Bot id -> product id -> count, realized PnL and fees of the bot's closed deals (of
    every bot when ``bot_ids`` is None)."""
    read = (
        _closed_sums_of_text if session.get_bind().dialect.name == "sqlite" else _closed_sums_in_sql
    )
    if bot_ids is None:
        return read(session, None)
    wanted = sorted(set(bot_ids))
    sums: dict[int, ClosedByProduct] = {}
    for start in range(0, len(wanted), IN_CHUNK):  # bounded IN lists (SQLite's variables)
        sums.update(read(session, wanted[start : start + IN_CHUNK]))
    return sums


def realized_by_bot(session: Session, of_bots: Iterable[Bot]) -> dict[int, Decimal]:
    """Bot id -> realised PnL of its closed deals in its current quote currency (a bot may
    have traded another market before; those amounts are in another currency)."""
    wanted = list(of_bots)
    sums = closed_sums(session, [bot.id for bot in wanted])
    totals: dict[int, Decimal] = {}
    for bot in wanted:
        quote = quote_currency_of(bot.product_id)
        of_bot = sums.get(bot.id, {})
        totals[bot.id] = sum(
            (s.realized for product, s in of_bot.items() if quote_currency_of(product) == quote),
            Decimal(0),
        )
    return totals


def _closed(bot_ids: Collection[int] | None) -> list[ColumnElement[bool]]:
    """The WHERE of the closed deals (of the given bots)."""
    where = [Position.status == CLOSED]
    if bot_ids is not None:
        where.append(Position.bot_id.in_(list(bot_ids)))
    return where


def _closed_sums_in_sql(
    session: Session, bot_ids: Collection[int] | None
) -> dict[int, ClosedByProduct]:
    """NUMERIC sums are exact, so PostgreSQL adds the amounts and sends a row per group."""
    computed = Position.sold_quote - Position.sell_fees - Position.bought_quote - Position.buy_fees
    realized: ColumnElement[Decimal] = func.coalesce(Position.realized_pnl, computed)
    query = (
        select(
            Position.bot_id,
            Position.product_id,
            func.count(),
            type_coerce(func.sum(realized), Money()),
            type_coerce(func.sum(Position.buy_fees + Position.sell_fees), Money()),
        )
        .where(*_closed(bot_ids))
        .group_by(Position.bot_id, Position.product_id)
    )
    sums: dict[int, ClosedByProduct] = {}
    for bot_id, product_id, deals, realized_sum, fees in session.execute(query):
        sums.setdefault(bot_id, {})[product_id] = ClosedSums(deals, realized_sum, fees)
    return sums


def _closed_sums_of_text(
    session: Session, bot_ids: Collection[int] | None
) -> dict[int, ClosedByProduct]:
    """SQLite: the stored decimal texts, read raw (no per-value conversion through the
    column type) and summed as Decimal in one pass."""

    def text(column: Any) -> ColumnElement[str | None]:
        return type_coerce(column, String)

    query = select(
        Position.bot_id,
        Position.product_id,
        text(Position.realized_pnl),
        text(Position.sold_quote),
        text(Position.sell_fees),
        text(Position.bought_quote),
        text(Position.buy_fees),
    ).where(*_closed(bot_ids))
    running: dict[tuple[int, str], list[Any]] = {}  # [deals, realized, fees]
    for bot_id, product_id, pnl, sold, sell_fees, bought, buy_fees in session.execute(query):
        buy_fee, sell_fee = Decimal(buy_fees or 0), Decimal(sell_fees or 0)
        if pnl is None:  # as stats.deal_realized: net sells minus gross cost
            deal_pnl = Decimal(sold or 0) - sell_fee - Decimal(bought or 0) - buy_fee
        else:
            deal_pnl = Decimal(pnl)
        group = running.setdefault((bot_id, product_id), [0, Decimal(0), Decimal(0)])
        group[0] += 1
        group[1] += deal_pnl
        group[2] += buy_fee + sell_fee
    sums: dict[int, ClosedByProduct] = {}
    for (bot_id, product_id), (deals, realized, fees) in running.items():
        sums.setdefault(bot_id, {})[product_id] = ClosedSums(deals, realized, fees)
    return sums
