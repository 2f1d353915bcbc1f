"""A route's database work: one trip to a worker thread, with a session of its own.

The routes are coroutines, so FastAPI checks the token, parses the request and encodes
the answer on the event loop, which does no I/O for them; only the database work leaves
it, once per request. The session is made, used and closed (its connection back in the
pool, what was not committed rolled back) in that one thread, so a request holds a
connection only while a worker thread runs it, and the loop waits on nothing. A work
function returns plain values or response models, never ORM objects, whose lazy loads
would reach the database from the loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from anyio import CapacityLimiter, to_thread
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.capacity import API_THREADS, API_WRITE_THREADS

T = TypeVar("T")


class ThreadShares:
    """The API's worker threads, and how many of them writes may hold at once: a write can
    wait seconds for a lock an engine cycle holds (SQLite's write lock, a bot's row), and
    writes waiting so must never take every thread from the reads, which wait for
    nothing. Otherwise reads and writes queue for the threads together, in order, so
    under load neither kind waits much longer than the other. One set per event loop (a
    limiter's waiters belong to the loop they wait on)."""

    def __init__(self, threads: int = API_THREADS, writes: int = API_WRITE_THREADS) -> None:
        if not 0 < writes < threads:
            raise ValueError(f"writes ({writes}) must leave reads a thread of {threads}")
        self._sizes = threads, writes
        self._per_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[CapacityLimiter, CapacityLimiter]
        ] = weakref.WeakKeyDictionary()

    def limiters(self) -> tuple[CapacityLimiter, CapacityLimiter]:
        """(every request's threads, the share writes may hold) on the running loop."""
        loop = asyncio.get_running_loop()
        pair = self._per_loop.get(loop)
        if pair is None:
            pair = CapacityLimiter(self._sizes[0]), CapacityLimiter(self._sizes[1])
            self._per_loop[loop] = pair
        return pair


@dataclass(frozen=True, slots=True)
class Database:
    """The API's two session factories: plain reads, and writes (on SQLite a writer's
    transaction takes the write lock when it begins, see ``read_write_factories``)."""

    reads: sessionmaker[Session]
    writes: sessionmaker[Session]
    threads: ThreadShares  # the app's one set: every request queues for the same threads

    async def read(self, work: Callable[[Session], T]) -> T:
        threads, _ = self.threads.limiters()
        return await to_thread.run_sync(_in_session, self.reads, work, limiter=threads)

    async def write(self, work: Callable[[Session], T]) -> T:
        threads, write_share = self.threads.limiters()
        async with write_share:
            return await to_thread.run_sync(_in_session, self.writes, work, limiter=threads)


def _in_session(factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """Not abandoned when the request is cancelled (``run_sync``'s default): a shutdown
    waits here until the session is closed, so no transaction is left open."""
    with factory() as session:
        return work(session)
