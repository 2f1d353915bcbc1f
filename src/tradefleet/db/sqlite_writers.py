"""SQLite's writers take turns in this process before they ask SQLite.

SQLite has one write lock per database. A writer that finds it taken sleeps in SQLite's
busy handler, by steps of up to 100 ms, and tries again: with a few dozen API writers and
the engine's cycle, the lock sat free while everyone slept, and the server answered a
third of the requests it could. So every ``BEGIN IMMEDIATE`` of this process on the same
file first takes one in-process lock (a thread waiting there wakes the moment it is
free), and gives it back when its connection returns to the pool, which is when its
transaction has committed or rolled back. The wait is bounded like SQLite's own; past
it the caller gets SQLite's "database is locked", which the API answers with 503.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import OperationalError

_GATES: dict[str, threading.Lock] = {}
_GATES_LOCK = threading.Lock()
_HELD = "tradefleet_write_gate"  # connection-record key: this connection holds the gate


def _gate_for(database: str) -> threading.Lock:
    with _GATES_LOCK:
        return _GATES.setdefault(database, threading.Lock())


def serialize_writers(engine: Engine, database: str, wait_seconds: float) -> None:
    """Make ``engine``'s transactions ``BEGIN IMMEDIATE``, each after its turn at the
    process-wide gate of ``database``."""
    gate = _gate_for(database)

    def begin(conn: Connection) -> None:
        if not gate.acquire(timeout=wait_seconds):
            raise OperationalError("BEGIN IMMEDIATE", None, Exception("database is locked"))
        conn.info[_HELD] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            conn.info.pop(_HELD, None)
            gate.release()
            raise

    def give_back(_dbapi_connection: Any, record: Any, *_args: Any) -> None:
        if record is not None and record.info.pop(_HELD, None):
            gate.release()

    event.listen(engine, "begin", begin)
    event.listen(engine, "checkin", give_back)
    event.listen(engine, "invalidate", give_back)
