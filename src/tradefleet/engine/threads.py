"""Database work off the event loop, safe against cancellation."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def in_thread(work: Callable[[], T]) -> T:
    """Run database work in a worker thread. A caller cancelled meanwhile (a shutdown)
    still waits for the work to finish, so a lock it holds is never released while a
    transaction is half done: the transaction commits or rolls back first."""
    future = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        while not future.done():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.shield(future)
        raise
