"""``build_platform``'s start-up: what must exist before the engine's first cycle."""

from __future__ import annotations

import gc

from tradefleet.api.auth import JWT_SECRET_KEY, password_id
from tradefleet.config import MarketKind, Settings
from tradefleet.db.models import Setting
from tradefleet.platform import GC_THRESHOLDS, build_platform


async def test_the_signing_key_is_stored_before_the_engine_starts(migrated_url: str) -> None:
    """The first login must not be the first write of the key: on SQLite it could meet an
    engine cycle's write lock. Start-up stores it, and the login's password id is ready."""
    settings = Settings(
        database_url=migrated_url, market=MarketKind.SIMULATED, _env_file=None,  # type: ignore[call-arg]
    )  # fmt: skip
    platform = await build_platform(settings)
    with platform.session_factory() as session:
        assert session.get(Setting, JWT_SECRET_KEY) is None
    async with platform.app.router.lifespan_context(platform.app):
        with platform.session_factory() as session:
            stored = session.get(Setting, JWT_SECRET_KEY)
        assert stored is not None and isinstance(stored.value, str) and len(stored.value) >= 40
        key = platform.app.state.context.signing_key
        assert key.get() == stored.value
        assert password_id(stored.value, platform.session_factory, settings) == key.password_id()


async def test_serve_s_platform_freezes_what_start_up_loaded(migrated_url: str) -> None:
    """Only ``tradefleet serve`` asks for it (the tests build many platforms in one
    process): once the engine has loaded, the heap is frozen and the first GC threshold
    raised, so a full collection under load no longer walks everything start-up made."""
    settings = Settings(
        database_url=migrated_url, market=MarketKind.SIMULATED, _env_file=None,  # type: ignore[call-arg]
    )  # fmt: skip
    thresholds = gc.get_threshold()
    plain = await build_platform(settings)
    async with plain.app.router.lifespan_context(plain.app):
        assert (gc.get_freeze_count(), gc.get_threshold()) == (0, thresholds)
    platform = await build_platform(settings, settle_heap=True)
    try:
        async with platform.app.router.lifespan_context(platform.app):
            assert gc.get_freeze_count() > 10_000
            assert gc.get_threshold() == GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
