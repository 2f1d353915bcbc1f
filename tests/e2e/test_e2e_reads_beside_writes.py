"""A real ``tradefleet serve`` whose writes wait for a lock still answers its reads:
writes hold only a share of the worker threads (``api.database``), so writes stuck
behind an engine cycle (here: a lock this test holds) never take every thread."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
from bench.loadkit.drive import create_trading_bots, login
from bench.loadkit.server import ServerProcess

from tradefleet.capacity import API_THREADS

# as many writes as the API has threads: were their share not capped, they would take
# every thread and the reads would wait for the lock too
WRITES = API_THREADS


@contextmanager
def bot_locked(database_url: str, bot_id: int) -> Iterator[None]:
    """Hold what an engine cycle holds while it steps the bot: SQLite's write lock, or
    the bot's row on PostgreSQL."""
    if database_url.startswith("sqlite"):
        raw = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        raw.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            raw.execute("ROLLBACK")
            raw.close()
        return
    with psycopg.connect(database_url) as connection:
        connection.execute("SELECT id FROM bots WHERE id = %s FOR UPDATE", (bot_id,))
        yield
        connection.rollback()


async def _reads_while_writes_wait(server: ServerProcess) -> None:
    token = await login(server.base_url)
    [bot_id] = await create_trading_bots(server.base_url, token, 1)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30) as http:
        with bot_locked(server.database_url, bot_id):
            writes = [
                asyncio.create_task(
                    http.put(f"/api/bots/{bot_id}", json={"description": f"edit {n}"})
                )
                for n in range(WRITES)
            ]
            await asyncio.sleep(0.5)  # every write is in, waiting for the lock
            assert not any(write.done() for write in writes)
            one = await asyncio.wait_for(http.get(f"/api/bots/{bot_id}"), timeout=3)
            every = await asyncio.wait_for(http.get("/api/bots"), timeout=3)
            # the reads were answered while every write still waited for the lock
            assert (one.status_code, every.status_code) == (200, 200)
            assert [bot["id"] for bot in every.json()["data"]] == [bot_id]
            assert not any(write.done() for write in writes)
        answers = await asyncio.gather(*writes)
        assert [answer.status_code for answer in answers] == [200] * WRITES
        stored = (await http.get(f"/api/bots/{bot_id}")).json()["description"]
    assert stored in {f"edit {n}" for n in range(WRITES)}


def test_reads_are_answered_while_writes_wait_for_a_lock(database_url: str, tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, database_url)
    try:
        server.start()
        asyncio.run(_reads_while_writes_wait(server))
        code, _seconds = server.terminate()
        assert code in (0, -15), server.log()
        assert "Traceback" not in server.log()
    finally:
        server.ensure_stopped()
