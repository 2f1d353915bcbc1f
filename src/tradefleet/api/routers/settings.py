"""Run-time settings: shown without secrets; fees and slippage can be changed live."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from tradefleet.api.deps import DatabaseDep, EngineDep, SettingsDep
from tradefleet.api.errors import guarded
from tradefleet.api.schemas.common import error_responses
from tradefleet.api.schemas.settings import FeesPublic, SettingsPublic, SettingsUpdate
from tradefleet.brokers.credentials import key_configured
from tradefleet.config import Settings
from tradefleet.domain import FeeSchedule
from tradefleet.services import fees as fee_service
from tradefleet.services import records

router = APIRouter(prefix="/settings", tags=["settings"], responses=error_responses(503))


def _public(settings: Settings, fees: FeeSchedule, session: Session) -> SettingsPublic:
    """Only whether keys are configured is shown, never a key, a secret or a hash. The
    starting balances are the account's own once it exists (the env only seeds it)."""
    stored = {row.currency: row.starting for row in records.paper_balances(session)}
    return SettingsPublic(
        mode=settings.mode.value,
        market=settings.market.value,
        exchange=settings.exchange,
        fees=FeesPublic(taker=fees.taker, maker=fees.maker, slippage=fees.slippage),
        paper_balances=stored or dict(settings.paper_balances),
        api_key_configured=key_configured(settings),
    )


@router.get("")
async def read_settings(db: DatabaseDep, settings: SettingsDep) -> SettingsPublic:
    return await db.read(
        lambda session: _public(settings, fee_service.load_fees(session, settings), session)
    )


@router.put("")
async def update_settings(
    body: SettingsUpdate, db: DatabaseDep, settings: SettingsDep, engine: EngineDep
) -> SettingsPublic:
    """Store new fee rates (omitted ones stay) and have the engine use them at once."""
    changes = body.fees.model_dump(exclude_none=True)

    def store(session: Session) -> SettingsPublic:
        current = fee_service.load_fees(session, settings)
        fees = fee_service.save_fees(
            session,
            FeeSchedule(
                taker=changes.get("taker", current.taker),
                maker=changes.get("maker", current.maker),
                slippage=changes.get("slippage", current.slippage),
            ),
        )
        return _public(settings, fees, session)

    stored = await db.write(store)
    await guarded(engine.reload_settings(), "reload the settings")
    return stored
