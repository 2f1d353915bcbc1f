"""Bot CRUD and start/stop. Each change is stored first, then the engine is told at once.

Plain ``def`` routes: FastAPI runs them in worker threads, so their database work never
blocks the event loop; engine and market calls go to the loop through ``on_loop``."""

from __future__ import annotations

from fastapi import APIRouter, status

from tradefleet.api.deps import BotDep, EngineDep, MarketDep, SessionDep
from tradefleet.api.errors import UnavailableError
from tradefleet.api.pausing import engine_paused, on_loop
from tradefleet.api.schemas.bots import BotCreate, BotPublic, BotsPublic, BotUpdate
from tradefleet.api.schemas.common import error_responses
from tradefleet.domain import ProductSpec
from tradefleet.engine.protocols import MarketView
from tradefleet.services import bots as service

router = APIRouter(prefix="/bots", tags=["bots"], responses=error_responses(404, 409, 503))


def _product(market: MarketView, product_id: str | None) -> ProductSpec | None:
    if product_id is None:
        return None
    return on_loop(market.product, product_id, what=f"look up product {product_id}")


@router.get("")
def read_bots(session: SessionDep) -> BotsPublic:
    bots = service.list_bots(session)
    counts = service.open_position_counts(session)
    data = [BotPublic.from_bot(bot, counts.get(bot.id, 0)) for bot in bots]
    return BotsPublic(data=data, count=len(data))


@router.post("", status_code=status.HTTP_201_CREATED)
def create_bot(
    body: BotCreate, session: SessionDep, market: MarketDep, engine: EngineDep
) -> BotPublic:
    """Create an inactive bot; POST /bots/{id}/start sets it trading."""
    data = service.BotInput(**body.model_dump())
    product = _product(market, body.product_id)
    with engine_paused(engine, session):
        bot = service.create_bot(session, data, product)
    return BotPublic.from_bot(bot, 0)


@router.get("/{bot_id}")
def read_bot(bot: BotDep, session: SessionDep) -> BotPublic:
    return BotPublic.from_bot(bot, service.open_position_count(session, bot.id))


@router.put("/{bot_id}")
def update_bot(
    bot: BotDep, body: BotUpdate, session: SessionDep, engine: EngineDep, market: MarketDep
) -> BotPublic:
    """Change some fields; the config is re-validated and the engine reloads the bot."""
    changes = service.BotChanges(**body.model_dump(exclude_none=True))
    product = _product(market, service.product_to_check(bot, changes))
    with engine_paused(engine, session):
        updated = service.update_bot(session, bot.id, changes, product)
    on_loop(engine.reload_bot, bot.id, what=f"reload bot {bot.id}")
    return BotPublic.from_bot(updated, service.open_position_count(session, bot.id))


@router.delete("/{bot_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_bot(bot: BotDep, session: SessionDep, engine: EngineDep) -> None:
    """Refused (409) while the bot holds open positions."""
    bot_id = bot.id
    with engine_paused(engine, session):
        service.delete_bot(session, bot_id)
    on_loop(engine.forget_bot, bot_id, what=f"drop bot {bot_id} from the engine")


@router.post("/{bot_id}/start")
def start_bot(bot: BotDep, session: SessionDep, engine: EngineDep) -> BotPublic:
    """Mark the bot active and start it; if the engine refuses, the bot stays as it was."""
    was_active = bot.is_active
    with engine_paused(engine, session):
        service.set_active(session, bot.id, True)
    try:
        on_loop(engine.start_bot, bot.id, what=f"start bot {bot.id}")
    except UnavailableError:
        service.set_active(session, bot.id, was_active)
        raise
    return BotPublic.from_bot(bot, service.open_position_count(session, bot.id))


@router.post("/{bot_id}/stop")
def stop_bot(bot: BotDep, session: SessionDep, engine: EngineDep) -> BotPublic:
    """Stop opening deals; open deals stay open and their resting orders keep working."""
    with engine_paused(engine, session):
        service.set_active(session, bot.id, False)
    on_loop(engine.stop_bot, bot.id, what=f"stop bot {bot.id}")
    return BotPublic.from_bot(bot, service.open_position_count(session, bot.id))
