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
import contextlib
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TypeVar

from anyio import CapacityLimiter, to_thread
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.capacity import API_THREADS, API_WRITE_THREADS

T = TypeVar("T")


class ThreadShares:
    """The API's worker threads, given in the order requests ask for them; writes may hold
    at most ``writes`` of them at once: a write can wait seconds for a lock an engine
    cycle holds (SQLite's write lock, a bot's row), and writes waiting so must never take
    every thread from the reads, which wait for nothing. A write that would pass that
    share waits at the head of the line and lets the reads behind it go first; otherwise
    nobody overtakes anybody. (Two limiters in a row, the write share and then the
    threads, made a write queue twice, and writes took twice as long as reads under load.)
    One set per event loop: its waiters belong to the loop they wait on."""

    def __init__(self, threads: int = API_THREADS, writes: int = API_WRITE_THREADS) -> None:
        if not 0 < writes < threads:
            raise ValueError(f"writes ({writes}) must leave reads a thread of {threads}")
        self._sizes = threads, writes
        self._per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ThreadLine] = (
            weakref.WeakKeyDictionary()
        )

    def line(self) -> ThreadLine:
        """The running loop's line."""
        loop = asyncio.get_running_loop()
        line = self._per_loop.get(loop)
        if line is None:
            line = self._per_loop[loop] = ThreadLine(*self._sizes)
        return line


class ThreadLine:
    """Threads handed out in arrival order (see ``ThreadShares``)."""

    def __init__(self, threads: int, writes: int) -> None:
        self._threads, self._writes = threads, writes
        self._busy = self._busy_writes = 0
        self._waiting: deque[tuple[bool, asyncio.Future[None]]] = deque()
        self.limiter = CapacityLimiter(threads)  # never waited on: the line comes first

    @contextlib.asynccontextmanager
    async def turn(self, write: bool) -> AsyncIterator[None]:
        """Hold a thread (a write also one of the writes' share) while the block runs."""
        await self._acquire(write)
        try:
            yield
        finally:
            self._give_back(write)

    async def _acquire(self, write: bool) -> None:
        if not self._waiting and self._free_for(write):
            self._take(write)
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (write, granted)
        self._waiting.append(entry)
        self._hand_out()  # a read behind writes held back by their share may go at once
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():  # given, then cancelled
                self._give_back(write)
            else:  # still in line, unless a hand-out saw it cancelled and took it out
                with contextlib.suppress(ValueError):
                    self._waiting.remove(entry)
            raise

    def _free_for(self, write: bool) -> bool:
        return self._busy < self._threads and (not write or self._busy_writes < self._writes)

    def _take(self, write: bool) -> None:
        self._busy += 1
        self._busy_writes += write

    def _give_back(self, write: bool) -> None:
        self._busy -= 1
        self._busy_writes -= write
        self._hand_out()

    def _hand_out(self) -> None:
        for entry in list(self._waiting):
            if self._busy >= self._threads:
                return
            write, granted = entry
            if granted.done():  # cancelled while waiting
                self._waiting.remove(entry)
            elif self._free_for(write):
                self._waiting.remove(entry)
                self._take(write)
                granted.set_result(None)


@dataclass(frozen=True, slots=True)
class Database:
    """The API's two session factories: plain reads, and writes (on SQLite a writer's
    transaction takes the write lock when it begins, see ``read_write_factories``)."""

    reads: sessionmaker[Session]
    writes: sessionmaker[Session]
    threads: ThreadShares  # the app's one set: every request queues for the same threads

    async def read(self, work: Callable[[Session], T]) -> T:
        line = self.threads.line()
        async with line.turn(write=False):
            return await to_thread.run_sync(_in_session, self.reads, work, limiter=line.limiter)

    async def write(self, work: Callable[[Session], T]) -> T:
        line = self.threads.line()
        async with line.turn(write=True):
            return await to_thread.run_sync(_in_session, self.writes, work, limiter=line.limiter)


def _in_session(factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """Not abandoned when the request is cancelled (``run_sync``'s default): a shutdown
    waits here until the session is closed, so no transaction is left open."""
    with factory() as session:
        return work(session)
