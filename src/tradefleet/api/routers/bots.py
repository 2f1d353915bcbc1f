"""Bot CRUD and start/stop. Each change is stored first, then the engine is told at once."""

from __future__ import annotations

from fastapi import APIRouter, status

from tradefleet.api.deps import BotDep, EngineDep, MarketDep, SessionDep
from tradefleet.api.errors import UnavailableError, guarded
from tradefleet.api.pausing import engine_paused
from tradefleet.api.schemas.bots import BotCreate, BotPublic, BotsPublic, BotUpdate
from tradefleet.api.schemas.common import error_responses
from tradefleet.domain import ProductSpec
from tradefleet.engine.protocols import MarketView
from tradefleet.services import bots as service

router = APIRouter(prefix="/bots", tags=["bots"], responses=error_responses(404, 409, 503))


async def _product(market: MarketView, product_id: str | None) -> ProductSpec | None:
    if product_id is None:
        return None
    return await guarded(market.product(product_id), f"look up product {product_id}")


@router.get("")
def read_bots(session: SessionDep) -> BotsPublic:
    bots = service.list_bots(session)
    counts = service.open_position_counts(session)
    data = [BotPublic.from_bot(bot, counts.get(bot.id, 0)) for bot in bots]
    return BotsPublic(data=data, count=len(data))


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_bot(
    body: BotCreate, session: SessionDep, market: MarketDep, engine: EngineDep
) -> BotPublic:
    """Create an inactive bot; POST /bots/{id}/start sets it trading."""
    data = service.BotInput(**body.model_dump())
    product = await _product(market, body.product_id)
    async with engine_paused(engine, session):
        bot = service.create_bot(session, data, product)
    return BotPublic.from_bot(bot, 0)


@router.get("/{bot_id}")
def read_bot(bot: BotDep, session: SessionDep) -> BotPublic:
    return BotPublic.from_bot(bot, service.open_position_count(session, bot.id))


@router.put("/{bot_id}")
async def update_bot(
    bot: BotDep, body: BotUpdate, session: SessionDep, engine: EngineDep, market: MarketDep
) -> BotPublic:
    """Change some fields; the config is re-validated and the engine reloads the bot."""
    changes = service.BotChanges(**body.model_dump(exclude_none=True))
    product = await _product(market, service.product_to_check(bot, changes))
    async with engine_paused(engine, session):
        updated = service.update_bot(session, bot.id, changes, product)
    await guarded(engine.reload_bot(bot.id), f"reload bot {bot.id}")
    return BotPublic.from_bot(updated, service.open_position_count(session, bot.id))


@router.delete("/{bot_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_bot(bot: BotDep, session: SessionDep, engine: EngineDep) -> None:
    """Refused (409) while the bot holds open positions."""
    bot_id = bot.id
    async with engine_paused(engine, session):
        service.delete_bot(session, bot_id)
    await guarded(engine.forget_bot(bot_id), f"drop bot {bot_id} from the engine")


@router.post("/{bot_id}/start")
async def start_bot(bot: BotDep, session: SessionDep, engine: EngineDep) -> BotPublic:
    """Mark the bot active and start it; if the engine refuses, the bot stays as it was."""
    was_active = bot.is_active
    async with engine_paused(engine, session):
        service.set_active(session, bot.id, True)
    try:
        await guarded(engine.start_bot(bot.id), f"start bot {bot.id}")
    except UnavailableError:
        service.set_active(session, bot.id, was_active)
        raise
    return BotPublic.from_bot(bot, service.open_position_count(session, bot.id))


@router.post("/{bot_id}/stop")
async def stop_bot(bot: BotDep, session: SessionDep, engine: EngineDep) -> BotPublic:
    """Stop opening deals; open deals stay open and their resting orders keep working."""
    async with engine_paused(engine, session):
        service.set_active(session, bot.id, False)
    await guarded(engine.stop_bot(bot.id), f"stop bot {bot.id}")
    return BotPublic.from_bot(bot, service.open_position_count(session, bot.id))
