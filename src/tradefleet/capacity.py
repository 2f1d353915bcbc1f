"""How much the server does at once, and how long anything waits: chosen, not defaulted.

The numbers fit the smallest machine we support (2 cores) and are the same on SQLite and
PostgreSQL. Nothing waits without a bound: a request that cannot get what it needs in
time answers 503 with ``Retry-After``; it never hangs.

- ``API_THREADS`` worker threads run the API's database routes (FastAPI's plain ``def``
  routes); more requests than that queue without blocking the event loop, which keeps
  answering ``/api/health`` and the market routes meanwhile. More threads would not be
  faster on 2 cores: the work is Python, under one interpreter lock.
- ``API_POOL``: one connection per worker thread, so a request never waits for a
  connection another request holds; the pool only shrinks back to ``size`` when idle.
  Its ``timeout`` is a safety net (a leak or a stuck statement), answered with 503.
- ``ENGINE_POOL``: the engine uses one connection at a time (its cycle, a reload, a
  manual close); a few spare for the backtest workers' progress writes are not on it.
- ``HEALTH_POOL``: ``/api/health`` checks the database on a connection of its own, so a
  server busy to its limits still answers its monitor within ``HEALTH_SECONDS``.
- ``SQLITE_API_BUSY_SECONDS``: how long an API write waits for SQLite's write lock (an
  engine cycle holds it while it writes) before answering 503. The engine itself waits
  ``SQLITE_ENGINE_BUSY_SECONDS``: its cycle must not fail for a burst of API writes.
- ``ENGINE_PAUSE_SECONDS``: how long a bot write waits for a running cycle to finish
  (``tradefleet.api.pausing``); a thousand-bot cycle takes well under a second here.
- ``SHUTDOWN_GRACE_SECONDS``: on SIGTERM or Ctrl-C, requests in flight get this long to
  finish before they are cancelled; then the engine stops (its cycle's transaction
  commits or rolls back first) and the process exits.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PoolSize:
    size: int
    overflow: int
    timeout: float  # seconds a checkout waits for a free connection


API_THREADS = 32
API_POOL = PoolSize(size=8, overflow=API_THREADS - 8, timeout=5.0)
ENGINE_POOL = PoolSize(size=2, overflow=3, timeout=30.0)
HEALTH_POOL = PoolSize(size=1, overflow=0, timeout=1.0)
HEALTH_SECONDS = 1.0
SQLITE_API_BUSY_SECONDS = 5.0
SQLITE_ENGINE_BUSY_SECONDS = 30.0
ENGINE_PAUSE_SECONDS = 10.0
SHUTDOWN_GRACE_SECONDS = 3
