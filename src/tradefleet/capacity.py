"""How much the server does at once, and how long anything waits: chosen, not defaulted.

The numbers fit the smallest machine we support (2 cores) and are the same on SQLite and
PostgreSQL. Nothing waits without a bound: a request that cannot get what it needs in
time answers 503 with ``Retry-After``; it never hangs.

- ``API_IN_FLIGHT`` requests are inside the application at once
  (``tradefleet.api.admission``); more wait on the event loop, in order, and answer 503
  after ``ADMISSION_SECONDS``. The loop keeps answering ``/api/health`` meanwhile.
- ``API_POOL``: a connection for each request in flight, plus a few for the backtest
  workers, so no request ever waits for a connection (a wait for a connection held by
  a request that itself waits for a worker thread is how a server deadlocks). Its
  ``timeout`` is only a safety net, answered with 503. On SQLite the API's writers have
  a pool of the same size of their own, whose transactions take the write lock when
  they begin (``BEGIN IMMEDIATE``).
- ``API_THREADS`` worker threads run the API's database routes (FastAPI's plain ``def``
  routes). Fewer threads than requests in flight is on purpose: the work is Python,
  under one interpreter lock, and more threads only take turns more often. Measured
  with ``bench/api_load.py`` on 2 cores, 2 to 16 threads served 118-168 requests/s,
  within the machine's run-to-run noise (about 15 %); 16 had the longest tail, so 4. A
  request in flight that waits for a thread holds no lock anyone else needs.
- ``ENGINE_POOL``: the engine uses one connection at a time (its cycle, a reload, a
  manual close); a few spare for the backtest workers' progress writes are not on it.
- ``HEALTH_POOL``: ``/api/health`` checks the database on a connection of its own, so a
  server busy to its limits still answers its monitor within ``HEALTH_SECONDS``.
- ``SQLITE_API_BUSY_SECONDS``: how long an API write waits for SQLite's write lock (an
  engine cycle holds it while it writes) before answering 503. The engine itself waits
  ``SQLITE_ENGINE_BUSY_SECONDS``: its cycle must not fail for a burst of API writes.
- ``LOCK_WAIT_SECONDS``: how long an API write waits for a bot row that an engine
  cycle holds (PostgreSQL's ``lock_timeout``; on SQLite the wait is for the write lock,
  ``SQLITE_API_BUSY_SECONDS``) before it answers 503; a thousand-bot cycle holds them
  well under a second here.
- ``KEEP_ALIVE_SECONDS``: an idle keep-alive connection is closed after this long. A
  client must drop idle connections sooner (browsers retry an idempotent request the
  server closed under them; other clients should keep their idle expiry below this).
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


API_IN_FLIGHT = 32
ADMISSION_SECONDS = 15.0
API_THREADS = 4
API_POOL = PoolSize(size=API_IN_FLIGHT + 4, overflow=0, timeout=10.0)
ENGINE_POOL = PoolSize(size=2, overflow=3, timeout=30.0)
HEALTH_POOL = PoolSize(size=1, overflow=0, timeout=1.0)
HEALTH_SECONDS = 1.0
SQLITE_API_BUSY_SECONDS = 5.0
SQLITE_ENGINE_BUSY_SECONDS = 30.0
LOCK_WAIT_SECONDS = 5.0
SHUTDOWN_GRACE_SECONDS = 3
KEEP_ALIVE_SECONDS = 20
