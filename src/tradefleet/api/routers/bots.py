"""Bot CRUD and start/stop. Each change is stored first, then the engine is told at once.

Plain ``def`` routes: FastAPI runs them in worker threads, so their database work never
blocks the event loop; market calls go to the loop through ``on_loop``. Writes never wait
for the engine: its cycle locks the rows of the bots it steps, so a write waits at most
for that cycle's commit (then 503), and a bot edited meanwhile sits the cycle out."""

from __future__ import annotations

from anyio import from_thread
from fastapi import APIRouter, status
from sqlalchemy.orm import Session

from tradefleet.api.bridge import on_loop
from tradefleet.api.deps import BotDep, EngineDep, MarketDep, SessionDep, WriteSessionDep
from tradefleet.api.schemas.bots import BotCreate, BotPublic, BotsPublic, BotUpdate
from tradefleet.api.schemas.common import RowId, error_responses
from tradefleet.db.models import Bot
from tradefleet.domain import ProductSpec
from tradefleet.engine.protocols import EngineControl, MarketView
from tradefleet.services import bots as service

router = APIRouter(prefix="/bots", tags=["bots"], responses=error_responses(404, 409, 503))


def _product(market: MarketView, product_id: str | None) -> ProductSpec | None:
    if product_id is None:
        return None
    return on_loop(market.product, product_id, what=f"look up product {product_id}")


_PUBLIC_COLUMNS = tuple(
    getattr(Bot, name) for name in BotPublic.model_fields if name != "open_positions"
)


@router.get("")
def read_bots(session: SessionDep) -> BotsPublic:
    counts = service.open_position_counts(session)
    data = [
        BotPublic.model_construct(**row, open_positions=counts.get(row["id"], 0))
        for row in service.live_bot_rows(session, _PUBLIC_COLUMNS)
    ]
    return BotsPublic(data=data, count=len(data))


@router.post("", status_code=status.HTTP_201_CREATED)
def create_bot(body: BotCreate, session: WriteSessionDep, market: MarketDep) -> BotPublic:
    """Create an inactive bot; POST /bots/{id}/start sets it trading."""
    data = service.BotInput(**body.model_dump())
    product = _product(market, body.product_id)
    bot = service.create_bot(session, data, product)
    return BotPublic.from_bot(bot, 0)


@router.get("/{bot_id}")
def read_bot(bot: BotDep, session: SessionDep) -> BotPublic:
    return BotPublic.from_bot(bot, service.open_position_count(session, bot.id))


@router.put("/{bot_id}")
def update_bot(
    bot_id: RowId,
    body: BotUpdate,
    session: WriteSessionDep,
    engine: EngineDep,
    market: MarketDep,
) -> BotPublic:
    """Change some fields; the config is re-validated and the engine reloads the bot."""
    changes = service.BotChanges(**body.model_dump(exclude_none=True))
    current = service.get_bot(session, bot_id)
    wanted = service.product_to_check(current, changes)
    session.rollback()  # no lock held while the market is asked
    product = _product(market, wanted)
    deals = service.open_position_count(session, bot_id)
    updated = service.update_bot(session, bot_id, changes, product)
    _tell(engine, bot_id)
    return BotPublic.from_bot(updated, deals)


@router.delete("/{bot_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_bot(bot_id: RowId, session: WriteSessionDep, engine: EngineDep) -> None:
    """Refused (409) while the bot holds open positions."""
    service.delete_bot(session, bot_id)
    _tell(engine, bot_id)


@router.post("/{bot_id}/start")
def start_bot(bot_id: RowId, session: WriteSessionDep, engine: EngineDep) -> BotPublic:
    """Mark the bot active; the engine loads it at once (a bot it cannot load, e.g. with a
    product the market no longer lists, says why in ``last_error``)."""
    return _set_active(session, engine, bot_id, True)


@router.post("/{bot_id}/stop")
def stop_bot(bot_id: RowId, session: WriteSessionDep, engine: EngineDep) -> BotPublic:
    """Stop opening deals; open deals stay open and their resting orders keep working.
    Once this answers, the bot opens no deal: a cycle stepping it finished first."""
    return _set_active(session, engine, bot_id, False)


def _set_active(session: Session, engine: EngineControl, bot_id: int, active: bool) -> BotPublic:
    deals = service.open_position_count(session, bot_id)  # in the write's own transaction
    bot = service.set_active(session, bot_id, active)
    _tell(engine, bot_id)
    return BotPublic.from_bot(bot, deals)


def _tell(engine: EngineControl, bot_id: int) -> None:
    """The change is stored: wake the engine, whose next cycle reloads the bot."""
    from_thread.run_sync(engine.bot_changed, bot_id)
