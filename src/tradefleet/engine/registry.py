"""The engine's loaded bots, kept in step with the ``bots`` table.

A bot is loaded while it is active, still holds open deals or (live) has a cancel the
exchange has not confirmed, unless it was deleted.
``sync`` compares each row's content marker with the loaded runtime's, so an edit made
anywhere (API, CLI, another process) is picked up at the next cycle without a restart.

Only the engine's lock holder changes the registry, and it reads the database in a worker
thread; what the event loop reads meanwhile (``due``, ``next_close``, health) it reads
from snapshots of the runtimes, so a change in that thread never breaks its iteration.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Text, cast, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.db.models import Bot, Order, Position
from tradefleet.db.session import transaction
from tradefleet.domain import WORKING_STATUSES, ProductSpec
from tradefleet.engine.loader import build_runtime
from tradefleet.engine.runtime import BotRuntime
from tradefleet.engine.threads import in_thread
from tradefleet.market.base import MarketUnavailable, last_closed_open_time
from tradefleet.market.service import MarketService
from tradefleet.services.deal_figures import realized_by_bot

log = logging.getLogger(__name__)

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Catalog:
    """The market's products as fetched before a sync, or why they could not be."""

    products: dict[str, ProductSpec] | None
    unavailable: str | None = None


# Everything about a bot that changes how it runs, read as plain columns, the config and
# the budget as the text the database holds: a cycle reads these for every loaded bot,
# and building ORM objects (or parsing every config) cost more than the rest of a sync.
MARKER_COLUMNS = (
    Bot.id,
    Bot.name,
    Bot.strategy_type,
    cast(Bot.strategy_config, Text),
    Bot.product_id,
    Bot.timeframe,
    cast(Bot.budget, Text),
    Bot.is_active,
    Bot.halted_at,
    Bot.account,
)


def content_marker(row: Sequence[Any]) -> str:
    """A bot's ``MARKER_COLUMNS`` (after the id) as one comparable string."""
    return "\x1f".join(str(value) for value in row[1:])


def _store_load_problems(writes: sessionmaker[Session], problems: dict[int, str]) -> None:
    """Each unloadable bot's reason in its ``last_error`` (a bot deleted meanwhile is
    simply not updated)."""
    with transaction(writes) as session:
        for bot_id, message in sorted(problems.items()):
            session.execute(update(Bot).where(Bot.id == bot_id).values(last_error=message))


