"""A real ``tradefleet serve`` under concurrent load (a small ``bench/api_load.py``):
nothing lost, nothing half done, nothing twice, and a SIGTERM mid-load exits cleanly."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.loadkit.drive import create_trading_bots, database_problems, login, run_clients
from bench.loadkit.server import ServerProcess

from tradefleet.db.session import make_engine, make_session_factory

CLIENTS = 16
REQUESTS = 400


def _unexpected_failures(failed: dict[str, int]) -> dict[str, int]:
    """5xx answers other than 503 (which must carry Retry-After, counted apart)."""
    return {
        kind: n for kind, n in failed.items() if kind.split()[-1].isdigit() and "503" not in kind
    }


async def _load(server: ServerProcess, *, sigterm_after: float | None) -> None:
    token = await login(server.base_url)
    trading = await create_trading_bots(server.base_url, token, 12)
    exits: list[tuple[int, float]] = []

    async def sigterm_then_restart() -> None:
        assert sigterm_after is not None
        await asyncio.sleep(sigterm_after)
        exits.append(await asyncio.to_thread(server.terminate))
        await asyncio.to_thread(server.start)

    crowd, tally, health, _wall = await run_clients(
        server.base_url, token, clients=CLIENTS, requests=REQUESTS, trading=trading, seed=7,
        beside=sigterm_then_restart if sigterm_after is not None else None,
    )  # fmt: skip
    final_code, _seconds = server.terminate()
    assert tally.problems == []
    assert (tally.hangs, tally.bare_503) == (0, 0)
    assert _unexpected_failures(tally.failed) == {}
    assert final_code in (0, -15), server.log()  # -15: uvicorn re-raises SIGTERM when done
    assert "Traceback" not in server.log()
    assert len(tally.created_names) > 10  # the load did create, so the checks saw writes
    if sigterm_after is None:
        assert "no answer" not in tally.statuses
        assert health.failures == 0  # /api/health answered every probe throughout
    else:
        [(code, _)] = exits
        assert code in (0, -15)  # a clean exit, not a kill after the 30 s wait
    sessions = make_session_factory(make_engine(server.database_url))
    assert database_problems(sessions, crowd, tally) == []


def test_concurrent_writes_and_reads_lose_nothing(database_url: str, tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, database_url, speed=120)
    try:
        server.start()
        asyncio.run(_load(server, sigterm_after=None))
    finally:
        server.ensure_stopped()


def test_sigterm_under_load_exits_cleanly_and_keeps_the_books(
    database_url: str, tmp_path: Path
) -> None:
    server = ServerProcess(tmp_path, database_url, speed=120)
    try:
        server.start()
        asyncio.run(_load(server, sigterm_after=1.5))
    finally:
        server.ensure_stopped()
