"""The API's threads are handed out in arrival order, writes held to their share."""

from __future__ import annotations

import asyncio

import pytest

from tradefleet.api.database import ThreadLine, ThreadShares


class Holder:
    """A request that holds its thread until told to let go."""

    def __init__(self, line: ThreadLine, name: str, write: bool, started: list[str]) -> None:
        self.done = asyncio.Event()
        self.task = asyncio.create_task(self._run(line, name, write, started))

    async def _run(self, line: ThreadLine, name: str, write: bool, started: list[str]) -> None:
        async with line.turn(write):
            started.append(name)
            await self.done.wait()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_queued_write_is_not_overtaken_by_a_later_read() -> None:
    line = ThreadShares(threads=2, writes=1).line()
    started: list[str] = []
    a, b = Holder(line, "a", False, started), Holder(line, "b", False, started)
    await settle()
    write, read = Holder(line, "write", True, started), Holder(line, "read", False, started)
    await settle()
    assert started == ["a", "b"]
    a.done.set()
    await settle()
    assert started == ["a", "b", "write"]  # it came first
    b.done.set()
    await settle()
    assert started == ["a", "b", "write", "read"]
    write.done.set()
    read.done.set()
    await asyncio.gather(a.task, b.task, write.task, read.task)


async def test_a_write_waiting_for_its_share_keeps_its_place_in_line() -> None:
    """When a write ends, the next write (it came before the read) gets its thread. With a
    write share in front of the thread queue, the read took the thread first, and the
    write queued again at the back: writes took twice as long as reads under load."""
    line = ThreadShares(threads=2, writes=1).line()
    started: list[str] = []
    w1, a = Holder(line, "w1", True, started), Holder(line, "a", False, started)
    await settle()
    w2, r = Holder(line, "w2", True, started), Holder(line, "r", False, started)
    await settle()
    assert started == ["w1", "a"]
    w1.done.set()
    await settle()
    assert started == ["w1", "a", "w2"]
    for holder in (a, w2, r):
        holder.done.set()
    await asyncio.gather(w1.task, a.task, w2.task, r.task)


async def test_a_write_past_its_share_lets_the_reads_behind_it_go_first() -> None:
    line = ThreadShares(threads=3, writes=1).line()
    started: list[str] = []
    first = Holder(line, "w1", True, started)
    await settle()
    second, read = Holder(line, "w2", True, started), Holder(line, "r", False, started)
    await settle()
    assert started == ["w1", "r"]  # w2 waits for the share, r takes a free thread
    first.done.set()
    await settle()
    assert started == ["w1", "r", "w2"]
    second.done.set()
    read.done.set()
    await asyncio.gather(first.task, second.task, read.task)


async def test_a_waiter_cancelled_in_line_gives_nothing_away() -> None:
    line = ThreadShares(threads=2, writes=1).line()
    started: list[str] = []
    a, b = Holder(line, "a", False, started), Holder(line, "b", False, started)
    await settle()
    gone = Holder(line, "gone", False, started)
    await settle()
    gone.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone.task
    a.done.set()
    b.done.set()
    await asyncio.gather(a.task, b.task)
    again = [Holder(line, name, False, started) for name in ("c", "d")]
    await settle()
    assert started == ["a", "b", "c", "d"]  # both threads free again, none leaked
    for holder in again:
        holder.done.set()
    await asyncio.gather(*(holder.task for holder in again))


async def test_a_waiter_cancelled_as_it_was_given_a_thread_gives_it_back() -> None:
    line = ThreadShares(threads=2, writes=1).line()
    started: list[str] = []
    a, b = Holder(line, "a", False, started), Holder(line, "b", False, started)
    await settle()
    late = Holder(line, "late", False, started)
    await settle()
    a.done.set()
    await asyncio.sleep(0)  # a ends and hands its thread to "late", which has not run yet
    await a.task
    late.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await late.task
    assert started == ["a", "b"]
    b.done.set()
    await b.task
    again = [Holder(line, name, False, started) for name in ("c", "d")]
    await settle()
    assert started == ["a", "b", "c", "d"]
    for holder in again:
        holder.done.set()
    await asyncio.gather(*(holder.task for holder in again))


def test_writes_must_leave_the_reads_a_thread() -> None:
    with pytest.raises(ValueError, match="leave reads a thread"):
        ThreadShares(threads=2, writes=2)