class RuntimeRegistry:
    def __init__(self, market: MarketService) -> None:
        self._market = market
        self._runtimes: dict[int, BotRuntime] = {}
        self._markers: dict[int, str] = {}
        self.load_errors: dict[int, str] = {}
        self.live = False  # the server trades live: bots of the live account are run

    def __len__(self) -> int:
        return len(self._runtimes)

    def get(self, bot_id: int) -> BotRuntime | None:
        return self._runtimes.get(bot_id)

    def runtimes(self) -> list[BotRuntime]:
        snapshot = list(self._runtimes.items())  # one C-level copy: safe beside a writer
        return [runtime for _, runtime in sorted(snapshot, key=lambda item: item[0])]

    async def catalog(self) -> Catalog:
        """The market's products, fetched without holding anything."""
        try:
            return Catalog(await self._products())
        except MarketUnavailable as error:
            return Catalog(None, f"market data unavailable: {error}")

    async def sync(
        self,
        reads: sessionmaker[Session],
        writes: sessionmaker[Session],
        catalog: Catalog | None = None,
        only: set[int] | None = None,
    ) -> str | None:
        """Load new or changed bots, drop deleted ones and idle stopped ones (of ``only``,
        when given: the bots the API says it changed).

        When the market cannot list its products, loaded bots stay as they are, bots not
        loaded yet get the reason in ``last_error`` and are tried again next time; the
        reason is returned.

        The bots are read in a transaction of ``reads``, which takes no lock (a sync runs
        at every wake-up, and on SQLite a writer's transaction would hold every API write
        back meanwhile); the reasons a bot could not be loaded are then stored in a short
        transaction of ``writes``.
        """
        catalog = catalog if catalog is not None else await self.catalog()
        problems = await in_thread(lambda: self._sync_rows(reads, catalog, only))
        if problems:
            await in_thread(lambda: _store_load_problems(writes, problems))
        return catalog.unavailable

    def _sync_rows(
        self, sessions: sessionmaker[Session], catalog: Catalog, only: set[int] | None
    ) -> dict[int, str]:
        """The database half of ``sync``: every bot that should run (active, or holding
        an open deal). A bot whose marker is unchanged costs one row of plain columns;
        only new or changed ones are read in full and rebuilt. Returns the ``last_error``
        of each bot that could not be loaded."""
        products, unavailable = catalog.products, catalog.unavailable
        open_deals = select(Position.bot_id).where(Position.status == "open")
        runs = or_(Bot.is_active, Bot.id.in_(open_deals))
        if self.live:
            # a live bot's cancel the exchange has not confirmed is asked again at its
            # steps, even once the bot is stopped and its deal closed (a safety buy left
            # resting); only a live server has such orders, and only it pays the query
            cancelling = select(Order.bot_id).where(
                Order.status.in_(WORKING_STATUSES), Order.cancel_requested_at.is_not(None)
            )
            runs = or_(runs, Bot.id.in_(cancelling))
        wanted = select(*MARKER_COLUMNS).where(Bot.deleted_at.is_(None), runs)
        if only is not None:
            wanted = wanted.where(Bot.id.in_(sorted(only)))
        problems: dict[int, str] = {}
        with transaction(sessions) as session:
            seen: set[int] = set()
            pending: list[tuple[Bot, str]] = []
            for row in session.execute(wanted.order_by(Bot.id)):
                bot_id = int(row[0])
                seen.add(bot_id)
                marker = content_marker(row)
                if self._markers.get(bot_id) == marker and bot_id in self._runtimes:
                    continue
                bot = session.get(Bot, bot_id)
                assert bot is not None  # read in this transaction a moment ago
                if products is None:
                    if bot_id not in self._runtimes and unavailable is not None:
                        problems[bot_id] = unavailable
                    continue
                pending.append((bot, marker))
            if products is not None:
                problems.update(self._load_all(session, pending, products))
            looked_at = set(self._runtimes) if only is None else set(self._runtimes) & only
            for bot_id in looked_at - seen:
                self.drop(bot_id)
        return problems

    def changed_since_load(self, session: Session, bot_ids: list[int]) -> set[int]:
        """Of ``bot_ids``, those whose row changed since they were loaded, or that were
        deleted. Called first in a cycle's transaction: the rows stay locked until it ends
        (``FOR UPDATE``; on SQLite the cycle's ``BEGIN IMMEDIATE`` holds the database), so
        an edit either lands before this check, and the bot sits the cycle out to be
        reloaded, or waits for the cycle's commit: a bot stopped by the API never opens a
        deal after the API said it stopped."""
        if not bot_ids:
            return set()
        rows = session.execute(
            select(*MARKER_COLUMNS)
            .where(Bot.id.in_(bot_ids), Bot.deleted_at.is_(None))
            .order_by(Bot.id)
            .with_for_update()
        )
        current = {int(row[0]): content_marker(row) for row in rows}
        return {bot_id for bot_id in bot_ids if current.get(bot_id) != self._markers.get(bot_id)}

    def _load_all(
        self, session: Session, pending: list[tuple[Bot, str]], products: dict[str, ProductSpec]
    ) -> dict[int, str]:
        """Load bots in id order, their realised PnL read in one grouped query (at start,
        one query per bot took 1.4 s for 1,000 bots on PostgreSQL); returns why each bot
        that could not be loaded could not."""
        realized = realized_by_bot(session, [bot for bot, _ in pending])
        problems: dict[int, str] = {}
        for bot, marker in pending:
            product = products.get(bot.product_id)
            problem = self._load(session, bot, product, marker, realized[bot.id])
            if problem is not None:
                problems[bot.id] = problem
        return problems

    def _load(
        self,
        session: Session,
        bot: Bot,
        product: ProductSpec | None,
        marker: str,
        realized: Decimal,
    ) -> str | None:
        try:
            if product is None:
                raise ValueError(f"unknown product {bot.product_id}")
            runtime = build_runtime(session, bot, product, realized, live=self.live)
        except Exception as error:  # a broken bot must not stop the others
            message = f"cannot load bot: {error}"
            log.warning("bot %s: %s", bot.id, message)
            self._runtimes.pop(bot.id, None)
            self._markers[bot.id] = marker
            self.load_errors[bot.id] = message
            return message
        self.load_errors.pop(bot.id, None)
        self._runtimes[bot.id] = runtime
        self._markers[bot.id] = marker
        return None

    async def _products(self) -> dict[str, ProductSpec]:
        return {product.product_id: product for product in await self._market.products()}

    def clear(self) -> None:
        self._runtimes.clear()
        self._markers.clear()
        self.load_errors.clear()

    def replace(self, runtime: BotRuntime) -> None:
        """Swap in a runtime rebuilt from the database after a failed step."""
        self._runtimes[runtime.bot_id] = runtime

    def drop(self, bot_id: int) -> None:
        self._runtimes.pop(bot_id, None)
        self._markers.pop(bot_id, None)
        self.load_errors.pop(bot_id, None)

    def due(self, now: float) -> dict[Key, list[BotRuntime]]:
        """Bots with a closed candle they have not processed yet, grouped by market key."""
        groups: dict[Key, list[BotRuntime]] = defaultdict(list)
        for runtime in self.runtimes():
            latest = last_closed_open_time(now, runtime.tf_seconds)
            if runtime.last_candle_time is None or runtime.last_candle_time < latest:
                groups[runtime.key].append(runtime)
        return dict(groups)

    def next_close(self, now: float) -> float:
        """When the next candle of any loaded bot closes (in a minute if none is loaded)."""
        frames = {runtime.tf_seconds for runtime in list(self._runtimes.values())}
        if not frames:
            return now + 60.0
        return float(min((int(now // tf) + 1) * tf for tf in frames))

    def find_position(self, position_id: int) -> tuple[BotRuntime, int]:
        """The runtime holding open position ``position_id`` and its deal seq."""
        for runtime in list(self._runtimes.values()):
            for seq, pid in runtime.position_ids.items():
                if pid == position_id and runtime.state.deal(seq) is not None:
                    return runtime, seq
        raise LookupError(f"position {position_id} is not an open deal of a loaded bot")
