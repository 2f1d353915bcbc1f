"""Bot CRUD and start/stop. Each change is stored first, then the engine is told at once.

Each route's database work is one trip to a worker thread (``Database``); market calls
are awaited on the loop before it, so no lock is held while the market answers. Writes
never wait for the engine: its cycle locks the rows of the bots it steps, so a write
waits at most for that cycle's commit (then 503), and a bot edited meanwhile sits the
cycle out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from sqlalchemy.orm import Session

from tradefleet.api.deps import DatabaseDep, EngineDep, MarketDep
from tradefleet.api.errors import guarded
from tradefleet.api.fast_json import FastJSON
from tradefleet.api.schemas.bots import BotCreate, BotPublic, BotsPublic, BotUpdate
from tradefleet.api.schemas.common import RowId, error_responses
from tradefleet.db.models import Bot
from tradefleet.domain import ProductSpec
from tradefleet.engine.protocols import EngineControl, MarketView
from tradefleet.services import bots as service

router = APIRouter(prefix="/bots", tags=["bots"], responses=error_responses(404, 409, 503))


async def _product(market: MarketView, product_id: str | None) -> ProductSpec | None:
    if product_id is None:
        return None
    return await guarded(market.product(product_id), f"look up product {product_id}")


_PUBLIC_COLUMNS = tuple(
    getattr(Bot, name) for name in BotPublic.model_fields if name != "open_positions"
)


def _every_bot(session: Session) -> dict[str, Any]:
    """``BotsPublic`` as plain values: the rows are what the API stored, so a thousand of
    them need no model each (``api.fast_json``)."""
    counts = service.open_position_counts(session)
    rows = service.live_bot_rows(session, _PUBLIC_COLUMNS)
    for row in rows:
        row["open_positions"] = counts.get(row["id"], 0)
    return {"data": rows, "count": len(rows)}


@router.get("", response_model=BotsPublic)
async def read_bots(db: DatabaseDep) -> FastJSON:
    return FastJSON(await db.read(_every_bot))


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_bot(
    body: BotCreate, db: DatabaseDep, market: MarketDep, engine: EngineDep
) -> BotPublic:
    """Create an inactive bot; POST /bots/{id}/start sets it trading."""
    data = service.BotInput(**body.model_dump())
    product = await _product(market, body.product_id)
    live = engine.live_problem()
    return await db.write(
        lambda session: BotPublic.from_bot(service.create_bot(session, data, product, live), 0)
    )


@router.get("/{bot_id}")
async def read_bot(bot_id: RowId, db: DatabaseDep) -> BotPublic:
    def one(session: Session) -> BotPublic:
        bot = service.get_bot(session, bot_id)
        return BotPublic.from_bot(bot, service.open_position_count(session, bot.id))

    return await db.read(one)


@router.put("/{bot_id}")
async def update_bot(
    bot_id: RowId, body: BotUpdate, db: DatabaseDep, engine: EngineDep, market: MarketDep
) -> BotPublic:
    """Change some fields; the config is re-validated and the engine reloads the bot."""
    changes = service.BotChanges(**body.model_dump(exclude_none=True))
    wanted = None
    if service.may_need_product(changes):
        wanted = await db.read(
            lambda session: service.product_to_check(service.get_bot(session, bot_id), changes)
        )
    product = await _product(market, wanted)  # no lock held while the market is asked
    live = engine.live_problem()

    def change(session: Session) -> BotPublic:
        deals = service.open_position_count(session, bot_id)
        bot = service.update_bot(session, bot_id, changes, product, live)
        return BotPublic.from_bot(bot, deals)

    updated = await db.write(change)
    engine.bot_changed(bot_id)
    return updated


@router.delete("/{bot_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_bot(bot_id: RowId, db: DatabaseDep, engine: EngineDep) -> None:
    """Refused (409) while the bot holds open positions."""
    await db.write(lambda session: service.delete_bot(session, bot_id))
    engine.bot_changed(bot_id)


@router.post("/{bot_id}/start")
async def start_bot(bot_id: RowId, db: DatabaseDep, engine: EngineDep) -> BotPublic:
    """Mark the bot active; the engine loads it at once (a bot it cannot load, e.g. with a
    product the market no longer lists, says why in ``last_error``)."""
    return await _set_active(db, engine, bot_id, True)


@router.post("/{bot_id}/stop")
async def stop_bot(bot_id: RowId, db: DatabaseDep, engine: EngineDep) -> BotPublic:
    """Stop opening deals; open deals stay open and their resting orders keep working.
    Once this answers, the bot opens no deal: a cycle stepping it finished first."""
    return await _set_active(db, engine, bot_id, False)


async def _set_active(
    db: DatabaseDep, engine: EngineControl, bot_id: int, active: bool
) -> BotPublic:
    def switch(session: Session) -> BotPublic:
        deals = service.open_position_count(session, bot_id)  # in the write's own transaction
        return BotPublic.from_bot(service.set_active(session, bot_id, active), deals)

    switched = await db.write(switch)
    engine.bot_changed(bot_id)  # stored: wake the engine, whose next cycle reloads the bot
    return switched
